/**
 * One builder per kernel: from an op's sizes to the shader program, its uniform fields by name and
 * its thread count. The names are those of the shader's `struct Uniforms`; `ProgramInterface.pack`
 * (programInterface.ts) places them, and the planner packs every step when it builds a plan, so a
 * name that does not match the WGSL fails there. The bindings, also by name, are given by the
 * caller (`plan.ts`, the task decoder, the tests).
 */
import type { UniformValues } from './programInterface.ts';
import { programInterface, type ProgramKey } from './shaders.ts';
import type { SpikeLayout } from './packing.ts';

export interface ProgramCall {
  program: ProgramKey;
  /** The shader's uniform fields by name (f32 fields as numbers, flags as booleans). */
  uniforms: UniformValues;
  threads: number;
}

const LAYOUT_MODE: Record<SpikeLayout, number> = { channel: 0, token: 1, dense: 2 };

/** One neuron layer of a `lif.wgsl` dispatch. */
export interface LifLayer {
  layout: SpikeLayout;
  /** Its input's first element (a channel range of a wider map); default 0. */
  xOffset?: number;
  /** Its row of the counts buffer (index · T). */
  countBase: number;
  /** First element of its membrane in M, or null when not written. */
  membrane: number | null;
}

/** `lif.wgsl` layers per dispatch (spike bindings O, O1, O2). */
export const LIF_MAX_LAYERS = 3;

/** Threads of one neuron layer of `lif.wgsl`. */
function lifLayerThreads(layout: SpikeLayout, c: number, n: number): number {
  return layout === 'token' ? c * Math.ceil(n / 32) : Math.ceil(c / 32) * n;
}

/**
 * `lif.wgsl`: T steps of up to 3 neuron layers of C channels × N positions in one dispatch, all
 * reading X with `xStepStride` elements per step (each from its own `xOffset`), with the same
 * threshold and number of affines. Each layer's threads start at a workgroup boundary.
 */
export function lifKernel(a: {
  timeSteps: number; channels: number; positions: number; xStepStride: number;
  nAffine: number; threshold: number; layers: LifLayer[];
}): ProgramCall {
  const { channels: c, positions: n, layers } = a;
  if (layers.length < 1 || layers.length > LIF_MAX_LAYERS) throw new Error(`lif: ${layers.length} layers in one dispatch (1 to ${LIF_MAX_LAYERS})`);
  const wg = programInterface('lif').entry('main').workgroupSize;
  const firstThread: number[] = [];
  let threads = 0;
  for (const l of layers) {
    threads = Math.ceil(threads / wg) * wg;
    firstThread.push(threads);
    threads += lifLayerThreads(l.layout, c, n);
  }
  const lanes = (f: (l: LifLayer, k: number) => number) => [0, 1, 2, 3].map((k) => (k < layers.length ? f(layers[k], k) : 0));
  return {
    program: { shader: 'lif', entry: 'main', defines: { T: a.timeSteps } },
    uniforms: {
      channels: c, tokens: n, xStepStride: a.xStepStride, nAffine: a.nAffine, layers: layers.length, total: threads,
      threshold: a.threshold,
      spikeLayout: lanes((l) => LAYOUT_MODE[l.layout]), xOffset: lanes((l) => l.xOffset ?? 0), countBase: lanes((l) => l.countBase),
      membrane: lanes((l) => (l.membrane === null ? 0xffffffff : l.membrane)), firstThread: lanes((_, k) => firstThread[k]),
    },
    threads,
  };
}

/** Output placement of a conv: `[steps][C][rows][cols]` with the result at `offset` (padded maps). */
export interface ConvOutput {
  stepStride: number;
  planeStride: number;
  rowStride: number;
  offset: number;
}

export function denseOutput(c: number, h: number, w: number, pad = 0): ConvOutput {
  const ph = h + 2 * pad, pw = w + 2 * pad;
  return { stepStride: c * ph * pw, planeStride: ph * pw, rowStride: pw, offset: pad * pw + pad };
}

