/**
 * The benchmark (run in the page `bin/bench.mjs` opens, or under Node with Dawn): both WebGPU modes on
 * the same model, input and device; per-frame wall time, per-dispatch GPU time (timestamp
 * queries), per-layer firing rates, dense MACs and synaptic ops; and a sweep of one large spike
 * conv over input firing rates (event-driven vs dense kernel).
 */
import { bytesSource } from '../io/byteSource.ts';
import { availableTasks, defaultConfig, type ModelConfig, type Task } from '../model/config.ts';
import { loadModel } from '../model/loadModel.ts';
import { modelWeightsFromTensors } from '../model/weights.ts';
import { buildModelGraph, isSpikeValue, type ConvOp } from '../model/graph.ts';
import { randomModelWeights, randomSmoothImage, seededRandom } from '../runtime/cpu/randomWeights.ts';
import type { ModelWeights } from '../model/weights.ts';
import { denseConvKernel, denseOutput, spikeConvKernel, type ConvShape } from '../runtime/webgpu/kernels.ts';
import { packConvWeights, packEpilogue, packSpikes } from '../runtime/webgpu/packing.ts';
import { PipelineCache, prepareKernel, storageBuffer, type Kernel } from '../runtime/webgpu/programs.ts';
import { WebGpuRuntime, type StepTiming } from '../runtime/webgpu/webGpuRuntime.ts';
import { exportOnnx } from '../export/onnx.ts';
import { OnnxRuntimeBackend, type OnnxExecutionProvider, type OrtModule } from '../runtime/onnx/onnxRuntimeBackend.ts';
import { wantedThreads } from '../runtime/onnx/onnxRuntimeBackend.ts';

export interface BenchOptions {
  /** URL of a checkpoint to load; absent: the calibrated random model with `dims`. */
  modelUrl?: string;
  /** The checkpoint's bytes (instead of a URL, e.g. read from a file under Node). */
  modelBytes?: Uint8Array;
  modelName?: string;
  dims?: [number, number, number, number];
  classes?: number;
  timeSteps?: number;
  size?: [number, number];
  frames?: number;
  warmup?: number;
  sweepRates?: number[];
  /** Repetitions per sweep point. */
  sweepRepeat?: number;
  /**
   * The sweep's layer: a 3×3-style conv `{cin, cout, kernel, stride, h, w}` with random weights;
   * default: 128→512, 3×3, 28×28 (15M's ConvBlock2_*.conv1 at 224×224). `'model'`: the model's
   * largest spike-input conv.
   */
  sweepLayer?: { cin: number; cout: number; kernel: number; stride: number; h: number; w: number } | 'model';
  /** ONNX Runtime Web providers to compare with (default: webgpu and wasm, when an ORT module is given). */
  ortProviders?: OnnxExecutionProvider[];
  /** Timed frames per ORT provider (default min(frames, 3): ORT's WebGPU provider is slow on SwiftShader). */
  ortFrames?: number;
  /** ORT wasm threads (default: what the app would ask for here, `wantedThreads`); to measure the rule. */
  ortThreads?: number;
  /**
   * The WebGPU plan: for a `software` or a `hardware` adapter (`PlanOptions.software`); default:
   * what the adapter is (`isFallbackAdapter`), as the app does.
   */
  plan?: 'software' | 'hardware';
}

export interface BenchRun {
  backend: string;
  model: string;
  input: [number, number];
  T: number;
  ms_per_frame: { median: number; min: number };
  frames: number;
  gpu_ms_total: number | null;
  top1: number;
  /** This run's median over webgpu-spike's median (> 1: slower than ours). */
  ratio_to_webgpu_spike?: number;
  /** Total spikes of the frame (equal across backends when they agree). */
  spikes?: number;
  /** GPU dispatches per frame (WebGPU: the plan's steps); null where not known (ONNX Runtime). */
  dispatches: number | null;
  /** WebGPU: the plan it ran (for a software or a hardware adapter); null for ONNX Runtime. */
  plan: 'software' | 'hardware' | null;
  /** CPU threads of the run (ONNX Runtime wasm: what the app would use here); null for GPU runs. */
  threads: number | null;
}

