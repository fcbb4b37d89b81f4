/**
 * The model description: Meta-SpikeFormer as a flat list of ops over named values.
 *
 * This is the single copy of the architecture. The CPU reference interprets it op by op, the
 * WebGPU runtime compiles it into kernels, the ONNX export translates it, the energy estimate and
 * the visualizations walk it, and the checkpoint check derives the expected state_dict from the
 * parameters the ops declare. Op and value names are the official PyTorch module names
 * (`block3.0.attn.q_lif`), so spike maps line up with the official code's.
 *
 * Every value is one time step of one image, a `[C, H, W]` map (token layers use `[C, N]` with
 * N = H·W, which is the same memory). Ops apply to each time step independently, except `lif`,
 * which carries its membrane potential from step t to t+1, and `output`, which averages over T.
 * The image input is the same at every step.
 *
 * A checkpoint with task heads (`config.heads`, `training/HEADS.md`) gets them appended after the
 * classification head, in the reference's execution order: the spiking FPN on three backbone
 * taps, the Semantic-FPN segmentation head, the CenterNet detection head. They run per time step
 * like the backbone (one backbone pass feeds every head) and end in their own `output` ops
 * (`graph.outputs`: `seg_logits`, `det_heatmap`, `det_boxreg`).
 */
import type { HeadsConfig, ModelConfig } from './config.ts';
import { selectTasks, type Task } from './tasks.ts';

export type Shape3 = [channels: number, height: number, width: number];

/** A parameter an op reads from the state_dict (or, `used: false`, one that is only expected there). */
export interface ParamSpec {
  key: string;
  shape: number[];
  dtype: 'float32' | 'int64';
  used: boolean;
  /** A BatchNorm running statistic or counter: a buffer, not a learnable parameter. */
  buffer?: boolean;
}

interface OpBase {
  /** Official module name of the op (unique within the graph). */
  name: string;
  inputs: string[];
  output: string;
  params: ParamSpec[];
}

/** Conv2d (or a 1×1 Conv1d, same arithmetic) with zero padding. */
export interface ConvOp extends OpBase {
  kind: 'conv';
  weight: string;
  bias: string | null;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: number;
  groups: number;
}

/** Eval-mode BatchNorm: y = (x − mean) / sqrt(var + eps) · weight + bias, per channel. */
export interface BatchNormOp extends OpBase {
  kind: 'batchnorm';
  /** State_dict prefix: `${prefix}.weight`, `.bias`, `.running_mean`, `.running_var`. */
  prefix: string;
  eps: number;
  /**
   * RepConv's `BNAndPadLayer`: after the BN, pad `pad` pixels on each side with the value the BN
   * gives for a zero input (bias − running_mean·weight/sqrt(running_var+eps)), per channel.
   */
  pad: number;
}

/** Multi-step LIF neuron (tau 2, hard reset to 0, decayed input): spikes are 0/1. */
export interface LifOp extends OpBase {
  kind: 'lif';
  threshold: number;
  /** How the official code shapes this neuron's input: `[T,B,C,H,W]`, `[T,B,C,N]` or `[T,B,C]`. */
  layout: 'chw' | 'cn' | 'c';
}

export interface AddOp extends OpBase {
  kind: 'add';
}

/** Spike-driven self-attention on q, k, v spikes: per head, (q · (kᵀ · v)) · scale. */
export interface AttentionOp extends OpBase {
  kind: 'attention';
  heads: number;
  scale: number;
}

/** Mean over H·W per channel: `[C,H,W]` → `[C,1,1]`. */
export interface SpatialMeanOp extends OpBase {
  kind: 'spatialMean';
}

export interface LinearOp extends OpBase {
  kind: 'linear';
  weight: string;
  bias: string;
  inFeatures: number;
  outFeatures: number;
}

/**
 * A graph output: mean over T of each input (in float32), then the mean of the inputs (the
 * classifier's head and head_kd; the task heads have one input). Any shape.
 */