export interface ConvShape {
  cin: number; h: number; w: number; cout: number; oh: number; ow: number;
  kernel: number; stride: number; pad: number; depthwise: boolean;
  /**
   * Groups of a (not depthwise) grouped conv, dense kernel only: output channel o reads the
   * cin / groups input channels of group o / (cout / groups); cout / groups a multiple of 4. Default 1.
   */
  groups?: number;
  /**
   * dense_conv only: the input is a depthwise conv (no bias or affines, stride 1, no padding) of an
   * `h × w` map of `channels` channels, computed in this 1×1 conv's loop (DW = 1); its weights
   * follow this conv's in W from vec4 `weightsAt`. `cin`, `h`, `w` are then the depthwise
   * output's, `xStepStride` the depthwise input's.
   */
  depthwiseInput?: { kernel: number; h: number; w: number; channels: number; weightsAt: number };
  /** Steps computed (T, or 1 for a step-invariant input). */
  steps: number;
  hasBias: boolean;
  nAffine: number;
  /** Input elements (dense) or words (spikes) per step; 0 broadcasts one step. */
  xStepStride: number;
  out: ConvOutput;
  /** Dense kernels: output columns per thread (4, or 1 for small layers); default by size. */
  cols?: 1 | 4;
  /**
   * Run tiled in workgroup memory (conv_tile.wgsl: entry points `tile`, `tile_residual`,
   * `tile_lif`, `tile_residual_lif`; dense_conv as a GEMM, spike_conv event-driven), for hardware
   * adapters; the conv must be `tileFits`.
   */
  tiled?: boolean;
  /**
   * spike_conv / spike_dwconv only: 8 output pixels per thread, for software adapters
   * (conv_block.wgsl's entry points `block`, `block_residual`, `block_lif`, `block_residual_lif`;
   * spike_dwconv's `block`, `block_residual`, which need `dwBlockFits`).
   */
  blocked?: boolean;
  /**
   * A residual added in the epilogue (entry point `residual`, binding R): an unpadded
   * `[S][Cout][oh][ow]` map with this step stride (0 broadcasts one step). The output must be unpadded.
   */
  residual?: { stepStride: number };
  /**
   * The LIF neuron reading this conv's result, run in the epilogue over the T steps (entry points
   * `lif` / `residual_lif`, bindings S, counts, M; conv_lif.wgsl). Not for depthwise convs. The
   * output must be unpadded; it is stored only when `storeConv` (another op reads it).
   */
  lif?: ConvLif;
}

export interface ConvLif {
  timeSteps: number;
  /** Channel-packed, token-packed or dense 0/1 f32 (dense_conv: one column, `cols` 1). */
  layout: SpikeLayout;
  storeConv: boolean;
  countBase: number;
  writeMembrane: boolean;
  threshold: number;
}

/**
 * Below this many threads at 4 columns each, a dense conv computes 1 column per thread, to fill a
 * GPU (not on a software adapter: the planner's `software` option asks for 4 columns throughout).
 */
export const DENSE_SMALL_LAYER_THREADS = 32768;

/** The uniform fields every conv kernel shares: geometry, input step and the epilogue (conv_epilogue.wgsl). */
function convFields(s: ConvShape, total: number): UniformValues {
  if (s.residual && s.out.offset !== 0) throw new Error('a conv with a fused residual writes an unpadded map');
  if (s.lif && (s.out.offset !== 0 || s.depthwise)) throw new Error('a fused LIF follows a (not depthwise) conv with an unpadded output');
  const l = s.lif;
  return {
    ...(s.residual ? { rStepStride: s.residual.stepStride } : {}),
    ...(l ? {
      timeSteps: l.timeSteps, convSteps: s.steps, storeConv: l.storeConv, spikeLayout: LAYOUT_MODE[l.layout],
      countBase: l.countBase, writeMembrane: l.writeMembrane, threshold: l.threshold,
    } : {}),
    inH: s.h, inW: s.w, outH: s.oh, outW: s.ow, k: s.kernel, stride: s.stride, pad: s.pad, total,
    hasBias: s.hasBias, nAffine: s.nAffine, xStepStride: s.xStepStride,
    outStepStride: s.out.stepStride, outPlaneStride: s.out.planeStride, outRowStride: s.out.rowStride, outOffset: s.out.offset,
  };
}

