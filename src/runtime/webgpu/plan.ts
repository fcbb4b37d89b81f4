/**
 * Compiles the model graph into an execution plan for the WebGPU runtime: one list of kernel
 * dispatches (program, uniforms, buffer bindings, thread count) and one list of buffers with
 * their sizes and initial contents. Pure TypeScript, no GPU: the runtime turns the plan into GPU
 * objects once, and the memory report sums its buffers without running anything. Every step's
 * uniforms are packed by field name and its bindings checked by name against its shader
 * (`ProgramInterface`) here, so a mismatch between a builder and its WGSL fails at plan time.
 *
 * The graph is walked op by op; nothing of the architecture is encoded here, only local patterns:
 *  - a conv followed by single-use BatchNorms: the BNs become affines (x·scale + shift in f32,
 *    scale and shift computed on the CPU exactly as the CPU reference does). If the last BN's only
 *    reader is a neuron, the affines go into the neuron's kernel (BN + LIF fused, the raw conv
 *    output goes in); otherwise into the conv's epilogue. A BN with padding (RepConv) writes into
 *    the interior of a padded buffer whose border is filled once at creation.
 *  - a residual add that is the only reader of a conv's (BN-affined) result is folded into that
 *    conv's epilogue (entry point `residual`: result + the other input, read from binding R).
 *  - a neuron reading a (not depthwise) conv's unpadded result, or the sum of a fused residual add,
 *    runs in that conv's epilogue when its readers need one spike layout, channel-packed or dense
 *    (entry points `lif` / `residual_lif`, conv_lif.wgsl): the BatchNorms go into the epilogue, and
 *    the float map is stored only if another op reads it. Neurons on other values (attention,
 *    spatial mean, the second neuron reading a value), needing two layouts or token-packed (k and
 *    v) run on their own (lif.wgsl), up to 3 layers a dispatch (a neuron's layouts, or sibling neurons).
 *  - sibling RepConvs reading one value (q, k and v of attention) are planned as one branch with
 *    their channels side by side (siblingMerge.ts): one dispatch per chain step instead of one
 *    per branch; their three neurons share one lif.wgsl dispatch, each reading its branch's
 *    channels; the same arithmetic per channel.
 *  - on a hardware adapter, RepConv's depthwise 3×3 is computed inside the 1×1 conv that reads it
 *    (dense_conv DW = 1; see inlineDepthwise): the depthwise map never goes out.
 *  - the linear classifier (and head_kd) and the mean over T of the logits are one dispatch
 *    (head.wgsl `classifier`).
 *  - a conv whose input is spikes uses an event-driven kernel (`spike`) in `spike` mode; real
 *    inputs, and every conv in `dense` mode, use the register-tiled dense kernels; on a hardware
 *    adapter every conv but the depthwise ones runs tiled in workgroup memory (conv_tile.wgsl:
 *    `tile`, `tile_residual`, `tile_lif`, `tile_residual_lif`; see tiled): the dense ones (the
 *    stem, RepConv's 1×1s, and in `dense` mode the convs on spikes) as dense_conv's GEMM, those on
 *    spikes in `spike` mode as spike_conv's event-driven tile; on a software adapter the convs on
 *    spikes in `spike` mode compute 8 pixels a thread (conv_block.wgsl: `block`, …), loading each
 *    weight vec4 once for the 8, and so do the depthwise ones of stride 1 (spike_dwconv `block`).
 *  - a neuron runs over all T steps in one dispatch; its spikes are stored in the layouts its
 *    readers need: channel-packed bits for convs, the head and q, token-packed bits for k and v,
 *    0/1 f32 in `dense` mode.
 * Values derived from the image only (the stem) have one step, not T: they are computed once and
 * read with a step stride of 0.
 * Activation buffers are reused once dead (greedy best fit over the op order).
 */
import type { ConvOp, LifOp, ModelGraph, Op, Shape3, UpsampleOp } from '../../model/graph.ts';
import { batchNormAffine } from '../../model/layerMath.ts';
import type { ModelWeights } from '../../model/weights.ts';
import {
  addKernel, attentionKernel, classifierKernel, denseConvKernel, denseOutput, dwBlockFits, LIF_MAX_LAYERS, lifKernel, linearKernel,
  logitsKernel, spatialMeanKernel, spikeConvKernel, tileFits, upsampleKernel, type ConvShape, type ProgramCall,
} from './kernels.ts';
import {
  packConvWeights, packDepthwiseWeights, packEpilogue, packLifAffines, packLinearWeights, roundUp4,
  spikeWords, type SpikeLayout,
} from './packing.ts';
import { align, type UniformValues } from './programInterface.ts';
import { programInterface, type ProgramKey } from './shaders.ts';
import { mergeSiblingRepConvs, type ChannelSlice } from './siblingMerge.ts';

export type RuntimeMode = 'spike' | 'dense';

export type BufferRole = 'input' | 'weights' | 'params' | 'activation' | 'spikes' | 'padded' | 'scratch' | 'counts' | 'logits' | 'outputs' | 'membrane';

export interface PlanBuffer {
  id: number;
  role: BufferRole;
  /** Bytes (a multiple of 16). */
  size: number;
  label: string;
  /** Initial contents (weights, parameters, padded borders); called once at creation. */
  init?: () => Float32Array;
}

export interface PlanStep {
  /** The graph op this dispatch implements (its main op). */
  name: string;
  /** Every graph op folded into this dispatch. */
  ops: string[];
  program: ProgramKey;
  /** The uniform struct packed by field name (`ProgramInterface.pack`; f32 fields as their bits). */
  uniforms: Uint32Array;
  /** Buffer ids by binding name: exactly the bindings the entry point uses, the uniform aside. */
  bindings: Record<string, number>;
  threads: number;
  /** Dense multiply-accumulates of the op per frame, and the neuron layers whose spikes drive it. */
  macs: number;
  spikeInputs: string[];
  /** For neuron steps: the layers it fires (one, or sibling layers sharing a dispatch), and where their spikes are. */
  lifs: PlanLif[];
}

