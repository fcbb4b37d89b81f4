/**
 * The WebGPU engine: `WebGpuRuntime` (event-driven spike kernels) on a device of its own, fed by
 * `GpuPreprocessor`. A lost device (driver reset, `device.destroy()`, …) is recreated with the
 * same model and the app carries on; the frame that was in flight fails and is dropped.
 *
 * Frames asked to `compare` also run through a second runtime in `mode: 'dense'` (the baseline
 * that multiplies by zeros), built the first time a comparison is asked for. Both are timed with
 * timestamp queries where the adapter has them (then a profiled spike runtime runs the frame
 * too), else by wall time of a counts-only run of each.
 */
import { buildModelGraph, type ModelGraph } from '../../model/graph.ts';
import { WebGpuRuntime } from '../../runtime/webgpu/webGpuRuntime.ts';
import { modelSizeBitmap, preprocessOnCpu } from './frames.ts';
import { GpuPreprocessor } from '../../runtime/webgpu/preprocess.ts';
import { isSoftwareAdapter } from '../logic/engineTrial.ts';
import {
  EngineEvents, type AppModel, type CompareTiming, type EngineFrame, type EngineRequest, type FrameInput, type InferenceEngine, type LoadOptions, type ModeComparison, type ModeRun,
} from './types.ts';

export class WebGpuUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'WebGpuUnavailableError';
  }
}

export class DeviceLostError extends Error {
  constructor(reason: string) {
    super(`the GPU device was lost (${reason})`);
    this.name = 'DeviceLostError';
  }
}

/** What the adapter tells: its name ("google · swiftshader") and whether it is a fallback adapter. */
function adapterFacts(adapter: GPUAdapter): { name: string; fallback: boolean } {
  const info = (adapter.info ?? {}) as Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean };
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((s): s is string => !!s && s.length > 0);
  const unique = parts.filter((p, i) => parts.indexOf(p) === i);
  return { name: unique.join(' · ') || 'unnamed adapter', fallback: info.isFallbackAdapter ?? legacy.isFallbackAdapter ?? false };
}

/** "google · swiftshader (fallback adapter)" from what the adapter tells. */
export function describeAdapter(adapter: GPUAdapter): string {
  const { name, fallback } = adapterFacts(adapter);
  return `${name}${fallback ? ' (fallback adapter)' : ''}`;
}

/** The adapter's name when it runs on the CPU (SwiftShader and the like), else null. */
function softwareAdapterOf(adapter: GPUAdapter): string | null {
  const { name, fallback } = adapterFacts(adapter);
  return isSoftwareAdapter(fallback, name) ? name : null;
}

