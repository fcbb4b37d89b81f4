/**
 * ONNX export of a Meta-SpikeFormer: translates the model graph (`graph.ts`, the one copy of the
 * architecture) op by op into an ONNX ModelProto (opset 17, default domain only), so that ONNX
 * Runtime (`wasm`/`webgpu` in browsers, onnxruntime-node) runs the model.
 *
 * Layout. Time goes into the batch dimension: a value is `[T, C, H, W]`, or `[1, C, H, W]` while it
 * is the same at every step (the image `input` `[1, 3, H, W]` and everything computed from it alone,
 * i.e. the stem). Convs, BatchNorms and adds run on all steps at once (a `[1,…]` value broadcasts
 * against a `[T,…]` one); only a neuron unrolls over T (Split, then per step the LIF update, then
 * Concat). So the image is never tiled: the stem runs once, and the first neuron reads the same
 * `[1,…]` input at every step.
 *
 * Numerics follow the CPU reference (`runtime/cpu/ops.ts`), which is the spec:
 *  - BatchNorm is written as Mul by `scale` and Add of `shift`, with scale/shift computed by the
 *    reference's `batchNormAffine` (float32), i.e. y = fl(fl(x·scale) + shift) as the reference and
 *    PyTorch compute it. RepConv's BN-and-pad pads the BN *input* with 0 first (Pad, constant mode):
 *    0·scale + shift = shift exactly, the border value the official `BNAndPadLayer` writes.
 *  - LIF, per step, from v = 0: h = v + (x_t − v)·0.5 (Sub, Mul, Add: the float32 operations of
 *    the reference in its order; ·0.5 is exact), s = (h ≥ threshold), v = Where(s, 0, h). At t = 0
 *    this is h = x·0.5.
 *  - Attention products are of 0/1 values, so every MatMul result is an exact integer (< 2^24) in
 *    any summation order: per head, with q, k, v as `[d, N]` (the official channel layout),
 *    out = (v·kᵀ)·q = ((kᵀv)ᵀ·q), which is `[d, N]` without transposing q or the result back; then
 *    ·0.125 (exact).
 *  - Convs, ReduceMean and Gemm round as ONNX Runtime's kernels do (the reference sums in float64);
 *    on the reference models that moves no spike (tests/export); on a 15M-size model it now and
 *    then flips a neuron sitting within ~1e-6 of its threshold (see onnxRuntimeBackend.ts).
 *
 * Ops (all in ORT's CPU/wasm and WebGPU execution providers, which ran every node of it): Conv,
 * Mul, Add, Sub, Div, Pad, Split, GreaterOrEqual, Cast, Where, Concat, ReduceSum, ReduceMean,
 * Reshape, Transpose, MatMul, Flatten, Gemm; with task heads also Gather (upsampling).
 *
 * Outputs: `logits` `[1, classes]` (each head's mean over T, then the mean of head and head_kd),
 * with task heads `seg_logits`, `det_heatmap`, `det_boxreg` `[1, C, H/4, W/4]` (means over T), and
 * for every neuron layer `spikes/<official name>` `[T]`: its spike count per time step (float32;
 * exact while a layer has < 2^24 neurons per step, which the export checks), so sparsity views work
 * on this backend too.
 *
 * ONNX Runtime's graph optimizations (basic level and up) fold a Mul/Add after a Conv into the
 * conv's weights and bias (ConvMulFusion/ConvAddFusion), which re-rounds BN outputs;
 * `runtime/onnx/onnxRuntimeBackend.ts` turns those rules off and says why.
 */
import { batchNormAffine } from '../model/layerMath.ts';
import type { ModelWeights } from '../model/weights.ts';
import type { LifOp, ModelGraph, Op, UpsampleOp } from '../model/graph.ts';
import { bilinearTap } from '../model/layerMath.ts';
import {
  DataType, encodeModel, type AttributeValue, type NodeProto, type TensorProto, type ValueInfoProto,
} from './protobuf.ts';