export interface PlanLif {
  name: string;
  index: number;
  layout: SpikeLayout;
  buffer: number;
  channels: number;
  positions: number;
  /** Membrane buffer (only for layers asked for at creation), and the layer's first byte in it. */
  membrane: number | null;
  membraneOffset: number;
  /** False for a second layout of the same layer (its counts go to a scratch row). */
  primary: boolean;
}

export interface ExecutionPlan {
  mode: RuntimeMode;
  /** Planned for a software adapter (`PlanOptions.software`). */
  software: boolean;
  timeSteps: number;
  buffers: PlanBuffer[];
  steps: PlanStep[];
  input: number;
  logits: number;
  counts: number;
  classes: number;
  /** The task heads' outputs (graph outputs other than the logits): buffer and f32 elements. */
  outputs: { name: string; buffer: number; elements: number }[];
  /** Neuron layers in graph order (the order of `FrameResult.layers`), fused into a conv or not. */
  lifs: { name: string; channels: number; positions: number }[];
  /** Bytes of physical buffers by role. */
  memory: Record<BufferRole, number>;
}

export interface PlanOptions {
  mode?: RuntimeMode;
  /** Neuron layers whose membrane potentials can be read back (dedicated buffers). */
  membranes?: string[];
  /**
   * Plan for a software adapter (SwiftShader): dense convs without a fused neuron compute 4
   * output columns per thread at any size, since there is no GPU to fill and each invocation's
   * overhead is paid per thread (on the reference kd model at 112×144 this took RepConv's 1×1s
   * from 90 to 60 ms each). Same arithmetic per output either way.
   */
  software?: boolean;
}

interface RealValue {
  kind: 'real';
  buffer: number;
  steps: number;
  /** Elements per step in the buffer. */
  stepStride: number;
  /** BatchNorm affines not yet applied (only a neuron may read such a value). */
  affines: { scale: Float32Array; shift: Float32Array }[];
  /** First element in the buffer: a channel range of a wider map (only a neuron may read such a value). */
  offset?: number;
}

interface SpikeValue {
  kind: 'spikes';
  layouts: Map<SpikeLayout, number>;
  lif: string;
}

type Value = RealValue | SpikeValue;

class Planner {
  readonly buffers: PlanBuffer[] = [];
  readonly steps: PlanStep[] = [];
  /** Per virtual buffer: pooled or not, and [first write, last read] step indices. */
  private readonly live = new Map<number, { first: number; last: number }>();
  private readonly pooled = new Set<number>();
  private readonly values = new Map<string, Value>();
  private readonly consumers = new Map<string, { op: Op; index: number }[]>();
  private readonly fused = new Set<string>();
  /** Every neuron layer in graph order (the CPU reference's order), fused or not. */
  readonly lifs: { name: string; channels: number; positions: number }[] = [];
  private readonly lifIndex = new Map<string, number>();
  private readonly T: number;
  counts = -1;
  logits = -1;
  input = -1;
  readonly outputs: { name: string; buffer: number; elements: number }[] = [];

  constructor(private readonly graph: ModelGraph, private readonly weights: ModelWeights | null,
    readonly mode: RuntimeMode, private readonly membranes: Set<string>, private readonly software: boolean,
    private readonly origin: Map<string, string[]> = new Map(), private readonly slices: Map<string, ChannelSlice> = new Map()) {
    this.T = graph.config.timeSteps;
    graph.ops.forEach((op) => op.inputs.forEach((id, index) => {
      const list = this.consumers.get(id) ?? [];
      list.push({ op, index });
      this.consumers.set(id, list);
    }));
    for (const op of graph.ops) {
      if (op.kind !== 'lif') continue;
      const [c, h, w] = this.shape(op.output);
      this.lifIndex.set(op.name, this.lifs.length);
      this.lifs.push({ name: op.name, channels: c, positions: h * w });
    }
  }

  private weight(key: string): Float32Array {
    if (!this.weights) return new Float32Array(0);
    const w = this.weights.get(key);
    if (!w) throw new Error(`WebGpuRuntime: weight ${key} is missing`);
    return w;
  }

  private shape(value: string): Shape3 {
    return this.graph.shapes.get(value)!;
  }

  buffer(role: BufferRole, bytes: number, label: string, init?: () => Float32Array): number {
    const id = this.buffers.length;
    this.buffers.push({ id, role, size: Math.max(16, align(bytes, 16)), label, init });
    if (role === 'activation' || role === 'spikes' || role === 'scratch') this.pooled.add(id);
    return id;
  }

  private affine(prefix: string, eps: number): { scale: Float32Array; shift: Float32Array } {
    if (!this.weights) return { scale: new Float32Array(0), shift: new Float32Array(0) };
    return batchNormAffine({
      weight: this.weight(`${prefix}.weight`), bias: this.weight(`${prefix}.bias`),
      runningMean: this.weight(`${prefix}.running_mean`), runningVar: this.weight(`${prefix}.running_var`), eps,
    });
  }

  /** Adds a dispatch; its uniforms and bindings must match the shader's declarations (else throws). */
  private step(s: Omit<PlanStep, 'uniforms' | 'lifs'> & { uniforms: UniformValues; lifs?: PlanLif[] }): void {
    const index = this.steps.length;
    const iface = programInterface(s.program.shader);
    iface.bind(s.program.entry, s.bindings);
    const uniforms = iface.pack(s.program.entry, s.uniforms);
    this.steps.push({ ...s, uniforms, lifs: s.lifs ?? [] });
    for (const b of Object.values(s.bindings)) {
      const l = this.live.get(b);
      if (l) l.last = index;
      else this.live.set(b, { first: index, last: index });
    }
  }

