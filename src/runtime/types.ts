import type { Detection } from '../model/detectionBox.ts';

/**
 * What every backend (CPU reference, WebGPU, ONNX) gives the CLI and the app for one frame.
 */
export interface LayerSpikes {
  /** Official module name of the neuron, e.g. `block3.0.attn.q_lif`. */
  name: string;
  /** Spikes per time step. */
  onesPerStep: number[];
  /** Neurons per time step (C·H·W). */
  neuronsPerStep: number;
}

export interface FrameResult {
  /** Logits `[classes]`, averaged over T (and over head and head_kd). */
  logits: Float32Array;
  /** Spike counts of every neuron layer, in execution order. */
  layers: LayerSpikes[];
  /**
   * Full spike maps (0/1 per neuron, `[T, C, H, W]` flattened, t-major) of the layers that were
   * asked for; empty unless requested.
   */
  spikeMaps: Map<string, Uint8Array>;
  /**
   * The task heads' outputs, by graph output name (`seg_logits`, `det_heatmap`, `det_boxreg`),
   * averaged over T, `[C, H/4, W/4]` flattened; absent or empty when the graph has no task heads.
   */
  outputs?: Map<string, Float32Array>;
  /**
   * The task heads' decoded results, when the backend decodes them itself (the WebGPU runtime
   * does: boxes and mask are computed on the GPU and only they are read back). Absent otherwise:
   * decode `outputs` on the CPU (`taskResults` in `src/tasks` does either).
   */
  tasks?: TaskResults;
}

/** Decoded task-head results of one frame. */
export interface TaskResults {
  /** Detections after NMS, in score order (HEADS.md decoding). */
  detections?: Detection[];
  /** Class index per input pixel, `[H, W]` row-major. */
  mask?: Uint8Array;
}

export interface FrameRequest {
  /** Layers whose full spike maps to return; `'all'` for every neuron layer. */
  spikeMaps?: 'all' | string[];
  /**
   * Also return the task heads' raw maps (`FrameResult.outputs`) from a backend that decodes them
   * itself (WebGPU reads back only boxes and mask unless asked). Other backends always return them.
   */
  headMaps?: boolean;
}