/** The conv kernels' entry point: `residual` when the residual add is fused, else `main`; `…lif` with the neuron. */
function convEntry(s: ConvShape): string {
  if (s.lif) return s.residual ? 'residual_lif' : 'lif';
  return s.residual ? 'residual' : 'main';
}

/**
 * Threads of a conv with a fused LIF (conv_lif.wgsl), all steps in each: one per (32-pixel word,
 * channel vec4) for token-packed spikes, else one per (32-channel word, pixel).
 */
function lifThreads(s: ConvShape): number {
  const n = s.oh * s.ow;
  return s.lif!.layout === 'token' ? Math.ceil(n / 32) * Math.ceil(s.cout / 4) : Math.ceil(s.cout / 32) * n;
}

/** Output pixels per thread of spike_conv's blocked entries (conv_block.wgsl's BLOCK_PIXELS). */
const BLOCK_PIXELS = 8;

/** `spike_conv.wgsl` / `spike_dwconv.wgsl`: event-driven conv over channel-packed spikes. */
export function spikeConvKernel(s: ConvShape): ProgramCall {
  if ((s.groups ?? 1) > 1) throw new Error('spike_conv: grouped convs (other than depthwise) run on the dense kernel');
  const ov = Math.ceil(s.cout / 4);
  if (s.tiled) {
    const { entry, tileUniforms, threads } = tiledConv(s, 'spike_conv');
    return {
      program: { shader: 'spike_conv', entry, defines: {} },
      uniforms: { ...convFields(s, threads), cin: s.cin, cwin: Math.ceil(s.cin / 32), cout: s.cout, ov, ...tileUniforms },
      threads,
    };
  }
  if (s.blocked && !s.depthwise) {
    if (s.tiled) throw new Error('spike_conv: a conv runs blocked or tiled, not both');
    const blocks = Math.ceil((s.oh * s.ow) / BLOCK_PIXELS);
    const threads = !s.lif ? s.steps * blocks * ov : s.lif.layout === 'token' ? lifThreads(s) : Math.ceil(s.cout / 32) * blocks;
    return {
      program: { shader: 'spike_conv', entry: s.lif || s.residual ? `block_${convEntry(s)}` : 'block', defines: {} },
      uniforms: { ...convFields(s, threads), cin: s.cin, cwin: Math.ceil(s.cin / 32), cout: s.cout, ov },
      threads,
    };
  }
  const threads = s.lif ? lifThreads(s) : s.steps * s.oh * s.ow * ov;
  if (!s.depthwise) {
    return {
      program: { shader: 'spike_conv', entry: convEntry(s), defines: {} },
      uniforms: { ...convFields(s, threads), cin: s.cin, cwin: Math.ceil(s.cin / 32), cout: s.cout, ov },
      threads,
    };
  }
  if (s.blocked) {
    if (!dwBlockFits(s)) throw new Error(`spike_dwconv blocked: stride 1 and a kernel of at most ${33 - DW_BLOCK_PIXELS} (got stride ${s.stride}, kernel ${s.kernel})`);
    const outWB = Math.ceil(s.ow / DW_BLOCK_PIXELS);
    const blockThreads = s.steps * s.oh * outWB * ov;
    return {
      program: { shader: 'spike_dwconv', entry: s.residual ? 'block_residual' : 'block', defines: {} },
      uniforms: { ...convFields(s, blockThreads), c: s.cout, cv: ov, outWB },
      threads: blockThreads,
    };
  }
  return {
    program: { shader: 'spike_dwconv', entry: convEntry(s), defines: {} },
    uniforms: { ...convFields(s, threads), c: s.cout, cv: ov },
    threads,
  };
}

/** Output pixels per thread of spike_dwconv's blocked entries (its DW_BLOCK). */
const DW_BLOCK_PIXELS = 8;