export const ONNX_OPSET = 17;
/** IR version that goes with opset 17 (ONNX 1.12). */
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT = 'input';
export const ONNX_LOGITS = 'logits';
/** Metadata key holding the model config as JSON (with the input size and T the graph was built for). */
export const ONNX_CONFIG_METADATA_KEY = 'spikeformer.config';

/** Name of the graph output holding a neuron layer's spike count per time step. */
export function spikeCountOutput(layer: string): string {
  return `spikes/${layer}`;
}

export interface OnnxExportOptions {
  /** Add the per-layer `spikes/<name>` outputs (default true). */
  spikeCounts?: boolean;
  /**
   * Also output every neuron layer's full spike map under its official name (`[T, C, H, W]`, float
   * 0/1; default false). For bit-exact comparisons in tests: it makes every map a graph output.
   */
  spikeMaps?: boolean;
  /** `producer_version` written into the model. */
  producerVersion?: string;
}

/** A value of the model graph in the ONNX graph: its name and whether it varies over T. */
interface Value {
  name: string;
  /** `[T, …]` when true, `[1, …]` (the same at every step) when false. */
  perStep: boolean;
}

class OnnxGraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`onnx export: name ${name} used twice`);
    this.names.add(name);
    return name;
  }

  /** Adds a node with one output named `output`; returns that name. */
  node(opType: string, name: string, inputs: string[], output: string, attributes?: Record<string, AttributeValue>): string {
    this.nodes.push({ opType, name: this.claim(`node:${name}`), inputs, outputs: [this.claim(output)], attributes });
    return output;
  }

  /** Adds a node with several outputs. */
  nodeN(opType: string, name: string, inputs: string[], outputs: string[], attributes?: Record<string, AttributeValue>): string[] {
    this.nodes.push({ opType, name: this.claim(`node:${name}`), inputs, outputs: outputs.map((o) => this.claim(o)), attributes });
    return outputs;
  }

  floatTensor(name: string, dims: number[], data: Float32Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`onnx export: ${name} has ${data.length} values, expected [${dims}]`);
    this.initializers.push({ name: this.claim(name), dataType: DataType.FLOAT, dims, rawData: bytesOf(data) });
    return name;
  }

  /** A float32 scalar constant (shared by every node that uses the same value). */
  scalar(value: number): string {
    const key = `f32:${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const/${value}`;
      this.floatTensor(name, [], Float32Array.of(value));
      this.constants.set(key, name);
    }
    return name;
  }

  /** An int64 vector constant (shapes, axes, pads). */
  int64s(values: number[]): string {
    const key = `i64:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const/i64[${values.join(',')}]`;
      const data = BigInt64Array.from(values, (v) => BigInt(v));
      this.initializers.push({ name: this.claim(name), dataType: DataType.INT64, dims: [values.length], rawData: bytesOf(data) });
      this.constants.set(key, name);
    }
    return name;
  }
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Translates the graph into an ONNX model (serialized ModelProto bytes). */
export function exportOnnx(graph: ModelGraph, weights: ModelWeights, options: OnnxExportOptions = {}): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error('onnx export needs a little-endian platform (raw_data is little-endian)');
  const T = graph.config.timeSteps;
  const withCounts = options.spikeCounts ?? true;
  const b = new OnnxGraphBuilder();
  const values = new Map<string, Value>([[graph.input, { name: ONNX_INPUT, perStep: false }]]);
  const outputs: ValueInfoProto[] = [];
  const spikeOutputs: ValueInfoProto[] = [];

  const weight = (key: string): Float32Array => {
    const w = weights.get(key);
    if (!w) throw new Error(`onnx export: weight ${key} is missing`);
    return w;
  };
  const input = (op: Op, i: number): Value => {
    const v = values.get(op.inputs[i]);
    if (!v) throw new Error(`onnx export: ${op.name} reads ${op.inputs[i]} before it is computed`);
    return v;
  };
  const shapeOf = (value: string) => graph.shapes.get(value)!;

  for (const op of graph.ops) {
    switch (op.kind) {
      case 'conv': {
        const x = input(op, 0);
        const dims = [op.outChannels, op.inChannels / op.groups, op.kernel, op.kernel];
        const inputs = [x.name, b.floatTensor(op.weight, dims, weight(op.weight))];
        if (op.bias) inputs.push(b.floatTensor(op.bias, [op.outChannels], weight(op.bias)));
        b.node('Conv', op.name, inputs, op.output, {
          kernel_shape: [op.kernel, op.kernel], strides: [op.stride, op.stride],
          pads: [op.pad, op.pad, op.pad, op.pad], group: op.groups, dilations: [1, 1],
        });
        values.set(op.output, { name: op.output, perStep: x.perStep });
        break;
      }
      case 'batchnorm': {
        const x = input(op, 0);
        const [c] = shapeOf(op.inputs[0]);
        const { scale, shift } = batchNormAffine({
          weight: weight(`${op.prefix}.weight`), bias: weight(`${op.prefix}.bias`),
          runningMean: weight(`${op.prefix}.running_mean`), runningVar: weight(`${op.prefix}.running_var`), eps: op.eps,
        });
        let y = x.name;
        if (op.pad > 0) {
          const p = op.pad;
          y = b.node('Pad', `${op.name}/pad`, [y, b.int64s([0, 0, p, p, 0, 0, p, p])], `${op.name}/padded`, { mode: 'constant' });
        }
        y = b.node('Mul', `${op.name}/scale`, [y, b.floatTensor(`${op.prefix}/scale`, [1, c, 1, 1], scale)], `${op.name}/scaled`);
        b.node('Add', `${op.name}/shift`, [y, b.floatTensor(`${op.prefix}/shift`, [1, c, 1, 1], shift)], op.output);
        values.set(op.output, { name: op.output, perStep: x.perStep });
        break;
      }
      case 'lif': {
        const [c, h, w] = shapeOf(op.output);
        if (withCounts && c * h * w >= 2 ** 24) {
          throw new Error(`onnx export: ${op.name} has ${c * h * w} neurons per step; float32 spike counts are exact only below 2^24 (use a smaller input)`);
        }
        const spikes = lifNode(b, op, input(op, 0), T);
        values.set(op.output, { name: spikes, perStep: true });
        if (options.spikeMaps) {
          spikeOutputs.push({ name: spikes, elemType: DataType.FLOAT, shape: [T, c, h, w] });
        }
        if (withCounts) {
          const count = b.node('ReduceSum', `${op.name}/count`, [spikes, b.int64s([1, 2, 3])], spikeCountOutput(op.name), { keepdims: 0 });
          spikeOutputs.push({ name: count, elemType: DataType.FLOAT, shape: [T] });
        }
        break;
      }
      case 'add': {
        const [x, y] = [input(op, 0), input(op, 1)];
        b.node('Add', op.name, [x.name, y.name], op.output);
        values.set(op.output, { name: op.output, perStep: x.perStep || y.perStep });
        break;
      }
      case 'attention': {
        const [q, k, v] = [input(op, 0), input(op, 1), input(op, 2)];
        const [c, h, w] = shapeOf(op.inputs[0]);
        const batch = T; // q, k and v are neuron outputs: [T, C, H, W]
        const heads = b.int64s([batch, op.heads, c / op.heads, h * w]);
        const split = (x: Value, tag: string) => b.node('Reshape', `${op.name}/${tag}`, [x.name, heads], `${op.name}/${tag}`);
        const [qh, kh, vh] = [split(q, 'q'), split(k, 'k'), split(v, 'v')];
        const kt = b.node('Transpose', `${op.name}/k_t`, [kh], `${op.name}/k_t`, { perm: [0, 1, 3, 2] });
        const kvT = b.node('MatMul', `${op.name}/kv_t`, [vh, kt], `${op.name}/kv_t`); // (kᵀv)ᵀ = v·kᵀ, [d, d]
        const out = b.node('MatMul', `${op.name}/out`, [kvT, qh], `${op.name}/out`); // [d, N]
        const scaled = b.node('Mul', `${op.name}/scale`, [out, b.scalar(op.scale)], `${op.name}/scaled`);
        b.node('Reshape', `${op.name}/merge`, [scaled, b.int64s([batch, c, h, w])], op.output);
        values.set(op.output, { name: op.output, perStep: true });
        break;
      }
      case 'spatialMean': {
        const x = input(op, 0);
        b.node('ReduceMean', op.name, [x.name], op.output, { axes: [2, 3], keepdims: 1 });
        values.set(op.output, { name: op.output, perStep: x.perStep });
        break;
      }
      case 'linear': {
        const x = input(op, 0);
        const flat = b.node('Flatten', `${op.name}/flatten`, [x.name], `${op.name}/input`, { axis: 1 });
        b.node('Gemm', op.name, [
          flat,
          b.floatTensor(op.weight, [op.outFeatures, op.inFeatures], weight(op.weight)),
          b.floatTensor(op.bias, [op.outFeatures], weight(op.bias)),
        ], op.output, { transB: 1 });
        values.set(op.output, { name: op.output, perStep: x.perStep });
        break;
      }
      case 'output': {
        const [c, h, w] = shapeOf(op.output);
        const isLogits = op.output === graph.output;
        const name = isLogits ? ONNX_LOGITS : op.output;
        const last = op.inputs.length === 1 ? name : null;
        const means = op.inputs.map((_, i) => {
          const x = input(op, i);
          return b.node('ReduceMean', `${op.inputs[i]}/time_mean`, [x.name], last ?? `${op.inputs[i]}/time_mean`, { axes: [0], keepdims: 1 });
        });
        if (!last) {
          // A chain of Adds (the reference's running sum), not Sum: ORT's WebGPU EP has no Sum kernel.
          let sum = means[0];
          for (let i = 1; i < means.length; i++) sum = b.node('Add', `${op.name}/sum${i}`, [sum, means[i]], `${op.name}/sum${i}`);
          b.node('Div', `${op.name}/mean`, [sum, b.scalar(means.length)], name);
        }
        outputs.push({ name, elemType: DataType.FLOAT, shape: isLogits ? [1, c] : [1, c, h, w] });
        values.set(op.output, { name, perStep: false });
        break;
      }
      case 'upsample': {
        const x = input(op, 0);
        upsampleNodes(b, op, x.name, shapeOf(op.inputs[0]));
        values.set(op.output, { name: op.output, perStep: x.perStep });
        break;
      }
      default:
        throw new Error(`onnx export: op kind ${(op as Op).kind} is not supported`);
    }
  }
  if (!outputs.some((o) => o.name === ONNX_LOGITS)) throw new Error('onnx export: the graph has no output op');

  const [inC, inH, inW] = shapeOf(graph.input);
  const config = { ...graph.config, inputHeight: graph.inputHeight, inputWidth: graph.inputWidth };
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'spikeformer',
    producerVersion: options.producerVersion ?? '',
    docString: `Meta-SpikeFormer (Spike-driven Transformer V2), embed dims ${graph.config.embedDims.join('/')}, ` +
      `T=${T}, input ${inH}x${inW}; outputs logits and per-layer spike counts per time step`,
    graph: {
      name: 'meta_spikeformer',
      nodes: b.nodes,
      initializers: b.initializers,
      inputs: [{ name: ONNX_INPUT, elemType: DataType.FLOAT, shape: [1, inC, inH, inW] }],
      outputs: [...outputs, ...spikeOutputs],
    },
    metadata: { [ONNX_CONFIG_METADATA_KEY]: JSON.stringify(config) },
  });
}