  private real(value: string): RealValue {
    const v = this.values.get(value);
    if (!v || v.kind !== 'real') throw new Error(`WebGpuRuntime: ${value} is not a real-valued map here`);
    if (v.affines.length) throw new Error(`WebGpuRuntime: ${value} has unapplied BatchNorms and is read by a non-neuron op`);
    if (v.offset) throw new Error(`WebGpuRuntime: ${value} is a channel range of a wider map and is read by a non-neuron op`);
    return v;
  }

  /** A value, or the channel range of a merged map it is (siblingMerge.ts). */
  private valueOrSlice(value: string): Value | undefined {
    const slice = this.slices.get(value);
    if (!slice) return this.values.get(value);
    const of = this.values.get(slice.of);
    if (!of || of.kind !== 'real' || of.affines.length || of.offset) return undefined;
    const [c, h, w] = this.shape(value);
    if (of.stepStride < (slice.channelOffset + c) * h * w) throw new Error(`WebGpuRuntime: ${value} is not inside ${slice.of}`);
    return { ...of, offset: slice.channelOffset * h * w };
  }

  /** The graph ops a (possibly merged) op stands for. */
  private originOf(name: string): string[] {
    return this.origin.get(name) ?? [name];
  }

  private spikes(value: string, layout: SpikeLayout): number {
    const v = this.values.get(value);
    if (!v || v.kind !== 'spikes') throw new Error(`WebGpuRuntime: ${value} is not a spike map`);
    const b = v.layouts.get(layout);
    if (b === undefined) throw new Error(`WebGpuRuntime: ${value} has no ${layout} layout`);
    return b;
  }

  private isSpikes(value: string): boolean {
    return this.values.get(value)?.kind === 'spikes';
  }

  build(): void {
    const { graph } = this;
    const [ic, ih, iw] = this.shape(graph.input);
    this.input = this.buffer('input', ic * ih * iw * 4, 'input');
    this.values.set(graph.input, { kind: 'real', buffer: this.input, steps: 1, stepStride: ic * ih * iw, affines: [] });
    const lifOps = graph.ops.filter((op): op is LifOp => op.kind === 'lif');
    this.counts = this.buffer('counts', (lifOps.length + 1) * this.T * 4, 'spike counts');
    for (const op of graph.ops) {
      if (this.fused.has(op.name)) continue;
      switch (op.kind) {
        case 'conv': this.conv(op); break;
        case 'lif': this.lif(op); break;
        case 'add': this.add(op); break;
        case 'attention': this.attention(op); break;
        case 'spatialMean': this.spatialMean(op); break;
        case 'linear': this.linear(op); break;
        case 'output': this.output(op); break;
        case 'upsample': this.upsample(op); break;
        case 'batchnorm': throw new Error(`WebGpuRuntime: BatchNorm ${op.name} does not follow a conv; not supported`);
      }
    }
  }

  /**
   * On a hardware adapter, a depthwise conv on a real-valued map (no bias, no BatchNorm after it,
   * stride 1, no padding: RepConv's 3×3 after BN-and-pad) whose only reader is a 1×1 conv is
   * computed inside that conv's loop (dense_conv DW = 1): one dispatch and no depthwise map. Each
   * depthwise value is then computed once per 32 output channels of its group instead of once, so
   * a software adapter, which pays for every operation, keeps the two dispatches.
   */
  private inlineDepthwise(op: ConvOp): boolean {
    if (this.software || op.groups === 1 || op.groups !== op.inChannels || op.outChannels !== op.inChannels) return false;
    if (op.stride !== 1 || op.pad !== 0 || op.bias || this.isSpikes(op.inputs[0])) return false;
    const readers = this.consumers.get(op.output) ?? [];
    if (readers.length !== 1) return false;
    const pw = readers[0].op;
    return pw.kind === 'conv' && pw.kernel === 1 && pw.stride === 1 && pw.pad === 0 && (pw.groups === 1 || pw.groups !== pw.inChannels);
  }

  /**
   * On a hardware adapter, a conv that is not depthwise runs tiled in workgroup memory, with its
   * neuron if one is fused (`tileFits`); a software adapter, where barriers are costly, keeps the
   * register-tiled kernels.
   */
  private tiled(shape: ConvShape): boolean {
    return !this.software && tileFits(shape);
  }

  /** Depthwise convs computed in the 1×1 conv reading them, by their output. */
  private readonly inlined = new Map<string, ConvOp>();