/** Whether a depthwise conv on spikes can run blocked (spike_dwconv `block`): stride 1, its 8 + k − 1 input columns in one u32 mask. */
export function dwBlockFits(s: Pick<ConvShape, 'stride' | 'kernel'>): boolean {
  return s.stride === 1 && DW_BLOCK_PIXELS + s.kernel - 1 <= 32;
}

/** Output channels and pixels of one tiled conv's workgroup (conv_tile.wgsl). */
const TILE_CHANNELS = 32;
const TILE_PIXELS = 32;

/**
 * Whether a conv can run tiled in workgroup memory (conv_tile.wgsl): any kernel, stride and
 * padding, not depthwise (tiles of 32 output channels, never straddling groups); with a fused
 * neuron (`tile_lif`), spikes not token-packed and each tile one 32-channel spike word (no
 * groups, or groups of whole words).
 */
export function tileFits(s: Pick<ConvShape, 'depthwise' | 'lif' | 'groups' | 'cout'>): boolean {
  if (s.depthwise) return false;
  if (!s.lif) return true;
  const groups = s.groups ?? 1;
  return s.lif.layout !== 'token' && (groups === 1 || (s.cout / groups) % TILE_CHANNELS === 0);
}

/** A tiled conv's program entry, uniforms and threads (one workgroup per tile, and per step without the neuron). */
function tiledConv(s: ConvShape, shader: 'dense_conv' | 'spike_conv'): { entry: string; tileUniforms: Record<string, number>; threads: number } {
  if (!tileFits(s)) throw new Error(`${shader} tiled: a conv that is not depthwise (with a fused neuron: spikes not token-packed, groups of whole spike words)`);
  const groups = s.groups ?? 1;
  const groupTiles = Math.ceil(s.cout / groups / TILE_CHANNELS);
  const tiles = groups * groupTiles;
  const pixelTiles = Math.ceil((s.oh * s.ow) / TILE_PIXELS);
  const entry = s.lif || s.residual ? `tile_${convEntry(s)}` : 'tile';
  const threads = (s.lif ? 1 : s.steps) * pixelTiles * tiles * programInterface(shader).entry(entry).workgroupSize;
  return { entry, tileUniforms: { tiles, groupTiles, pixelTiles, groupCout: s.cout / groups }, threads };
}

/** `dense_conv.wgsl` / `dense_dwconv.wgsl`: register-tiled conv over f32 maps. */
export function denseConvKernel(s: ConvShape): ProgramCall {
  const ov = Math.ceil(s.cout / 4);
  const groups = s.groups ?? 1;
  if (groups > 1 && (s.depthwise || s.cin % groups !== 0 || (s.cout / groups) % 4 !== 0)) {
    throw new Error(`dense_conv: ${groups} groups need cin (${s.cin}) divisible by them and cout / groups (${s.cout / groups}) a multiple of 4`);
  }
  const dw = s.depthwiseInput;
  if (dw && (s.depthwise || s.kernel !== 1 || s.stride !== 1 || s.pad !== 0 || dw.h !== s.h + dw.kernel - 1 || dw.w !== s.w + dw.kernel - 1 || dw.channels !== s.cin)) {
    throw new Error('dense_conv: a depthwise input feeds a 1×1 conv (stride 1, no padding) of its output size and channels');
  }
  const dwFields = {
    dwK: dw?.kernel ?? 0, dwInH: dw?.h ?? 0, dwInW: dw?.w ?? 0, dwWeights: dw?.weightsAt ?? 0, dwCv: dw ? Math.ceil(dw.channels / 4) : 0,
  };
  if (s.tiled) {
    const defines = { COLS: 1, DW: dw ? 1 : 0 };
    const { entry, tileUniforms, threads } = tiledConv(s, 'dense_conv');
    return {
      program: { shader: 'dense_conv', entry, defines },
      uniforms: { ...convFields(s, threads), cin: s.cin / groups, cout: s.cout, ov, ...dwFields, ...tileUniforms },
      threads,
    };
  }
  if (!s.depthwise) {
    if (s.lif && s.cols === 4) throw new Error('a conv with a fused LIF computes one column per output vec4');
    // DW = 1: 8 output vec4s of one pixel a thread (wordConv), one column.
    const cols = s.lif || dw ? 1 : s.cols ?? (s.steps * s.oh * Math.ceil(s.ow / 4) * ov < DENSE_SMALL_LAYER_THREADS ? 1 : 4);
    const outWQ = Math.ceil(s.ow / cols);
    const threads = s.lif ? lifThreads(s) : dw ? s.steps * s.oh * s.ow * Math.ceil(ov / 8) : s.steps * s.oh * outWQ * ov;
    return {
      program: { shader: 'dense_conv', entry: convEntry(s), defines: { COLS: cols, DW: dw ? 1 : 0 } },
      uniforms: {
        ...convFields(s, threads), cin: s.cin / groups, cout: s.cout, ov, outWQ, groupCout: s.cout / groups, ...dwFields,
      },
      threads,
    };
  }
  const outWQ = Math.ceil(s.ow / 4);
  const threads = s.steps * s.oh * outWQ * ov;
  return {
    program: { shader: 'dense_dwconv', entry: convEntry(s), defines: {} },
    uniforms: { ...convFields(s, threads), c: s.cout, cv: ov, outWQ },
    threads,
  };
}