export interface BenchLayer {
  name: string;
  kernel: string;
  macs: number;
  input_rate: number | null;
  sops: number | null;
  gpu_ms: { 'webgpu-spike': number | null; 'webgpu-dense': number | null };
}

export interface BenchResult {
  device: { adapter: Record<string, unknown>; timestamps: boolean };
  model: { name: string; embed_dims: number[]; classes: number; T: number; params: number };
  runs: BenchRun[];
  /**
   * For a model with task heads: webgpu-spike frame time per task set (`classify` is the backbone
   * and its classifier; every other set adds heads on the same backbone pass), and the heads' share
   * of the frame with all tasks.
   */
  tasks: { tasks: Task[]; ms_per_frame: { median: number; min: number }; frames: number }[];
  heads_share: number | null;
  /** Providers that could not run, with the reason (never silently left out). */
  failed: { backend: string; error: string }[];
  totals: { dense_macs: number; sops: number; spike_rate: number };
  layers: BenchLayer[];
  sweep: { layer: string; shape: Record<string, number>; macs: number; rate: number; measured_rate: number; 'webgpu-spike_ms': number; 'webgpu-dense_ms': number; speedup: number }[];
}

const median = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

async function loadBenchModel(o: BenchOptions): Promise<{ config: ModelConfig; weights: ModelWeights; name: string }> {
  if (o.modelUrl || o.modelBytes) {
    let bytes = o.modelBytes;
    if (!bytes) {
      const res = await fetch(o.modelUrl!);
      if (!res.ok) throw new Error(`fetch ${o.modelUrl}: ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    }
    const source = bytesSource(bytes, o.modelName ?? 'checkpoint');
    const { config, tensors } = await loadModel(source, { timeSteps: o.timeSteps });
    return { config, weights: modelWeightsFromTensors(tensors), name: o.modelName ?? 'checkpoint' };
  }
  const dims = o.dims ?? [16, 32, 64, 96];
  const config = defaultConfig({ embedDims: dims, numClasses: o.classes ?? 1000, timeSteps: o.timeSteps ?? 1 });
  return { config, weights: randomModelWeights(config, { seed: 1 }), name: `random-calibrated-${dims.join('-')}` };
}

/** The runtime's plan options for a plan asked for by name; none given: the runtime picks from the adapter. */
export function planOptions(plan?: 'software' | 'hardware'): { software?: boolean } {
  return plan === undefined ? {} : { software: plan === 'software' };
}

/** The name of the plan a runtime was built with. */
export function planName(plan: { software: boolean }): 'software' | 'hardware' {
  return plan.software ? 'software' : 'hardware';
}

export async function runBenchmark(o: BenchOptions, gpu: GPU | undefined = globalThis.navigator?.gpu, ort?: OrtModule): Promise<BenchResult> {
  const adapter = await gpu?.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter');
  const timestamps = adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({
    requiredFeatures: timestamps ? ['timestamp-query'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  const info = adapter.info;
  const { config, weights, name } = await loadBenchModel(o);
  const [h, w] = o.size ?? [128, 128];
  const graph = buildModelGraph(config, h, w);
  const T = config.timeSteps;
  const input = randomSmoothImage(config.inChannels, h, w, 5);
  const frames = o.frames ?? 10;
  const warmup = o.warmup ?? 2;
  const params = [...weights.values()].reduce((a, v) => a + v.length, 0);

  const runs: BenchResult['runs'] = [];
  const timings = new Map<string, StepTiming[]>();
  let spikeLayers: { name: string; onesPerStep: number[]; neuronsPerStep: number }[] = [];
  let planSteps: WebGpuRuntime['plan']['steps'] = [];
  // The plan asked for, else the runtime's choice from the adapter (as the app's).
  const planOption = planOptions(o.plan);
  for (const mode of ['spike', 'dense'] as const) {
    const backend = `webgpu-${mode}`;
    const rt = await WebGpuRuntime.create(device, graph, weights, { mode, ...planOption });
    const plan = planName(rt.plan);
    let last = await rt.run(input);
    for (let i = 1; i < warmup; i++) last = await rt.run(input);
    const times: number[] = [];
    for (let i = 0; i < frames; i++) {
      const t0 = performance.now();
      last = await rt.run(input);
      times.push(performance.now() - t0);
    }
    if (mode === 'spike') { spikeLayers = last.layers; planSteps = rt.plan.steps; }
    const dispatches = rt.plan.steps.length;
    rt.destroy();
    let gpuTotal: number | null = null;
    if (timestamps) {
      const prof = await WebGpuRuntime.create(device, graph, weights, { mode, profile: true, ...planOption });
      await prof.run(input);
      const t = (await prof.run(input)).timings!;
      timings.set(backend, t);
      gpuTotal = t.reduce((a, s) => a + s.ms, 0);
      prof.destroy();
    }
    runs.push({
      backend, model: name, input: [h, w], T, ms_per_frame: { median: median(times), min: Math.min(...times) }, frames,
      gpu_ms_total: gpuTotal, top1: last.logits.indexOf(Math.max(...last.logits)), spikes: totalSpikes(last.layers),
      dispatches, plan, threads: null,
    });
  }

  // The same model under ONNX Runtime (exported from the same graph and weights).
  const failed: BenchResult['failed'] = [];
  if (ort) {
    const onnx = exportOnnx(graph, weights);
    // The wasm provider with the threads the app's ONNX engine would ask for on this machine (set
    // before the first session: ORT starts its wasm, also behind the webgpu provider, once).
    const env = (ort as OrtModule & { env?: { wasm?: { numThreads?: number } } }).env;
    const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
    if (env?.wasm) env.wasm.numThreads = o.ortThreads ?? wantedThreads(isolated, globalThis.navigator?.hardwareConcurrency);
    for (const provider of o.ortProviders ?? ['webgpu', 'wasm']) {
      const backend = `onnx-${provider}`;
      try {
        const session = await OnnxRuntimeBackend.create(ort, onnx, graph, { executionProvider: provider });
        let last = await session.run(input);
        const times: number[] = [];
        for (let i = 0; i < (o.ortFrames ?? Math.min(frames, 3)); i++) {
          const t0 = performance.now();
          last = await session.run(input);
          times.push(performance.now() - t0);
        }
        await session.release();
        runs.push({
          backend, model: name, input: [h, w], T, ms_per_frame: { median: median(times), min: Math.min(...times) }, frames: times.length,
          gpu_ms_total: null, top1: last.logits.indexOf(Math.max(...last.logits)), spikes: totalSpikes(last.layers),
          // ORT's dispatches are not observable from here; its wasm thread count is (ORT lowers it to 1 without isolation).
          dispatches: null, plan: null, threads: provider === 'wasm' ? env?.wasm?.numThreads ?? 1 : null,
        });
      } catch (e) {
        failed.push({ backend, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  // Task heads: the same runtime built for each task set.
  const tasks: BenchResult['tasks'] = [];
  const available = availableTasks(config);
  if (available.length > 1) {
    const sets: Task[][] = [['classify'], ...available.filter((t) => t !== 'classify').map((t): Task[] => ['classify', t]), available];
    for (const set of sets) {
      const rt = await WebGpuRuntime.create(device, buildModelGraph(config, h, w, { tasks: set }), weights, { mode: 'spike', ...planOption });
      for (let i = 0; i < warmup; i++) await rt.run(input);
      const times: number[] = [];
      for (let i = 0; i < frames; i++) {
        const t0 = performance.now();
        await rt.run(input);
        times.push(performance.now() - t0);
      }
      rt.destroy();
      tasks.push({ tasks: set, ms_per_frame: { median: median(times), min: Math.min(...times) }, frames });
    }
  }
  const headsShare = tasks.length ? 1 - tasks[0].ms_per_frame.median / tasks[tasks.length - 1].ms_per_frame.median : null;

  const ours = runs.find((r) => r.backend === 'webgpu-spike')!.ms_per_frame.median;
  for (const r of runs) r.ratio_to_webgpu_spike = r.ms_per_frame.median / ours;

  // Per-layer table: ops with MACs, their input firing rates (from the spike run's counts).
  const rateOf = new Map(spikeLayers.map((l) => [l.name, l.onesPerStep.reduce((a, b) => a + b, 0) / (l.neuronsPerStep * T)]));
  const gpuMs = (backend: string) => {
    const m = new Map<string, number>();
    for (const s of timings.get(backend) ?? []) m.set(s.name, (m.get(s.name) ?? 0) + s.ms);
    return m;
  };
  const spikeMs = gpuMs('webgpu-spike');
  const denseMs = gpuMs('webgpu-dense');
  const layers: BenchLayer[] = planSteps.map((s) => {
    const rates = s.spikeInputs.map((n) => rateOf.get(n) ?? 0);
    const rate = rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null;
    // For kᵀv, an AND fires only where both k and v spiked; SOPs count those.
    const sopRate = rates.length === 2 ? rates[0] * rates[1] : rate;
    return {
      name: s.name, kernel: s.program.shader, macs: s.macs, input_rate: rate,
      sops: sopRate === null ? null : Math.round(s.macs * sopRate),
      gpu_ms: { 'webgpu-spike': timestamps ? (spikeMs.get(s.name) ?? 0) : null, 'webgpu-dense': timestamps ? (denseMs.get(s.name) ?? 0) : null },
    };
  });
  const macLayers = layers.filter((l) => l.macs > 0);
  const totals = {
    dense_macs: macLayers.reduce((a, l) => a + l.macs, 0),
    sops: macLayers.reduce((a, l) => a + (l.sops ?? 0), 0),
    spike_rate: spikeLayers.reduce((a, l) => a + l.onesPerStep.reduce((x, y) => x + y, 0), 0) / spikeLayers.reduce((a, l) => a + l.neuronsPerStep * T, 0),
  };

  // Sweep: the spike-input conv (groups 1) with the most MACs, on synthetic spikes at each rate.
  let layer: SweepLayer;
  if (o.sweepLayer === 'model') {
    const convs = graph.ops.filter((op): op is ConvOp => op.kind === 'conv' && op.groups === 1 && isSpikeValue(graph, op.inputs[0]));
    const big = convs.reduce((a, b) => (macsOf(graph, b) > macsOf(graph, a) ? b : a));
    const [cin, lh, lw] = graph.shapes.get(big.inputs[0])!;
    layer = { name: big.name, cin, cout: big.outChannels, kernel: big.kernel, stride: big.stride, pad: big.pad, h: lh, w: lw, weight: weights.get(big.weight)! };
  } else {
    const l = o.sweepLayer ?? { cin: 128, cout: 512, kernel: 3, stride: 1, h: 28, w: 28 };
    const fanIn = l.cin * l.kernel * l.kernel;
    const u = seededRandom(99);
    const weight = Float32Array.from({ length: l.cout * fanIn }, () => (u() - 0.5) * 2 / Math.sqrt(fanIn));
    layer = { name: `conv ${l.cin}→${l.cout} ${l.kernel}×${l.kernel} s${l.stride} at ${l.h}×${l.w}`, ...l, pad: Math.floor(l.kernel / 2), weight };
  }
  const sweep = await sweepLayer(device, layer, o.sweepRates ?? [0.5, 0.2, 0.1, 0.05, 0.01], o.sweepRepeat ?? 3, timestamps);
  device.destroy();
  return {
    device: { adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, isFallbackAdapter: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? null }, timestamps },
    model: { name, embed_dims: config.embedDims, classes: config.numClasses, T, params },
    runs, failed, tasks, heads_share: headsShare, totals, layers, sweep,
  };
}

function totalSpikes(layers: { onesPerStep: number[] }[]): number {
  return layers.reduce((a, l) => a + l.onesPerStep.reduce((x, y) => x + y, 0), 0);
}

function macsOf(graph: ReturnType<typeof buildModelGraph>, op: ConvOp): number {
  const [c, h, w] = graph.shapes.get(op.output)!;
  return c * h * w * op.inChannels * op.kernel * op.kernel / op.groups;
}

interface SweepLayer { name: string; cin: number; cout: number; kernel: number; stride: number; pad: number; h: number; w: number; weight: Float32Array }

async function sweepLayer(device: GPUDevice, op: SweepLayer, rates: number[], repeat: number, timestamps: boolean): Promise<BenchResult['sweep']> {
  const { cin, cout, h, w } = op;
  const oh = Math.floor((h + 2 * op.pad - op.kernel) / op.stride) + 1;
  const ow = Math.floor((w + 2 * op.pad - op.kernel) / op.stride) + 1;
  const cache = new PipelineCache(device);
  const shape: ConvShape = {
    cin, h, w, cout, oh, ow, kernel: op.kernel, stride: op.stride, pad: op.pad, depthwise: false, steps: 1,
    hasBias: false, nAffine: 0, xStepStride: 0, out: denseOutput(cout, oh, ow),
  };
  const wBuf = storageBuffer(device, packConvWeights(op.weight, cout, cin, op.kernel));
  const pBuf = storageBuffer(device, packEpilogue(cout, null, []));
  const outBuf = storageBuffer(device, cout * oh * ow * 4);
  const query = timestamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : null;
  const resolve = timestamps ? device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : null;
  const staging = timestamps ? device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) : null;
  const u = seededRandom(77);
  const out: BenchResult['sweep'] = [];
  const time = async (k: Kernel): Promise<number> => {
    // Warm-up, then `repeat` dispatches in one pass: GPU time from timestamps, else wall time.
    let enc = device.createCommandEncoder();
    k.encode(enc);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    enc = device.createCommandEncoder();
    const t0 = performance.now();
    k.encode(enc, repeat, query ? { querySet: query, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } : undefined);
    if (query) {
      enc.resolveQuerySet(query, 0, 2, resolve!, 0);
      enc.copyBufferToBuffer(resolve!, 0, staging!, 0, 16);
    }
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    const wall = (performance.now() - t0) / repeat;
    if (!query) return wall;
    await staging!.mapAsync(GPUMapMode.READ);
    const ts = new BigUint64Array(staging!.getMappedRange().slice(0));
    staging!.unmap();
    return Number(ts[1] - ts[0]) / 1e6 / repeat;
  };
  for (const rate of rates) {
    const s = new Uint8Array(cin * h * w);
    let ones = 0;
    for (let i = 0; i < s.length; i++) { s[i] = u() < rate ? 1 : 0; ones += s[i]; }
    const packed = storageBuffer(device, packSpikes(s, 'channel', 1, cin, h * w));
    const dense = storageBuffer(device, packSpikes(s, 'dense', 1, cin, h * w));
    const ks = await prepareKernel(device, cache, spikeConvKernel({ ...shape, xStepStride: Math.ceil(cin / 32) * h * w }), { X: packed, W: wBuf, P: pBuf, O: outBuf });
    const kd = await prepareKernel(device, cache, denseConvKernel({ ...shape, xStepStride: cin * h * w }), { X: dense, W: wBuf, P: pBuf, O: outBuf });
    const spikeMs = await time(ks);
    const denseMs = await time(kd);
    out.push({
      layer: op.name, shape: { cin, cout, h, w, kernel: op.kernel, stride: op.stride }, macs: cout * oh * ow * cin * op.kernel * op.kernel, rate, measured_rate: ones / s.length,
      'webgpu-spike_ms': spikeMs, 'webgpu-dense_ms': denseMs, speedup: denseMs / spikeMs,
    });
    for (const x of [ks, kd, packed, dense]) x.destroy();
  }
  for (const b of [wBuf, pBuf, outBuf, resolve, staging]) b?.destroy();
  query?.destroy();
  return out;
}
