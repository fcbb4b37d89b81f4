/**
 * The WebGPU engine: `WebGpuRuntime` (event-driven spike kernels) on a device of its own, fed by
 * `GpuPreprocessor`. A lost device (driver reset, `device.destroy()`, …) is recreated with the
 * same model and the app carries on; the frame that was in flight fails and is dropped.
 */
import { buildModelGraph, type ModelGraph } from '../../model/graph.ts';
import { WebGpuRuntime } from '../../runtime/webgpu/webGpuRuntime.ts';
import { modelSizeBitmap, preprocessOnCpu } from './frames.ts';
import { GpuPreprocessor } from '../../runtime/webgpu/preprocess.ts';
import { EngineEvents, type AppModel, type EngineFrame, type EngineRequest, type FrameInput, type InferenceEngine, type LoadOptions } from './types.ts';

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

/** "google · swiftshader (fallback adapter)" from what the adapter tells. */
export function describeAdapter(adapter: GPUAdapter): string {
  const info = (adapter.info ?? {}) as Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean };
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((s): s is string => !!s && s.length > 0);
  const unique = parts.filter((p, i) => parts.indexOf(p) === i);
  const fallback = info.isFallbackAdapter ?? legacy.isFallbackAdapter ?? false;
  return `${unique.join(' · ') || 'unnamed adapter'}${fallback ? ' (fallback adapter)' : ''}`;
}

async function openDevice(): Promise<{ adapter: GPUAdapter; device: GPUDevice }> {
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
  const device = await adapter.requestDevice({
    label: 'spikeformer',
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  return { adapter, device };
}

interface Built {
  graph: ModelGraph;
  runtime: WebGpuRuntime;
  pre: GpuPreprocessor;
  /** The normalized frame `[3, H, W]`, written by `pre` and read by the runtime. */
  frame: GPUBuffer;
  membranes: Set<string>;
}

export class WebGpuEngine implements InferenceEngine {
  readonly backendName = 'WebGPU';
  readonly maxInputSize = 512;
  readonly hasSpikeMaps = true;
  adapterName: string;
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

  private constructor(adapter: GPUAdapter, device: GPUDevice) {
    this.device = device;
    this.adapterName = describeAdapter(adapter);
    this.lost = this.watch(device);
  }

  /** Opens a device; rejects with `WebGpuUnavailableError` when WebGPU or an adapter is missing. */
  static async create(): Promise<WebGpuEngine> {
    const { adapter, device } = await openDevice();
    return new WebGpuEngine(adapter, device);
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
    const { adapter, device } = await openDevice();
    if (this.disposed) {
      device.destroy();
      return;
    }
    this.device = device;
    this.adapterName = describeAdapter(adapter);
    this.lost = this.watch(device);
    if (this.loaded) this.built = await this.build(this.loaded.model, this.loaded.options);
  }

  private async build(model: AppModel, options: LoadOptions): Promise<Built> {
    const graph = buildModelGraph(model.config, options.height, options.width);
    const runtime = await WebGpuRuntime.create(this.device, graph, model.weights, { membranes: options.membranes });
    const pre = new GpuPreprocessor(this.device);
    const frame = this.device.createBuffer({ label: 'normalized frame', size: 3 * options.width * options.height * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    return { graph, runtime, pre, frame, membranes: new Set(options.membranes) };
  }

  private destroyBuilt(): void {
    if (!this.built) return;
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
    const result = await Promise.race([built.runtime.run(input, { spikeMaps: request.spikeMaps, membranes }), this.lost]);
    return { logits: result.logits, layers: result.layers, spikeMaps: result.spikeMaps, membranes: result.membranes, outputs: result.outputs ?? new Map(), tasks: result.tasks, ms: performance.now() - t0 };
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