/** `add.wgsl`. */
export function addKernel(a: { perStep: number; steps: number; aStepStride: number; bStepStride: number }): ProgramCall {
  const threads = a.steps * a.perStep;
  return {
    program: { shader: 'add', entry: 'main', defines: {} },
    uniforms: { perStep: a.perStep, total: threads, aStepStride: a.aStepStride, bStepStride: a.bStepStride },
    threads,
  };
}

export interface AttentionShape { timeSteps: number; channels: number; tokens: number; heads: number; dense: boolean }

/**
 * `attention.wgsl`: kᵀv and q·(kᵀv)·scale in one dispatch, one workgroup per (block of DVB output
 * vec4s, head, step) holding its d × 4·DVB columns of kᵀv in workgroup memory (at most 16 KiB).
 */
export function attentionKernel(a: AttentionShape & { scale: number }): ProgramCall {
  const d = a.channels / a.heads;
  const dv = Math.ceil(d / 4);
  // The largest power of two ≤ 8 (dividing the workgroup size) with d·DVB vec4s in 16 KiB.
  let dvb = 8;
  while (dvb > 1 && (dvb / 2 >= dv || d * dvb * 16 > 16384)) dvb /= 2;
  if (d * dvb * 16 > 16384) throw new Error(`attention: ${d} channels per head do not fit the workgroup memory`);
  const blocks = Math.ceil(dv / dvb);
  const threads = a.timeSteps * a.heads * blocks * programInterface('attention').entry('main').workgroupSize;
  return {
    program: { shader: 'attention', entry: 'main', defines: { MODE: a.dense ? 1 : 0, DVB: dvb, KVW: d * dvb } },
    uniforms: { channels: a.channels, tokens: a.tokens, heads: a.heads, d, dv, blocks, total: threads, scale: a.scale },
    threads,
  };
}

/** `head.wgsl` spatial_mean: `[S][C][N]` → `[S][C]`. */
export function spatialMeanKernel(a: { channels: number; positions: number; steps: number; xStepStride: number }): ProgramCall {
  const threads = a.steps * a.channels;
  return {
    program: { shader: 'head', entry: 'spatial_mean', defines: { MODE: 0 } },
    uniforms: { channels: a.channels, positions: a.positions, xStepStride: a.xStepStride, total: threads },
    threads,
  };
}

/** `head.wgsl` linear over spikes `[T][in]` → `[T][out]`. */
export function linearKernel(a: { timeSteps: number; inFeatures: number; outFeatures: number; dense: boolean }): ProgramCall {
  const outVecs = Math.ceil(a.outFeatures / 4);
  const threads = a.timeSteps * outVecs;
  return {
    program: { shader: 'head', entry: 'linear', defines: { MODE: a.dense ? 1 : 0 } },
    uniforms: { inFeatures: a.inFeatures, outVecs, outFeatures: a.outFeatures, total: threads },
    threads,
  };
}