  private conv(op: ConvOp): void {
    if (this.inlineDepthwise(op)) {
      this.inlined.set(op.output, op);
      return;
    }
    const dw = this.inlined.get(op.inputs[0]);
    const [cin, h, w] = this.shape(op.inputs[0]);
    const [cout, oh, ow] = this.shape(op.output);
    // Absorb the BatchNorms that follow (each the only reader of the previous value).
    const chain: { prefix: string; eps: number; pad: number; name: string }[] = [];
    let out = op.output;
    const ops = [...(dw ? this.originOf(dw.name) : []), ...this.originOf(op.name)];
    for (;;) {
      const readers = this.consumers.get(out) ?? [];
      if (readers.length !== 1 || readers[0].op.kind !== 'batchnorm') break;
      if (chain.length && chain[chain.length - 1].pad > 0) break;
      const bn = readers[0].op;
      chain.push({ prefix: bn.prefix, eps: bn.eps, pad: bn.pad, name: bn.name });
      this.fused.add(bn.name);
      ops.push(...this.originOf(bn.name));
      out = bn.output;
    }
    const pad = chain.length ? chain[chain.length - 1].pad : 0;
    const spikeIn = this.isSpikes(op.inputs[0]);
    const depthwise = op.groups > 1 && op.groups === cin && cin === cout;
    if (op.groups > 1 && !depthwise && (spikeIn || cin % op.groups !== 0 || (cout / op.groups) % 4 !== 0)) {
      throw new Error(`WebGpuRuntime: grouped conv ${op.name} (groups ${op.groups}) is not depthwise, and the dense kernel takes only real inputs with cout / groups a multiple of 4`);
    }
    const finalReaders = this.consumers.get(out) ?? [];
    const affines = chain.map((bn) => this.affine(bn.prefix, bn.eps));
    const steps = spikeIn ? this.T : this.real(dw ? dw.inputs[0] : op.inputs[0]).steps;
    // A residual add that is the only reader of this conv's (unpadded) result goes into the
    // epilogue: result + the other input, already computed, unpadded, with no pending affines,
    // of 1 or `steps` steps (the add's own arithmetic, so bit-exact).
    let residual: { value: RealValue } | null = null;
    if (pad === 0 && finalReaders.length === 1 && finalReaders[0].op.kind === 'add' && finalReaders[0].op.inputs.length === 2) {
      const add = finalReaders[0].op;
      const other = add.inputs[1 - finalReaders[0].index];
      const r = other === out ? undefined : this.values.get(other);
      if (r && r.kind === 'real' && !r.affines.length && r.stepStride === cout * oh * ow && (r.steps === 1 || r.steps === steps)) {
        residual = { value: r };
        this.fused.add(add.name);
        ops.push(add.name);
        out = add.output;
      }
    }
    // The neuron reading the result, run in the epilogue (with the BatchNorms it would apply: the
    // same rounding); the result is stored only for its other readers.
    const readers = this.consumers.get(out) ?? [];
    // On a software adapter a neuron goes only into the event-driven blocked conv: dense_conv's
    // fused neuron computes one pixel's 32-channel word a thread, which on SwiftShader took 4-7×
    // as long as its 4-column conv plus lif.wgsl for layers of 8 and 16 channels (the stem and
    // SepConv's pwconv2 of the kd reference model) and no less for 64 channels.
    const eventDriven = spikeIn && this.mode === 'spike';
    const neuron = pad === 0 && !depthwise && (!this.software || eventDriven) ? this.fusibleNeuron(out) : null;
    const storeConv = !neuron || readers.length > 1;
    // Without a fused neuron, BatchNorms read only by a neuron go into the neuron's kernel.
    const toNeuron = !neuron && pad === 0 && chain.length > 0 && finalReaders.length === 1 && finalReaders[0].op.kind === 'lif';
    const epilogue = toNeuron ? [] : affines;
    if (neuron) {
      this.fused.add(neuron.op.name);
      ops.push(neuron.op.name);
    }
    const ph = oh + 2 * pad, pw = ow + 2 * pad;
    const bytes = steps * cout * ph * pw * 4;
    let outBuf: number;
    if (!storeConv) {
      outBuf = this.scratch('no conv output');
    } else if (pad > 0) {
      const shift = affines[affines.length - 1].shift;
      outBuf = this.buffer('padded', bytes, `${out} (padded)`, () => {
        const a = new Float32Array(steps * cout * ph * pw);
        for (let s = 0; s < steps; s++) for (let c = 0; c < cout; c++) a.fill(shift[c], (s * cout + c) * ph * pw, (s * cout + c + 1) * ph * pw);
        return a;
      });
    } else {
      outBuf = this.buffer('activation', bytes, out);
    }
    const bias = op.bias ? this.weight(op.bias) : null;
    const weightKey = op.weight;
    const cinPerGroup = depthwise ? 1 : cin / op.groups;
    const wFloats = depthwise ? op.kernel * op.kernel * roundUp4(cout) : op.kernel * op.kernel * cinPerGroup * roundUp4(cout);
    const dwFloats = dw ? dw.kernel * dw.kernel * roundUp4(cin) : 0;
    const wBuf = this.buffer('weights', (wFloats + dwFloats) * 4, dw ? `${weightKey} + ${dw.weight}` : weightKey, () => {
      if (depthwise) return packDepthwiseWeights(this.weight(weightKey), cout, op.kernel);
      const packed = packConvWeights(this.weight(weightKey), cout, cinPerGroup, op.kernel);
      if (!dw) return packed;
      const both = new Float32Array(wFloats + dwFloats);
      both.set(packed);
      both.set(packDepthwiseWeights(this.weight(dw.weight), cin, dw.kernel), wFloats);
      return both;
    });
    const pBuf = this.buffer('params', Math.max(1, (bias ? 1 : 0) + 2 * epilogue.length) * roundUp4(cout) * 4, `${op.name} epilogue`,
      () => packEpilogue(cout, bias, epilogue));
    const macs = steps * cout * oh * ow * (cin / op.groups) * op.kernel * op.kernel + (dw ? steps * cin * h * w * dw.kernel * dw.kernel : 0);
    const spikeInputs = spikeIn ? [(this.values.get(op.inputs[0]) as SpikeValue).lif] : [];
    const shape: ConvShape = {
      cin, h, w, cout, oh, ow, kernel: op.kernel, stride: op.stride, pad: op.pad, depthwise, steps,
      ...(op.groups > 1 && !depthwise ? { groups: op.groups } : {}),
      hasBias: bias !== null, nAffine: epilogue.length,
      ...(dw ? { depthwiseInput: { kernel: dw.kernel, h: this.shape(dw.inputs[0])[1], w: this.shape(dw.inputs[0])[2], channels: cin, weightsAt: wFloats / 4 } } : {}),
      xStepStride: 0, out: denseOutput(cout, oh, ow, pad), ...(this.software && !neuron && !depthwise ? { cols: 4 as const } : {}),
      residual: residual ? { stepStride: residual.value.steps === 1 ? 0 : residual.value.stepStride } : undefined,
      lif: neuron ? {
        timeSteps: this.T, layout: neuron.layout, storeConv, countBase: neuron.index * this.T,
        writeMembrane: neuron.membrane !== null, threshold: neuron.op.threshold,
      } : undefined,
    };
    let call: ProgramCall;
    let xBuf: number;
    if (eventDriven) {
      xBuf = this.spikes(op.inputs[0], 'channel');
      call = spikeConvKernel({ ...shape, tiled: this.tiled(shape), blocked: this.software && (!depthwise || dwBlockFits(shape)), xStepStride: Math.ceil(cin / 32) * h * w });
    } else if (spikeIn) {
      xBuf = this.spikes(op.inputs[0], 'dense');
      call = denseConvKernel({ ...shape, tiled: this.tiled(shape), xStepStride: cin * h * w });
    } else {
      const x = this.real(dw ? dw.inputs[0] : op.inputs[0]);
      xBuf = x.buffer;
      call = denseConvKernel({ ...shape, tiled: this.tiled(shape), xStepStride: x.steps === 1 ? 0 : x.stepStride });
    }
    const bindings: Record<string, number> = { X: xBuf, W: wBuf, P: pBuf, O: outBuf };
    if (residual) bindings.R = residual.value.buffer;
    if (neuron) Object.assign(bindings, { S: neuron.buffer, counts: this.counts, M: neuron.membrane ?? this.scratchMembrane() });
    this.step({ name: op.name, ops, ...call, bindings, macs, spikeInputs, lifs: neuron ? [neuron.lif] : [] });
    if (storeConv) this.values.set(out, { kind: 'real', buffer: outBuf, steps, stepStride: cout * ph * pw, affines: toNeuron ? affines : [] });
    if (neuron) this.values.set(neuron.op.output, { kind: 'spikes', layouts: new Map([[neuron.layout, neuron.buffer]]), lif: neuron.op.name });
  }