/**
 * Upsampling ×2 of `[N, C, H, W]` with Gathers (exact copies) and, for bilinear, Mul/Add in the
 * reference's order (HEADS.md): top = w0x·z[i0,j0] + w1x·z[i0,j1] (rows i0), bot likewise (rows
 * i1), out = w0y·top + w1y·bot, each Mul and Add one float32 rounding as in the CPU reference.
 */
function upsampleNodes(b: OnnxGraphBuilder, op: UpsampleOp, x: string, [, h, w]: [number, number, number]): void {
  const n = op.name;
  const rows = Array.from({ length: 2 * h }, (_, o) => bilinearTap(o, h, 2));
  const cols = Array.from({ length: 2 * w }, (_, o) => bilinearTap(o, w, 2));
  const gather = (input: string, index: number[], axis: number, tag: string, output = `${n}/${tag}`) =>
    b.node('Gather', `${n}/${tag}`, [input, b.int64s(index)], output, { axis });
  if (op.mode === 'nearest') {
    const r = gather(x, rows.map((_, o) => o >> 1), 2, 'rows');
    gather(r, cols.map((_, o) => o >> 1), 3, 'cols', op.output);
    return;
  }
  const wx0 = b.floatTensor(`${n}/wx0`, [2 * w], Float32Array.from(cols, (t) => t.w0));
  const wx1 = b.floatTensor(`${n}/wx1`, [2 * w], Float32Array.from(cols, (t) => t.w1));
  const wy0 = b.floatTensor(`${n}/wy0`, [2 * h, 1], Float32Array.from(rows, (t) => t.w0));
  const wy1 = b.floatTensor(`${n}/wy1`, [2 * h, 1], Float32Array.from(rows, (t) => t.w1));
  const r0 = gather(x, rows.map((t) => t.i0), 2, 'r0');
  const r1 = gather(x, rows.map((t) => t.i1), 2, 'r1');
  const horizontal = (r: string, tag: string) => {
    const a = b.node('Mul', `${n}/${tag}a`, [gather(r, cols.map((t) => t.i0), 3, `${tag}j0`), wx0], `${n}/${tag}a`);
    const c = b.node('Mul', `${n}/${tag}b`, [gather(r, cols.map((t) => t.i1), 3, `${tag}j1`), wx1], `${n}/${tag}b`);
    return b.node('Add', `${n}/${tag}`, [a, c], `${n}/${tag}`);
  };
  const top = b.node('Mul', `${n}/top_w`, [horizontal(r0, 'top'), wy0], `${n}/top_w`);
  const bot = b.node('Mul', `${n}/bot_w`, [horizontal(r1, 'bot'), wy1], `${n}/bot_w`);
  b.node('Add', n, [top, bot], op.output);
}

