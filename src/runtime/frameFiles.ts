/**
 * One frame's results as files, in the one format the CLI's `infer` writes and the app's "Download
 * this frame" packs: `logits.npy` (float32 `[1, classes]`), `spikes.json` (`backend`, `tasks`, then
 * the spike report: `top1` and every neuron layer with `name`, `shape`, `ones`, `total`, `rate`,
 * and with maps `offset`/`bytes`) and, with maps, `spikes.bin` (see spikeReport.ts), and
 * optionally `input.npy`, the model's normalized input `[1, C, H, W]`, from which `spikeformer
 * infer --input input.npy` reproduces the frame.
 */
import { writeNpy } from '../io/npy.ts';
import type { ModelGraph } from '../model/graph.ts';
import { buildSpikeReport, type SpikeReport } from './spikeReport.ts';
import type { FrameResult } from './types.ts';

export interface FrameFilesOptions {
  /** What ran, e.g. `cpu` or `webgpu (swiftshader)`; recorded in spikes.json. */
  backend: string;
  /** The tasks that ran, e.g. `['classify']`; recorded in spikes.json. */
  tasks: readonly string[];
  /** Pack every spike map into spikes.bin (the result must hold them). */
  spikeMaps: boolean;
  /** The normalized `[C, H, W]` input, written as input.npy `[1, C, H, W]`. */
  input?: { data: Float32Array; channels: number; height: number; width: number };
}

/** File name → bytes, in the order above, and the spike report they hold. */
export function frameFiles(graph: ModelGraph, result: FrameResult, options: FrameFilesOptions): { files: Map<string, Uint8Array>; report: SpikeReport } {
  const { report, bin } = buildSpikeReport(graph, result, options.spikeMaps);
  const files = new Map<string, Uint8Array>();
  files.set('logits.npy', writeNpy(result.logits, [1, result.logits.length]));
  files.set('spikes.json', new TextEncoder().encode(JSON.stringify({ backend: options.backend, tasks: options.tasks, ...report }, null, 1)));
  if (bin) files.set('spikes.bin', bin);
  if (options.input) {
    const { data, channels, height, width } = options.input;
    files.set('input.npy', writeNpy(data, [1, channels, height, width]));
  }
  return { files, report };
}