  /**
   * The first neuron reading `value` when it can run in the producing conv's epilogue (its readers
   * need one spike layout, not token-packed), with its spike and membrane buffers; else null.
   */
  private fusibleNeuron(value: string) {
    const op = (this.consumers.get(value) ?? []).find((r) => r.op.kind === 'lif')?.op as LifOp | undefined;
    if (!op) return null;
    const layouts = this.lifLayouts(op);
    // Token-packed spikes (k and v) are not fused although conv_lif.wgsl can write them: a thread
    // then owns a vec4 at 32 pixels, too few threads for the small maps of attention (on SwiftShader
    // the conv took 4× longer than conv + lif.wgsl; on a GPU it would leave most of it idle).
    if (layouts.length !== 1 || layouts[0] === 'token') return null;
    const layout = layouts[0];
    const index = this.lifIndex.get(op.name)!;
    const { channels: c, positions: n } = this.lifs[index];
    const membrane = this.membraneBuffer(op.name, c, n);
    const buffer = this.buffer('spikes', spikeWords(layout, this.T, c, n) * 4, `${op.name} (${layout})`);
    const lif: PlanLif = { name: op.name, index, layout, buffer, channels: c, positions: n, membrane, membraneOffset: 0, primary: true };
    return { op, layout, index, buffer, membrane, lif };
  }

  /** The spike layouts a neuron's readers need (the first is its primary one). */
  private lifLayouts(op: LifOp): SpikeLayout[] {
    if (this.mode === 'dense') return ['dense'];
    const needed: SpikeLayout[] = [];
    for (const { op: reader, index: i } of this.consumers.get(op.output) ?? []) {
      const l: SpikeLayout = reader.kind === 'attention' && i > 0 ? 'token' : 'channel';
      if (!needed.includes(l)) needed.push(l);
    }
    if (!needed.length) needed.push('channel');
    return needed;
  }

  private membraneBuffer(name: string, c: number, n: number): number | null {
    return this.membranes.has(name) ? this.buffer('membrane', this.T * c * n * 4, `${name} membrane`) : null;
  }