export interface OutputOp extends OpBase {
  kind: 'output';
}

/**
 * Upsampling ×`factor` of a `[C, H, W]` map. `nearest`: out[y, x] = in[y // f, x // f].
 * `bilinear` (align_corners = false, PyTorch's values), in float32 in a fixed order (HEADS.md):
 * per output row o (columns alike) of an axis of length n, src = max(0, (o + 0.5)/f − 0.5),
 * i0 = floor(src), i1 = min(i0 + 1, n − 1), λ1 = src − i0, λ0 = 1 − λ1, then, rounding after
 * every multiply and add, out = λ0y·(λ0x·z[i0,j0] + λ1x·z[i0,j1]) + λ1y·(λ0x·z[i1,j0] + λ1x·z[i1,j1]).
 */
export interface UpsampleOp extends OpBase {
  kind: 'upsample';
  mode: 'nearest' | 'bilinear';
  factor: 2;
}

export type Op = ConvOp | BatchNormOp | LifOp | AddOp | AttentionOp | SpatialMeanOp | LinearOp | OutputOp | UpsampleOp;

/** Names of the graph outputs: `logits` always, the task heads' maps when built. */
export type GraphOutputName = 'logits' | 'seg_logits' | 'det_heatmap' | 'det_boxreg';

export interface ModelGraph {
  config: ModelConfig;
  inputHeight: number;
  inputWidth: number;
  /** The value holding the normalized image (`[inChannels, H, W]`). */
  input: string;
  /** Ops in execution order (the official code's order). */
  ops: Op[];
  /** Shape of every value. */
  shapes: Map<string, Shape3>;
  /** The value holding the logits (`[classes, 1, 1]`, already averaged over T). */
  output: string;
  /**
   * Every output by name, averaged over T: `logits` (= `output`), and with the task heads
   * `seg_logits` `[classes, H/4, W/4]`, `det_heatmap` `[classes, H/4, W/4]` (centre logits),
   * `det_boxreg` `[4, H/4, W/4]` (l, t, r, b in cells).
   */
  outputs: Partial<Record<GraphOutputName, string>> & { logits: string };
  /** The tasks this graph computes (`classify` always). */
  tasks: Task[];
}

export interface GraphOptions {
  /**
   * Tasks to build (default: every task the config has heads for). `classify` is always built;
   * asking for a head the config does not have throws.
   */
  tasks?: readonly Task[];
}

export const BN_EPS = 1e-5;
export const ATTENTION_SCALE = 0.125;
export const LIF_THRESHOLD = 1.0;
export const ATTENTION_LIF_THRESHOLD = 0.5;