async function openDevice(): Promise<{ adapter: GPUAdapter; device: GPUDevice; timestamps: boolean }> {
  if (typeof navigator === 'undefined' || !navigator.gpu) throw new WebGpuUnavailableError('this browser has no navigator.gpu');
  let adapter: GPUAdapter | null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new WebGpuUnavailableError(`requestAdapter() failed: ${(e as Error).message}`);
  }
  if (!adapter) throw new WebGpuUnavailableError('no WebGPU adapter was found');
  // Big checkpoints at 224×224 need more than the default 128 MiB per binding.
  const l = adapter.limits;
  // Timestamp queries, where the adapter has them, time the event-driven vs dense comparison.
  const timestamps = adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({
    label: 'spikeformer',
    requiredFeatures: timestamps ? ['timestamp-query'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  return { adapter, device, timestamps };
}

interface Built {
  graph: ModelGraph;
  runtime: WebGpuRuntime;
  pre: GpuPreprocessor;
  /** The normalized frame `[3, H, W]`, written by `pre` and read by the runtime. */
  frame: GPUBuffer;
  membranes: Set<string>;
  /** The comparison's runtimes, built the first time a frame asks to compare. */
  pair: Promise<ComparePair> | null;
}

/** `dense`: the baseline; `spike`: a profiled event-driven runtime (timestamps only, else the live one). */
interface ComparePair {
  spike: WebGpuRuntime | null;
  dense: WebGpuRuntime;
}

/** A mode's run with its wall time beside the GPU time. */
type TimedRun = ModeRun & { wallMs: number };

/** The run as the comparison reports it: GPU time per dispatch, or (`wall`) wall time only. */
function modeRun(r: TimedRun, wall: boolean): ModeRun {
  return wall ? { ms: r.wallMs, steps: null, layers: r.layers } : { ms: r.ms, steps: r.steps, layers: r.layers };
}

export class WebGpuEngine implements InferenceEngine {
  readonly backendName = 'WebGPU';
  readonly maxInputSize = 512;
  readonly hasSpikeMaps = true;
  adapterName: string;
  softwareAdapter: string | null;
  compareTiming: CompareTiming;
  private device: GPUDevice;
  private built: Built | null = null;
  private loaded: { model: AppModel; options: LoadOptions } | null = null;
  private lost: Promise<never>;
  private recovering: Promise<void> | null = null;
  private loading: Promise<void> = Promise.resolve();
  private disposed = false;
  private cpuPreprocessNoted = false;
  private readonly events = new EngineEvents();
  /** Times the device was recreated (shown in the UI, used by tests). */
  recoveries = 0;

  private constructor(adapter: GPUAdapter, device: GPUDevice, timestamps: boolean) {
    this.device = device;
    this.adapterName = describeAdapter(adapter);
    this.softwareAdapter = softwareAdapterOf(adapter);
    this.compareTiming = timestamps ? 'gpu-timestamps' : 'wall';
    this.lost = this.watch(device);
  }

  /** Opens a device; rejects with `WebGpuUnavailableError` when WebGPU or an adapter is missing. */
  static async create(): Promise<WebGpuEngine> {
    const { adapter, device, timestamps } = await openDevice();
    return new WebGpuEngine(adapter, device, timestamps);
  }

  subscribe(listener: Parameters<InferenceEngine['subscribe']>[0]): () => void {
    return this.events.subscribe(listener);
  }

  /** A promise that rejects when `device` is lost, and starts the recovery. */
  private watch(device: GPUDevice): Promise<never> {
    const lost = device.lost.then((info): never => {
      if (!this.disposed && this.device === device) {
        const reason = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
        this.events.emit({ kind: 'device-lost', message: `The GPU device was lost (${reason}); recreating it…` });
        this.recovering = this.recreate().then(
          () => {
            this.recoveries++;
            this.events.emit({ kind: 'device-restored', message: `The GPU device was lost (${info.reason}) and has been recreated; carrying on.` });
          },
          (e: unknown) => this.events.emit({ kind: 'error', message: `The GPU device was lost and could not be recreated: ${(e as Error).message}` }),
        ).finally(() => {
          this.recovering = null;
        });
      }
      throw new DeviceLostError(info.reason);
    });
    lost.catch(() => {}); // observed by runFrame races only
    return lost;
  }

  private async recreate(): Promise<void> {
    this.destroyBuilt();
    const { adapter, device, timestamps } = await openDevice();
    if (this.disposed) {
      device.destroy();
      return;
    }
    this.device = device;
    this.adapterName = describeAdapter(adapter);
    this.softwareAdapter = softwareAdapterOf(adapter);
    this.compareTiming = timestamps ? 'gpu-timestamps' : 'wall';
    this.lost = this.watch(device);
    if (this.loaded) this.built = await this.build(this.loaded.model, this.loaded.options);
  }

  private async build(model: AppModel, options: LoadOptions): Promise<Built> {
    const graph = buildModelGraph(model.config, options.height, options.width);
    const runtime = await WebGpuRuntime.create(this.device, graph, model.weights, { membranes: options.membranes });
    const pre = new GpuPreprocessor(this.device);
    const frame = this.device.createBuffer({ label: 'normalized frame', size: 3 * options.width * options.height * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    return { graph, runtime, pre, frame, membranes: new Set(options.membranes), pair: null };
  }

  /** The comparison's runtimes for `built` (made once; a failure is kept and reported each time). */
  private comparePair(built: Built, model: AppModel, options: LoadOptions): Promise<ComparePair> {
    if (!built.pair) {
      const device = this.device;
      const profile = this.compareTiming === 'gpu-timestamps';
      built.pair = (async () => {
        const dense = await WebGpuRuntime.create(device, built.graph, model.weights, { mode: 'dense', profile });
        if (!profile) return { spike: null, dense };
        try {
          return { spike: await WebGpuRuntime.create(device, built.graph, model.weights, { mode: 'spike', profile, membranes: options.membranes }), dense };
        } catch (e) {
          dense.destroy();
          throw e;
        }
      })();
      built.pair.catch(() => {}); // reported by the frames that ask
    }
    return built.pair;
  }

  private destroyBuilt(): void {
    if (!this.built) return;
    this.built.pair?.then((p) => (p.spike?.destroy(), p.dense.destroy()), () => {});
    this.built.runtime.destroy();
    this.built.pre.destroy();
    this.built.frame.destroy();
    this.built = null;
  }

  /**
   * Builds the runtime for `model`; loads run one after another. The previous model is freed only
   * once the new one is built, so a model that fails to load leaves the old one running.
   */
  load(model: AppModel, options: LoadOptions): Promise<void> {
    const next = this.loading.then(async () => {
      if (this.recovering) await this.recovering;
      const built = await this.build(model, options);
      this.destroyBuilt();
      this.built = built;
      this.loaded = { model, options };
    });
    this.loading = next.catch(() => {});
    return next;
  }

  membraneLayers(): ReadonlySet<string> {
    return this.built?.membranes ?? new Set();
  }

  async runFrame(frame: FrameInput, request: EngineRequest): Promise<EngineFrame> {
    if (this.recovering) await this.recovering;
    const built = this.built;
    if (!built || !this.loaded) throw new Error('no model is loaded');
    const t0 = performance.now();
    const { width, height } = this.loaded.options;
    let input: Float32Array | GPUBuffer;
    if (frame instanceof Float32Array) {
      input = frame;
    } else {
      const bitmap = frame.width === width && frame.height === height ? frame : await modelSizeBitmap(frame, width, height);
      try {
        // The bitmap is already cropped and resized to the model size: the GPU pass only normalizes.
        const { mean, std } = this.loaded.model.config;
        built.pre.run(bitmap, width, height, built.frame, { width, height, mean, std, cropPct: 'stretch' });
        input = built.frame;
      } catch (e) {
        // copyExternalImageToTexture can fail on some software adapters: normalize on the CPU instead.
        if (!this.cpuPreprocessNoted) {
          this.cpuPreprocessNoted = true;
          this.events.emit({ kind: 'info', message: `GPU frame upload failed (${(e as Error).message}); preprocessing frames on the CPU.` });
        }
        input = preprocessOnCpu(bitmap, width, height, this.loaded.model.config.mean, this.loaded.model.config.std);
      } finally {
        if (bitmap !== frame) bitmap.close();
      }
    }
    const membranes = request.membranes.filter((n) => built.membranes.has(n));
    const asked = { spikeMaps: request.spikeMaps, membranes };
    let pair: ComparePair | null = null;
    let comparisonError: string | undefined;
    if (request.compare) {
      try {
        pair = await Promise.race([this.comparePair(built, this.loaded.model, this.loaded.options), this.lost]);
      } catch (e) {
        if (e instanceof DeviceLostError) throw e;
        comparisonError = `the dense runtime could not be built: ${(e as Error).message}`;
      }
    }
    // With timestamps the profiled spike runtime runs the frame itself (its GPU times are the frame's).
    const timed = await this.timedRun(pair?.spike ?? built.runtime, input, asked);
    const result = timed.result;
    let comparison: ModeComparison | undefined;
    if (pair) {
      const dense = (await this.timedRun(pair.dense, input, {})).run;
      if (pair.spike && timed.run.ms > 0 && dense.ms > 0) {
        comparison = { timing: 'gpu-timestamps', spike: modeRun(timed.run, false), dense: modeRun(dense, false) };
      } else {
        // Wall time (no timestamps, or they read 0): a counts-only run of each, so both read back the same.
        const spike = (await this.timedRun(pair.spike ?? built.runtime, input, {})).run;
        comparison = { timing: 'wall', spike: modeRun(spike, true), dense: modeRun(dense, true) };
      }
    }
    return {
      logits: result.logits, layers: result.layers, spikeMaps: result.spikeMaps, membranes: result.membranes, outputs: result.outputs ?? new Map(), tasks: result.tasks,
      ms: performance.now() - t0, comparison, comparisonError,
    };
  }

  /** One run of `runtime`, raced against device loss, with its wall time and (profiled) GPU time. */
  private async timedRun(runtime: WebGpuRuntime, input: Float32Array | GPUBuffer, request: { spikeMaps?: string[]; membranes?: string[] }) {
    const t0 = performance.now();
    const result = await Promise.race([runtime.run(input, request), this.lost]);
    const wallMs = performance.now() - t0;
    const steps = result.timings?.map((s) => ({ name: s.name, ms: s.ms })) ?? null;
    const run: TimedRun = { ms: steps ? steps.reduce((a, s) => a + s.ms, 0) : wallMs, steps, layers: result.layers, wallMs };
    return { result, run };
  }

  /** Test hook: destroys the device as a driver reset would lose it. */
  loseDevice(): void {
    this.device.destroy();
  }

  dispose(): void {
    this.disposed = true;
    this.destroyBuilt();
    this.device.destroy();
  }
}
