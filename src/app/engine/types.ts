/**
 * The app's inference engines: one interface over the WebGPU runtime, ONNX Runtime Web (wasm) and
 * the CPU reference (both in workers). The app never talks to a runtime directly.
 */
import type { ModelConfig } from '../../model/config.ts';
import type { FrameResult, LayerSpikes } from '../../runtime/types.ts';
import type { ModelWeights } from '../../model/weights.ts';
import type { ModelInputs } from '../../model/inputSpec.ts';

/** A model ready to run: its config and float32 weights, and how the app should present it. */
export interface AppModel {
  /** Unique id (`builtin:digits-tiny`, `random:tiny`, `cache:<id>`). */
  id: string;
  /** Display name. */
  name: string;
  config: ModelConfig;
  weights: ModelWeights;
  /** False for seeded random weights: predictions mean nothing, spikes are still real. */
  trained: boolean;
  /** The input size and crop the file declares per task (src/model/inputSpec.ts); {} if none. */
  inputs?: ModelInputs;
  /** The classifier's class names the file gives (`spikeformer.tasks` `classify.classNames`), if any. */
  classNames?: string[];
  /** Top probability under which the answer is "no digit" (`classify.noDigitBelow`), for models with that class. */
  noDigitBelow?: number;
  /** The address it was downloaded from ("Load from URL"), kept in the page's address. */
  url?: string;
  /** Shown with the name ("untrained — for exploring spikes"). */
  note?: string;
}

export interface LoadOptions {
  /** Model input size (multiples of 16). */
  height: number;
  width: number;
  /** Neuron layers whose membrane potentials the app may ask for. */
  membranes: string[];
}

/** What the app asks for in each frame besides logits and spike counts. */
export interface EngineRequest {
  spikeMaps: string[];
  membranes: string[];
  /**
   * Also run this frame through the dense baseline kernels and time both modes
   * (`EngineFrame.comparison`); engines without `compareTiming` ignore it.
   */
  compare?: boolean;
}

/** How a mode comparison times the two runs: GPU timestamp queries per dispatch, or wall time. */
export type CompareTiming = 'gpu-timestamps' | 'wall';

/** One mode's run of a compared frame. */
export interface ModeRun {
  /** The frame's time, ms: GPU time summed over its dispatches (timestamps), else wall time of the run. */
  ms: number;
  /** GPU time of each dispatch, by step name (op name, or `op.part`); null without timestamps. */
  steps: { name: string; ms: number }[] | null;
  layers: LayerSpikes[];
}

/** The same frame through the event-driven kernels (`spike`) and the dense baseline (`dense`). */
export interface ModeComparison {
  timing: CompareTiming;
  spike: ModeRun;
  dense: ModeRun;
}

export interface EngineFrame extends FrameResult {
  /** Membrane potentials `[T, C, H, W]` of the requested (and available) layers. */
  membranes: Map<string, Float32Array>;
  /** Wall time of this frame in the engine, ms (preprocessing included). */
  ms: number;
  /** With `EngineRequest.compare` on an engine that can: both modes, timed. */
  comparison?: ModeComparison;
  /** Why the comparison asked for could not run (e.g. the dense runtime did not fit). */
  comparisonError?: string;
}

/** A frame: an image of any size (centre-cropped and resized by the engine) or a normalized `[3,H,W]` input. */
export type FrameInput = ImageBitmap | Float32Array;

export interface EngineEvent {
  kind: 'device-lost' | 'device-restored' | 'info' | 'error';
  message: string;
}

export interface InferenceEngine {
  /** What actually runs: "WebGPU", "ONNX Runtime Web (wasm, 2 threads)", "CPU reference (Web Worker)". */
  readonly backendName: string;
  /** The adapter or device: "google · swiftshader (fallback adapter)", "JavaScript, 1 worker". */
  readonly adapterName: string;
  /**
   * Engines on a GPU whose adapter is a software one (a fallback adapter: SwiftShader and the
   * like): the adapter's description ("google · swiftshader"); absent or null otherwise.
   */
  readonly softwareAdapter?: string | null;
  /** The largest input this engine should be given (the CPU reference is kept small). */
  readonly maxInputSize: number;
  /**
   * Whether frames come with spike maps (and membranes) when asked; false for ONNX Runtime, whose
   * model returns per-layer spike counts only.
   */
  readonly hasSpikeMaps: boolean;
  /**
   * Engines that hold both kernel sets (WebGPU): how `EngineRequest.compare` times event-driven
   * against dense. Absent where there is one set only (ONNX Runtime, the CPU reference).
   */
  readonly compareTiming?: CompareTiming;
  load(model: AppModel, options: LoadOptions): Promise<void>;
  runFrame(frame: FrameInput, request: EngineRequest): Promise<EngineFrame>;
  /** Layers whose membranes this engine can return for the loaded model. */
  membraneLayers(): ReadonlySet<string>;
  /**
   * Engines that own a GPU device: destroys it as a driver reset would (the app's test hook), and
   * counts the times a lost device was recreated. Absent where there is no device to lose.
   */
  loseDevice?(): void;
  readonly recoveries?: number;
  /** Listens to device loss/recovery and other events; returns an unsubscribe function. */
  subscribe(listener: (event: EngineEvent) => void): () => void;
  dispose(): void;
}

/** A tiny listener list for engines. */
export class EngineEvents {
  private readonly listeners = new Set<(event: EngineEvent) => void>();
  subscribe(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: EngineEvent): void {
    for (const l of this.listeners) l(event);
  }
}