  /**
   * A neuron layer on its own (lif.wgsl), with the sibling layers that share its dispatch: neurons
   * reading channel ranges of the same merged map (q, k and v after their merged RepConvs), of the
   * same shape and threshold. Each layer gets one dispatch layer per spike layout its readers need
   * (the first is its primary one); up to LIF_MAX_LAYERS such layers share a dispatch.
   */
  private lif(op: LifOp): void {
    const group = this.siblingNeurons(op);
    group.slice(1).forEach((o) => this.fused.add(o.name));
    const jobs: { op: LifOp; x: RealValue; layout: SpikeLayout; primary: boolean; buffer: number }[] = [];
    const layoutsOf = new Map<string, Map<SpikeLayout, number>>();
    for (const o of group) {
      const x = this.valueOrSlice(o.inputs[0]);
      if (!x || x.kind !== 'real') throw new Error(`WebGpuRuntime: neuron ${o.name} reads ${o.inputs[0]}, which is not real-valued`);
      const { channels: c, positions: n } = this.lifs[this.lifIndex.get(o.name)!];
      if (x.offset === undefined && x.stepStride !== c * n) throw new Error(`WebGpuRuntime: neuron ${o.name} reads a padded map`);
      const layouts = new Map<SpikeLayout, number>();
      this.lifLayouts(o).forEach((layout, k) => {
        const buffer = this.buffer('spikes', spikeWords(layout, this.T, c, n) * 4, `${o.name} (${layout})`);
        layouts.set(layout, buffer);
        jobs.push({ op: o, x, layout, primary: k === 0, buffer });
      });
      layoutsOf.set(o.name, layouts);
    }
    for (let first = 0; first < jobs.length; first += LIF_MAX_LAYERS) {
      const chunk = jobs.slice(first, first + LIF_MAX_LAYERS);
      const { x, op: lead } = chunk[0];
      const { channels: c, positions: n } = this.lifs[this.lifIndex.get(lead.name)!];
      const nAffine = x.affines.length;
      // The chunk's requested membranes side by side in one buffer: each layer's first element, or null.
      const withMembrane = chunk.filter((j) => j.primary && this.membranes.has(j.op.name));
      const membrane = withMembrane.length ? this.buffer('membrane', withMembrane.length * this.T * c * n * 4, `${withMembrane.map((j) => j.op.name).join(', ')} membrane`) : null;
      const membraneAt = chunk.map((j) => (withMembrane.includes(j) ? withMembrane.indexOf(j) * this.T * c * n : null));
      const paramFloats = Math.max(4, chunk.length * 2 * c * nAffine);
      const params = this.buffer('params', paramFloats * 4, `${chunk.map((j) => j.op.name).join(', ')} affines`, () => {
        const p = new Float32Array(paramFloats);
        chunk.forEach((j, k) => { if (nAffine) p.set(packLifAffines(c, j.x.affines), k * 2 * c * nAffine); });
        return p;
      });
      const call = lifKernel({
        timeSteps: this.T, channels: c, positions: n, xStepStride: x.steps === 1 ? 0 : x.stepStride, nAffine, threshold: lead.threshold,
        layers: chunk.map((j, k) => ({
          layout: j.layout, xOffset: j.x.offset, membrane: membraneAt[k],
          countBase: (j.primary ? this.lifIndex.get(j.op.name)! : this.lifCountRows()) * this.T,
        })),
      });
      const spikes = ['O', 'O1', 'O2'];
      const bindings: Record<string, number> = { X: x.buffer, P: params, counts: this.counts, M: membrane ?? this.scratchMembrane() };
      spikes.forEach((name, k) => { bindings[name] = k < chunk.length ? chunk[k].buffer : this.scratch(`no spikes ${k}`); });
      this.step({
        name: lead.name, ops: chunk.filter((j) => j.primary).map((j) => j.op.name), ...call, bindings, macs: 0, spikeInputs: [],
        lifs: chunk.map((j, k) => ({
          name: j.op.name, index: this.lifIndex.get(j.op.name)!, layout: j.layout, buffer: j.buffer, channels: c, positions: n,
          membrane: membraneAt[k] === null ? null : membrane, membraneOffset: (membraneAt[k] ?? 0) * 4, primary: j.primary,
        })),
      });
    }
    for (const o of group) this.values.set(o.output, { kind: 'spikes', layouts: layoutsOf.get(o.name)!, lif: o.name });
  }

  /**
   * `op` and the neurons that can share its dispatch: those reading other channel ranges of the
   * same merged map (siblingMerge.ts), of the same shape and threshold, in graph order.
   */
  private siblingNeurons(op: LifOp): LifOp[] {
    const slice = this.slices.get(op.inputs[0]);
    if (!slice) return [op];
    const shape = this.shape(op.output).join('x');
    return this.graph.ops.filter((o): o is LifOp => o.kind === 'lif' && (o === op || (!this.fused.has(o.name)
      && this.slices.get(o.inputs[0])?.of === slice.of && o.threshold === op.threshold && this.shape(o.output).join('x') === shape)));
  }

  /** Row of the counts buffer for secondary layouts (after all layers). */
  private lifCountRows(): number {
    return this.lifs.length;
  }

  /** A 16-byte stand-in for an output a dispatch does not write (one per label, so no two alias). */
  private readonly scratches = new Map<string, number>();
  private scratch(label: string): number {
    let b = this.scratches.get(label);
    if (b === undefined) this.scratches.set(label, b = this.buffer('params', 16, label));
    return b;
  }

  private scratchMembrane(): number {
    return this.scratch('no membrane');
  }

  private add(op: Op): void {
    const a = this.real(op.inputs[0]);
    const b = this.real(op.inputs[1]);
    const [c, h, w] = this.shape(op.output);
    const per = c * h * w;
    if (a.stepStride !== per || b.stepStride !== per) throw new Error(`WebGpuRuntime: add ${op.name} of padded maps`);
    const steps = Math.max(a.steps, b.steps);
    const out = this.buffer('activation', steps * per * 4, op.output);
    const call = addKernel({ perStep: per, steps, aStepStride: a.steps === 1 ? 0 : per, bStepStride: b.steps === 1 ? 0 : per });
    this.step({ name: op.name, ops: [op.name], ...call, bindings: { A: a.buffer, B: b.buffer, O: out }, macs: 0, spikeInputs: [] });
    this.values.set(op.output, { kind: 'real', buffer: out, steps, stepStride: per, affines: [] });
  }

  private attention(op: Op & { kind: 'attention' }): void {
    const [c, h, w] = this.shape(op.output);
    const n = h * w;
    const heads = op.heads;
    const d = c / heads;
    if (!Number.isInteger(d)) throw new Error(`WebGpuRuntime: ${c} channels do not split into ${heads} heads`);
    const T = this.T;
    const dense = this.mode === 'dense';
    const lifName = (i: number) => (this.values.get(op.inputs[i]) as SpikeValue).lif;
    const q = this.spikes(op.inputs[0], dense ? 'dense' : 'channel');
    const k = this.spikes(op.inputs[1], dense ? 'dense' : 'token');
    const v = this.spikes(op.inputs[2], dense ? 'dense' : 'token');
    const shape = { timeSteps: T, channels: c, tokens: n, heads, dense };
    const out = this.buffer('activation', T * c * n * 4, op.output);
    this.step({
      name: op.name, ops: [op.name], ...attentionKernel({ ...shape, scale: op.scale }), bindings: { Q: q, K: k, V: v, O: out },
      macs: 2 * T * heads * d * d * n, spikeInputs: [lifName(0), lifName(1), lifName(2)],
    });
    this.values.set(op.output, { kind: 'real', buffer: out, steps: T, stepStride: c * n, affines: [] });
  }