/** Builds the graph for one input size (H and W divisible by 16). */
export function buildModelGraph(config: ModelConfig, inputHeight: number, inputWidth: number, options: GraphOptions = {}): ModelGraph {
  if (!(inputHeight > 0 && inputWidth > 0 && inputHeight % 16 === 0 && inputWidth % 16 === 0)) {
    throw new Error(`input size ${inputHeight}x${inputWidth}: height and width must be positive multiples of 16`);
  }
  const tasks = selectTasks(config, options.tasks);
  const b = new GraphBuilder(config, inputHeight, inputWidth);
  const [e0, e1, e2, e3] = config.embedDims;
  /** Output of the last block of each stage 1..4 (the FPN taps). */
  const stages: string[] = [];
  let x = 'input';
  x = b.downsample('downsample1_1', x, e0 / 2, 7, 2, 3, true);
  x = b.convBlock('ConvBlock1_1.0', x);
  x = b.downsample('downsample1_2', x, e0, 3, 2, 1, false);
  x = b.convBlock('ConvBlock1_2.0', x);
  stages[1] = x;
  x = b.downsample('downsample2', x, e1, 3, 2, 1, false);
  x = b.convBlock('ConvBlock2_1.0', x);
  x = b.convBlock('ConvBlock2_2.0', x);
  stages[2] = x;
  x = b.downsample('downsample3', x, e2, 3, 2, 1, false);
  for (let i = 0; i < config.depths[0]; i++) x = b.transformerBlock(`block3.${i}`, x);
  stages[3] = x;
  x = b.downsample('downsample4', x, e3, 3, 1, 1, false);
  for (let i = 0; i < config.depths[1]; i++) x = b.transformerBlock(`block4.${i}`, x);
  stages[4] = x;
  // Head: x.flatten(3).mean(3) → lif → Linear (→ and head_kd) → mean over T.
  x = b.spatialMean('pool', x);
  const s = b.lif('lif', x, LIF_THRESHOLD, 'c');
  const heads = [b.linear('head', s, config.numClasses)];
  if (config.kd) heads.push(b.linear('head_kd', s, config.numClasses));
  const out = b.output('logits', heads);
  const outputs: ModelGraph['outputs'] = { logits: out };
  if (config.heads && tasks.some((t) => t !== 'classify')) {
    Object.assign(outputs, b.taskHeads(config.heads, stages, tasks));
  }
  return {
    config,
    inputHeight,
    inputWidth,
    input: 'input',
    ops: b.ops,
    shapes: b.shapes,
    output: out,
    outputs,
    tasks,
  };
}

/** Every tensor the official state_dict of this config holds (task heads included), in graph order. */
export function expectedParameters(config: ModelConfig): ParamSpec[] {
  return buildModelGraph(config, 16, 16).ops.flatMap((op) => op.params);
}