/**
 * One neuron layer over T steps; returns the name of its `[T, …]` spike tensor (float 0/1).
 * Per step, exactly the reference's update: h = v + (x_t − v)·0.5; s = h ≥ θ; v = s ? 0 : h.
 */
function lifNode(b: OnnxGraphBuilder, op: LifOp, x: Value, T: number): string {
  const n = op.name;
  const threshold = b.scalar(op.threshold);
  const half = b.scalar(0.5);
  const steps = !x.perStep || T === 1
    ? Array.from({ length: T }, () => x.name)
    : b.nodeN('Split', `${n}/split`, [x.name], Array.from({ length: T }, (_, t) => `${n}/x${t}`), { axis: 0 });
  const spikes: string[] = [];
  let v: string | null = null;
  for (let t = 0; t < T; t++) {
    let h: string;
    if (v === null) {
      h = b.node('Mul', `${n}/h${t}`, [steps[t], half], `${n}/h${t}`); // v = 0: h = x·0.5
    } else {
      const d = b.node('Sub', `${n}/d${t}`, [steps[t], v], `${n}/d${t}`);
      const dh = b.node('Mul', `${n}/dh${t}`, [d, half], `${n}/dh${t}`);
      h = b.node('Add', `${n}/h${t}`, [v, dh], `${n}/h${t}`);
    }
    const fire = b.node('GreaterOrEqual', `${n}/fire${t}`, [h, threshold], `${n}/fire${t}`);
    spikes.push(b.node('Cast', `${n}/s${t}`, [fire], T === 1 ? n : `${n}/s${t}`, { to: DataType.FLOAT }));
    if (t + 1 < T) v = b.node('Where', `${n}/v${t}`, [fire, b.scalar(0), h], `${n}/v${t}`); // hard reset to 0
  }
  return T === 1 ? spikes[0] : b.node('Concat', `${n}/concat`, spikes, n, { axis: 0 });
}