  private spatialMean(op: Op): void {
    const x = this.real(op.inputs[0]);
    const [c, h, w] = this.shape(op.inputs[0]);
    const out = this.buffer('activation', x.steps * c * 4, op.output);
    const call = spatialMeanKernel({ channels: c, positions: h * w, steps: x.steps, xStepStride: x.steps === 1 ? 0 : x.stepStride });
    this.step({ name: op.name, ops: [op.name], ...call, bindings: { X: x.buffer, O: out }, macs: 0, spikeInputs: [] });
    this.values.set(op.output, { kind: 'real', buffer: out, steps: x.steps, stepStride: c, affines: [] });
  }

  /**
   * The linear heads an output op averages (the classifier, and head_kd with distillation) when
   * they can run with it in one `head.wgsl` classifier dispatch: 1 or 2 linears on the same spikes,
   * of the same sizes, read by nothing else; else null.
   */
  private classifierHeads(output: Op): (Op & { kind: 'linear' })[] | null {
    if (output.kind !== 'output' || output.inputs.length > 2) return null;
    const heads = output.inputs.map((id) => this.graph.ops.find((o) => o.output === id));
    if (!heads.every((h): h is Op & { kind: 'linear' } => h?.kind === 'linear')) return null;
    const [first] = heads;
    const same = heads.every((h) => h.inputs[0] === first.inputs[0] && h.inFeatures === first.inFeatures && h.outFeatures === first.outFeatures
      && (this.consumers.get(h.output) ?? []).length === 1);
    return same && this.isSpikes(first.inputs[0]) ? heads : null;
  }

  private linear(op: Op & { kind: 'linear' }): void {
    const readers = this.consumers.get(op.output) ?? [];
    if (readers.length === 1 && this.classifierHeads(readers[0].op)) return; // planned with its output op
    const spikeIn = this.isSpikes(op.inputs[0]);
    if (!spikeIn) throw new Error(`WebGpuRuntime: linear ${op.name} on a real-valued input is not supported`);
    const dense = this.mode === 'dense';
    const x = this.spikes(op.inputs[0], dense ? 'dense' : 'channel');
    const { inFeatures, outFeatures } = op;
    const ov = Math.ceil(outFeatures / 4);
    const wKey = op.weight, bKey = op.bias;
    const wBuf = this.buffer('weights', inFeatures * ov * 16, wKey, () => packLinearWeights(this.weight(wKey), outFeatures, inFeatures));
    const pBuf = this.buffer('params', ov * 16, bKey, () => packEpilogue(outFeatures, this.weight(bKey), []));
    const out = this.buffer('activation', this.T * outFeatures * 4, op.output);
    this.step({
      name: op.name, ops: [op.name], ...linearKernel({ timeSteps: this.T, inFeatures, outFeatures, dense }), bindings: { X: x, W: wBuf, P: pBuf, O: out },
      macs: this.T * inFeatures * outFeatures, spikeInputs: [(this.values.get(op.inputs[0]) as SpikeValue).lif],
    });
    this.values.set(op.output, { kind: 'real', buffer: out, steps: this.T, stepStride: outFeatures, affines: [] });
  }

  /** The logits (classifier) or a task head's map: mean over T (the `head.wgsl` logits entry, any size). */
  private output(op: Op): void {
    const heads = this.classifierHeads(op);
    if (heads) {
      this.classifier(op, heads);
      return;
    }
    if (op.inputs.length > 2) throw new Error(`WebGpuRuntime: output of ${op.inputs.length} heads is not supported`);
    const ys = op.inputs.map((id) => this.real(id));
    const [c, h, w] = this.shape(op.output);
    const elements = c * h * w;
    if (ys.some((y) => y.steps !== this.T || y.stepStride !== elements)) throw new Error(`WebGpuRuntime: output ${op.name} reads a map that is not [T][${elements}]`);
    const isLogits = op.output === this.graph.output;
    const buf = this.buffer(isLogits ? 'logits' : 'outputs', elements * 4, op.output);
    if (isLogits) this.logits = buf;
    else this.outputs.push({ name: op.output, buffer: buf, elements });
    this.step({
      name: op.name, ops: [op.name], ...logitsKernel({ timeSteps: this.T, classes: elements, heads: ys.length }),
      bindings: { X: ys[0].buffer, W: (ys[1] ?? ys[0]).buffer, O: buf }, macs: 0, spikeInputs: [],
    });
    this.values.set(op.output, { kind: 'real', buffer: buf, steps: 1, stepStride: elements, affines: [] });
  }