/** Learnable parameters (weights and biases; BatchNorm running statistics excluded), as the paper counts them. */
export function countLearnableParameters(config: ModelConfig): number {
  return expectedParameters(config)
    .filter((p) => !p.buffer)
    .reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** True when `value` is produced by a neuron (holds only 0/1). */
export function isSpikeValue(graph: ModelGraph, value: string): boolean {
  return graph.ops.some((op) => op.kind === 'lif' && op.output === value);
}

/**
 * Stages of segmentation scale head `i` (heads.py `SemanticFPNHead`): max(1, log2(stride_i / stride_0)),
 * each followed by a bilinear ×2 when level i is coarser than level 0.
 */
export function segStageCount(levels: readonly { stride: number }[], i: number): number {
  return Math.max(1, Math.round(Math.log2(levels[i].stride / levels[0].stride)));
}

export function lifOps(graph: ModelGraph): LifOp[] {
  return graph.ops.filter((op): op is LifOp => op.kind === 'lif');
}

class GraphBuilder {
  readonly ops: Op[] = [];
  readonly shapes = new Map<string, Shape3>();

  constructor(private readonly config: ModelConfig, h: number, w: number) {
    this.shapes.set('input', [config.inChannels, h, w]);
  }

  private shape(value: string): Shape3 {
    const s = this.shapes.get(value);
    if (!s) throw new Error(`graph: unknown value ${value}`);
    return s;
  }

  private add<T extends Op>(op: T, shape: Shape3): string {
    if (this.shapes.has(op.output)) throw new Error(`graph: value ${op.output} defined twice`);
    this.ops.push(op);
    this.shapes.set(op.output, shape);
    return op.output;
  }

  conv(name: string, input: string, outChannels: number, kernel: number, stride: number, pad: number,
    opts: { groups?: number; bias?: boolean; conv1d?: boolean } = {}): string {
    const [c, h, w] = this.shape(input);
    const groups = opts.groups ?? 1;
    const weightShape = opts.conv1d ? [outChannels, c / groups, kernel] : [outChannels, c / groups, kernel, kernel];
    const params: ParamSpec[] = [{ key: `${name}.weight`, shape: weightShape, dtype: 'float32', used: true }];
    if (opts.bias) params.push({ key: `${name}.bias`, shape: [outChannels], dtype: 'float32', used: true });
    const oh = Math.floor((h + 2 * pad - kernel) / stride) + 1;
    const ow = Math.floor((w + 2 * pad - kernel) / stride) + 1;
    return this.add<ConvOp>({
      kind: 'conv', name, inputs: [input], output: name, params,
      weight: `${name}.weight`, bias: opts.bias ? `${name}.bias` : null,
      inChannels: c, outChannels, kernel, stride, pad, groups,
    }, [outChannels, oh, ow]);
  }

  batchNorm(prefix: string, input: string, pad = 0): string {
    const [c, h, w] = this.shape(input);
    const vec = (k: string, buffer = false): ParamSpec => ({ key: `${prefix}.${k}`, shape: [c], dtype: 'float32', used: true, buffer });
    return this.add<BatchNormOp>({
      kind: 'batchnorm', name: prefix, inputs: [input], output: prefix, prefix, eps: BN_EPS, pad,
      params: [vec('weight'), vec('bias'), vec('running_mean', true), vec('running_var', true),
        { key: `${prefix}.num_batches_tracked`, shape: [], dtype: 'int64', used: false, buffer: true }],
    }, [c, h + 2 * pad, w + 2 * pad]);
  }

  lif(name: string, input: string, threshold: number, layout: LifOp['layout']): string {
    return this.add<LifOp>({ kind: 'lif', name, inputs: [input], output: name, params: [], threshold, layout }, this.shape(input));
  }

  residual(name: string, a: string, b: string): string {
    return this.add<AddOp>({ kind: 'add', name, inputs: [a, b], output: name, params: [] }, this.shape(a));
  }

  spatialMean(name: string, input: string): string {
    const [c] = this.shape(input);
    return this.add<SpatialMeanOp>({ kind: 'spatialMean', name, inputs: [input], output: name, params: [] }, [c, 1, 1]);
  }

  linear(name: string, input: string, outFeatures: number): string {
    const [c] = this.shape(input);
    return this.add<LinearOp>({
      kind: 'linear', name, inputs: [input], output: name,
      params: [
        { key: `${name}.weight`, shape: [outFeatures, c], dtype: 'float32', used: true },
        { key: `${name}.bias`, shape: [outFeatures], dtype: 'float32', used: true },
      ],
      weight: `${name}.weight`, bias: `${name}.bias`, inFeatures: c, outFeatures,
    }, [outFeatures, 1, 1]);
  }

  output(name: string, inputs: string[]): string {
    return this.add<OutputOp>({ kind: 'output', name, inputs, output: name, params: [] }, this.shape(inputs[0]));
  }

  upsample(name: string, input: string, mode: UpsampleOp['mode']): string {
    const [c, h, w] = this.shape(input);
    return this.add<UpsampleOp>({ kind: 'upsample', name, inputs: [input], output: name, params: [], mode, factor: 2 }, [c, 2 * h, 2 * w]);
  }

  /** `SpikeConvBN` (heads.py): LIF → Conv2d k×k (no bias, zero padding k // 2) → BN. */
  spikeConvBn(name: string, x: string, out: number, kernel: number): string {
    x = this.lif(`${name}.lif`, x, LIF_THRESHOLD, 'chw');
    x = this.conv(`${name}.conv`, x, out, kernel, 1, kernel >> 1);
    return this.batchNorm(`${name}.bn`, x);
  }

  /**
   * The task heads of `training/HEADS.md` on the backbone's stage outputs `stages[1..4]`:
   * spiking FPN, then the segmentation head and/or the detection head. Returns their outputs.
   */
  taskHeads(heads: HeadsConfig, stages: string[], tasks: readonly Task[]): Partial<Record<GraphOutputName, string>> {
    const { fpn } = heads;
    const outputs: Partial<Record<GraphOutputName, string>> = {};
    // FPN: l_i = lateral_i(c_i); m_last = l_last; m_i = l_i + nearest_up2(m_{i+1}); p_i = output_i(m_i).
    const lat = fpn.levels.map((level, i) => this.spikeConvBn(`fpn.lateral.${i}`, stages[level.stage], fpn.channels, 1));
    const merged = [...lat];
    for (let i = lat.length - 2; i >= 0; i--) {
      merged[i] = this.residual(`fpn.merge.${i}`, lat[i], this.upsample(`fpn.up.${i}`, merged[i + 1], 'nearest'));
    }
    const p = merged.map((m, i) => this.spikeConvBn(`fpn.output.${i}`, m, fpn.channels, 3));
    if (heads.segment && tasks.includes('segment')) {
      const seg = heads.segment;
      // Per level: stages U = LIF → 3×3 conv → BN (→ bilinear ×2 if coarser than level 0) down to stride 4; summed.
      let sum: string | null = null;
      fpn.levels.forEach((level, i) => {
        let y = p[i];
        const up = level.stride > fpn.levels[0].stride;
        for (let j = 0; j < segStageCount(fpn.levels, i); j++) {
          y = this.spikeConvBn(`seg_head.scale_heads.${i}.${j}`, y, seg.channels, 3);
          if (up) y = this.upsample(`seg_head.scale_heads.${i}.${j}.up`, y, 'bilinear');
        }
        sum = sum === null ? y : this.residual(`seg_head.sum.${i}`, sum, y);
      });
      const s = this.lif('seg_head.cls_lif', sum!, LIF_THRESHOLD, 'chw');
      const logits = this.conv('seg_head.conv_seg', s, seg.numClasses, 1, 1, 0, { bias: true });
      outputs.seg_logits = this.output('seg_logits', [logits]);
    }
    if (heads.detect && tasks.includes('detect')) {
      const det = heads.detect;
      const d = this.spikeConvBn('det_head.stem', p[0], det.channels, 3);
      const s = this.lif('det_head.out_lif', d, LIF_THRESHOLD, 'chw');
      const heat = this.conv('det_head.cls_conv', s, det.numClasses, 1, 1, 0, { bias: true });
      const reg = this.conv('det_head.reg_conv', s, 4, 1, 1, 0, { bias: true });
      outputs.det_heatmap = this.output('det_heatmap', [heat]);
      outputs.det_boxreg = this.output('det_boxreg', [reg]);
    }
    return outputs;
  }

  /** `MS_DownSampling`: [LIF →] Conv2d with bias → BN. */
  downsample(name: string, x: string, out: number, kernel: number, stride: number, pad: number, first: boolean): string {
    if (!first) x = this.lif(`${name}.encode_lif`, x, LIF_THRESHOLD, 'chw');
    x = this.conv(`${name}.encode_conv`, x, out, kernel, stride, pad, { bias: true });
    return this.batchNorm(`${name}.encode_bn`, x);
  }

  /** `SepConv`: LIF → pw 1×1 C→2C → BN → LIF → dw 7×7 → pw 1×1 2C→C → BN. */
  sepConv(name: string, x: string): string {
    const [c] = this.shape(x);
    x = this.lif(`${name}.lif1`, x, LIF_THRESHOLD, 'chw');
    x = this.conv(`${name}.pwconv1`, x, 2 * c, 1, 1, 0);
    x = this.batchNorm(`${name}.bn1`, x);
    x = this.lif(`${name}.lif2`, x, LIF_THRESHOLD, 'chw');
    x = this.conv(`${name}.dwconv`, x, 2 * c, 7, 1, 3, { groups: 2 * c });
    x = this.conv(`${name}.pwconv2`, x, c, 1, 1, 0);
    return this.batchNorm(`${name}.bn2`, x);
  }

  /** `MS_ConvBlock`: x += SepConv(x); x += BN(conv3×3(LIF(BN(conv3×3(LIF(x)))))). */
  convBlock(name: string, x: string): string {
    const [c] = this.shape(x);
    x = this.residual(`${name}.Conv.residual`, x, this.sepConv(`${name}.Conv`, x));
    let y = this.lif(`${name}.lif1`, x, LIF_THRESHOLD, 'chw');
    y = this.conv(`${name}.conv1`, y, c * this.config.mlpRatio, 3, 1, 1);
    y = this.batchNorm(`${name}.bn1`, y);
    y = this.lif(`${name}.lif2`, y, LIF_THRESHOLD, 'chw');
    y = this.conv(`${name}.conv2`, y, c, 3, 1, 1);
    y = this.batchNorm(`${name}.bn2`, y);
    return this.residual(`${name}.residual`, x, y);
  }

  /**
   * `nn.Sequential(RepConv(C, C), BatchNorm2d(C))`: 1×1 conv → BN and pad with BN(0) → 3×3
   * depthwise (no padding) → 1×1 conv → BN, then the outer BN.
   */
  repConvBn(name: string, x: string): string {
    const [c] = this.shape(x);
    x = this.conv(`${name}.0.body.0`, x, c, 1, 1, 0);
    x = this.batchNorm(`${name}.0.body.1.bn`, x, 1);
    x = this.conv(`${name}.0.body.2.0`, x, c, 3, 1, 0, { groups: c });
    x = this.conv(`${name}.0.body.2.1`, x, c, 1, 1, 0);
    x = this.batchNorm(`${name}.0.body.2.2`, x);
    return this.batchNorm(`${name}.1`, x);
  }

  /** `MS_Attention_RepConv_qkv_id`: spike-driven self-attention, no softmax. */
  attention(name: string, x: string): string {
    const s = this.lif(`${name}.head_lif`, x, LIF_THRESHOLD, 'chw');
    const q = this.lif(`${name}.q_lif`, this.repConvBn(`${name}.q_conv`, s), LIF_THRESHOLD, 'chw');
    const k = this.lif(`${name}.k_lif`, this.repConvBn(`${name}.k_conv`, s), LIF_THRESHOLD, 'chw');
    const v = this.lif(`${name}.v_lif`, this.repConvBn(`${name}.v_conv`, s), LIF_THRESHOLD, 'chw');
    const a = this.add<AttentionOp>({
      kind: 'attention', name: `${name}.kv`, inputs: [q, k, v], output: `${name}.kv`, params: [],
      heads: this.config.numHeads, scale: ATTENTION_SCALE,
    }, this.shape(q));
    const sa = this.lif(`${name}.attn_lif`, a, ATTENTION_LIF_THRESHOLD, 'cn');
    return this.repConvBn(`${name}.proj_conv`, sa);
  }

  /** `MS_MLP`: LIF → Conv1d C→4C (bias) → BN1d → LIF → Conv1d 4C→C (bias) → BN1d. */
  mlp(name: string, x: string): string {
    const [c] = this.shape(x);
    x = this.lif(`${name}.fc1_lif`, x, LIF_THRESHOLD, 'cn');
    x = this.conv(`${name}.fc1_conv`, x, c * this.config.mlpRatio, 1, 1, 0, { bias: true, conv1d: true });
    x = this.batchNorm(`${name}.fc1_bn`, x);
    x = this.lif(`${name}.fc2_lif`, x, LIF_THRESHOLD, 'cn');
    x = this.conv(`${name}.fc2_conv`, x, c, 1, 1, 0, { bias: true, conv1d: true });
    return this.batchNorm(`${name}.fc2_bn`, x);
  }

  /** `MS_Block`: x += attn(x); x += mlp(x). */
  transformerBlock(name: string, x: string): string {
    x = this.residual(`${name}.attn.residual`, x, this.attention(`${name}.attn`, x));
    return this.residual(`${name}.mlp.residual`, x, this.mlp(`${name}.mlp`, x));
  }
}