/** `head.wgsl` logits: mean over T of each head, then over the (1 or 2) heads. */
export function logitsKernel(a: { timeSteps: number; classes: number; heads: number }): ProgramCall {
  return {
    program: { shader: 'head', entry: 'logits', defines: { MODE: 0 } },
    uniforms: { outFeatures: a.classes, total: a.classes, steps: a.timeSteps, heads: a.heads },
    threads: a.classes,
  };
}

/**
 * `head.wgsl` classifier: the linear head(s) over spikes `[T][in]` and their logits (mean over T,
 * then over the 1 or 2 heads) in one dispatch, one thread per output vec4.
 */
export function classifierKernel(a: { timeSteps: number; inFeatures: number; outFeatures: number; heads: number; dense: boolean }): ProgramCall {
  const outVecs = Math.ceil(a.outFeatures / 4);
  return {
    program: { shader: 'head', entry: 'classifier', defines: { MODE: a.dense ? 1 : 0 } },
    uniforms: { inFeatures: a.inFeatures, outVecs, outFeatures: a.outFeatures, total: outVecs, steps: a.timeSteps, heads: a.heads },
    threads: outVecs,
  };
}

/** `upsample.wgsl`: ×2 nearest (MODE 0) or bilinear (MODE 1) of `[S][C][H][W]`, one thread per output. */
export function upsampleKernel(a: { channels: number; height: number; width: number; steps: number; xStepStride: number; mode: 'nearest' | 'bilinear' }): ProgramCall {
  const threads = a.steps * a.channels * 4 * a.height * a.width;
  return {
    program: { shader: 'upsample', entry: 'main', defines: { MODE: a.mode === 'nearest' ? 0 : 1 } },
    uniforms: { channels: a.channels, inH: a.height, inW: a.width, total: threads, xStepStride: a.xStepStride },
    threads,
  };
}

/** `segmentation_mask.wgsl`: class index per input pixel from `[K][h][w]` logits at `stride`. */
export function segmentationMaskKernel(a: { classes: number; height: number; width: number; stride: number }): ProgramCall {
  const threads = a.height * (a.width / 4);
  return {
    program: { shader: 'segmentation_mask', entry: 'main', defines: {} },
    uniforms: {
      classes: a.classes, h: a.height / a.stride, w: a.width / a.stride, stride: a.stride, height: a.height, width: a.width,
      total: threads,
    },
    threads,
  };
}

/** The smallest f32 ≥ `x`: `v ≥ result` ⇔ `v ≥ x` for every f32 `v`. */
export function f32AtLeast(x: number): number {
  const f = Math.fround(x);
  if (f >= x || !Number.isFinite(f)) return f;
  // f < x: step one ulp toward +∞ (a positive f grows, a negative one shrinks in magnitude,
  // f = -0 becomes the smallest positive subnormal).
  if (f === 0) return 1.401298464324817e-45;
  const bits = new Uint32Array(new Float32Array([f]).buffer);
  bits[0] += f > 0 ? 1 : -1;
  return new Float32Array(bits.buffer)[0];
}

/** `detection_decode.wgsl`, entry `peaks` | `rank` | `nms`, on a `[K][h][w]` heatmap. */
export function detectionDecodeKernel(entry: 'peaks' | 'rank' | 'nms', a: {
  classes: number; height: number; width: number; stride: number;
  logitThreshold: number; preNmsTopK: number; nmsIou: number; maxDetections: number;
}): ProgramCall {
  const h = a.height / a.stride, w = a.width / a.stride;
  const cells = a.classes * h * w;
  return {
    program: { shader: 'detection_decode', entry, defines: {} },
    uniforms: {
      classes: a.classes, h, w, stride: a.stride, height: a.height, width: a.width, topK: a.preNmsTopK, maxKept: a.maxDetections,
      logitThreshold: f32AtLeast(a.logitThreshold), nmsIou: a.nmsIou, total: cells,
    },
    threads: entry === 'nms' ? 1 : cells,
  };
}