  /** Linear heads on spikes and the mean over T (and heads) of their output, in one dispatch. */
  private classifier(op: Op, heads: (Op & { kind: 'linear' })[]): void {
    const { inFeatures, outFeatures } = heads[0];
    const dense = this.mode === 'dense';
    const x = this.spikes(heads[0].inputs[0], dense ? 'dense' : 'channel');
    const ov = Math.ceil(outFeatures / 4);
    const wBuf = this.buffer('weights', heads.length * inFeatures * ov * 16, heads.map((h) => h.weight).join(' + '), () => {
      const w = new Float32Array(heads.length * inFeatures * ov * 4);
      heads.forEach((h, k) => w.set(packLinearWeights(this.weight(h.weight), outFeatures, inFeatures), k * inFeatures * ov * 4));
      return w;
    });
    const pBuf = this.buffer('params', heads.length * ov * 16, heads.map((h) => h.bias).join(' + '), () => {
      const p = new Float32Array(heads.length * ov * 4);
      heads.forEach((h, k) => p.set(packEpilogue(outFeatures, this.weight(h.bias), []), k * ov * 4));
      return p;
    });
    const isLogits = op.output === this.graph.output;
    const buf = this.buffer(isLogits ? 'logits' : 'outputs', outFeatures * 4, op.output);
    if (isLogits) this.logits = buf;
    else this.outputs.push({ name: op.output, buffer: buf, elements: outFeatures });
    this.step({
      name: op.name, ops: [...heads.map((h) => h.name), op.name],
      ...classifierKernel({ timeSteps: this.T, inFeatures, outFeatures, heads: heads.length, dense }), bindings: { X: x, W: wBuf, P: pBuf, O: buf },
      macs: heads.length * this.T * inFeatures * outFeatures, spikeInputs: [(this.values.get(heads[0].inputs[0]) as SpikeValue).lif],
    });
    this.values.set(op.output, { kind: 'real', buffer: buf, steps: 1, stepStride: outFeatures, affines: [] });
  }

  private upsample(op: UpsampleOp): void {
    const x = this.real(op.inputs[0]);
    const [c, h, w] = this.shape(op.inputs[0]);
    if (x.stepStride !== c * h * w) throw new Error(`WebGpuRuntime: upsample ${op.name} of a padded map`);
    const per = c * 4 * h * w;
    const out = this.buffer('activation', x.steps * per * 4, op.output);
    const call = upsampleKernel({ channels: c, height: h, width: w, steps: x.steps, xStepStride: x.steps === 1 ? 0 : x.stepStride, mode: op.mode });
    this.step({ name: op.name, ops: [op.name], ...call, bindings: { X: x.buffer, O: out }, macs: 0, spikeInputs: [] });
    this.values.set(op.output, { kind: 'real', buffer: out, steps: x.steps, stepStride: per, affines: [] });
  }

  /**
   * Maps pooled (activation, spike, scratch) buffers onto physical ones: a buffer is free after
   * the last step that binds it; each new one takes the smallest free buffer that fits, or a new one.
   */
  allocate(): { buffers: PlanBuffer[]; remap: Map<number, number> } {
    const remap = new Map<number, number>();
    const physical: PlanBuffer[] = [];
    for (const b of this.buffers) {
      if (!this.pooled.has(b.id)) {
        remap.set(b.id, physical.length);
        physical.push({ ...b, id: physical.length });
      }
    }
    const free: number[] = [];
    const endsAt = new Map<number, number[]>();
    const order = [...this.pooled].sort((a, b) => (this.live.get(a)?.first ?? 0) - (this.live.get(b)?.first ?? 0));
    const byFirst = new Map<number, number[]>();
    for (const id of order) {
      const f = this.live.get(id)?.first ?? 0;
      byFirst.set(f, [...(byFirst.get(f) ?? []), id]);
    }
    for (let s = 0; s < this.steps.length; s++) {
      for (const id of byFirst.get(s) ?? []) {
        const need = this.buffers[id].size;
        let best = -1;
        for (let i = 0; i < free.length; i++) {
          const p = physical[free[i]];
          if (p.role === this.buffers[id].role && p.size >= need && (best < 0 || p.size < physical[free[best]].size)) best = i;
        }
        let pid: number;
        if (best >= 0) {
          pid = free[best];
          free.splice(best, 1);
        } else {
          pid = physical.length;
          physical.push({ ...this.buffers[id], id: pid, label: this.buffers[id].role });
        }
        remap.set(id, pid);
        const last = this.live.get(id)?.last ?? s;
        endsAt.set(last, [...(endsAt.get(last) ?? []), pid]);
      }
      for (const pid of endsAt.get(s) ?? []) free.push(pid);
    }
    // Pooled buffers never bound by a step (none expected) still get a home.
    for (const id of this.pooled) {
      if (!remap.has(id)) { remap.set(id, physical.length); physical.push({ ...this.buffers[id], id: physical.length }); }
    }
    return { buffers: physical, remap };
  }
}

/** Builds the plan. With `weights = null` only sizes are planned (for the memory report). */
export function buildPlan(graph: ModelGraph, weights: ModelWeights | null, options: PlanOptions = {}): ExecutionPlan {
  const mode = options.mode ?? 'spike';
  const merged = mergeSiblingRepConvs(graph, weights);
  const p = new Planner(merged.graph, merged.weights, mode, new Set(options.membranes ?? []), options.software ?? false, merged.origin, merged.slices);
  p.build();
  const { buffers, remap } = p.allocate();
  const steps = p.steps.map((s) => ({
    ...s,
    bindings: Object.fromEntries(Object.entries(s.bindings).map(([name, b]) => [name, remap.get(b)!])),
    lifs: s.lifs.map((l) => ({ ...l, buffer: remap.get(l.buffer)!, membrane: l.membrane === null ? null : remap.get(l.membrane)! })),
  }));
  const memory = { input: 0, weights: 0, params: 0, activation: 0, spikes: 0, padded: 0, scratch: 0, counts: 0, logits: 0, outputs: 0, membrane: 0 } as Record<BufferRole, number>;
  for (const b of buffers) memory[b.role] += b.size;
  return {
    mode, software: options.software ?? false, timeSteps: graph.config.timeSteps, buffers, steps,
    input: remap.get(p.input)!, logits: remap.get(p.logits)!, counts: remap.get(p.counts)!,
    classes: graph.shapes.get(graph.output)![0], lifs: p.lifs, memory,
    outputs: p.outputs.map((o) => ({ ...o, buffer: remap.get(o.buffer)! })),
  };
}
