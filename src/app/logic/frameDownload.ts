/**
 * "Download this frame": one frame as a zip a student can take home and check with the CLI.
 *
 *   input.png     the picture as the model saw it (the centred crop at model size)
 *   input.npy     the normalized input `[1, 3, H, W]` that produced every file below
 *   logits.npy, spikes.json, spikes.bin   exactly what `spikeformer infer --input input.npy
 *                 --dump-spikes` writes (`frameFiles`, shared with the CLI); no spikes.bin where
 *                 the backend returns counts only (ONNX Runtime Web)
 *   views/*.png   every drawn view (they are all canvases) as it was on the page
 *   README.txt    what is what, and the command that reproduces the frame
 *
 * Plain functions (tested in Node); `hooks/useFrameDownload.ts` gathers the pictures.
 */
import { zipSync } from 'fflate';
import type { ModelGraph } from '../../model/graph.ts';
import { frameFiles } from '../../runtime/frameFiles.ts';
import type { FrameResult } from '../../runtime/types.ts';

/** Said where the backend returns per-layer spike counts only. */
export const COUNTS_ONLY_NOTE = 'this backend returns per-layer spike counts only: the zip has spikes.json with the counts but no spikes.bin (the maps need the WebGPU or CPU backend)';

export interface FramePackage {
  graph: ModelGraph;
  /** The frame as run from `input` (with every spike map when `spikeMaps`). */
  result: FrameResult;
  /** What ran ("WebGPU (google · swiftshader)"); recorded in spikes.json. */
  backend: string;
  tasks: readonly string[];
  spikeMaps: boolean;
  /** The normalized `[3, H, W]` input. */
  input: Float32Array;
  /** The model's name, for README.txt. */
  modelName: string;
  /** PNG bytes: `input.png` and the views, by file name. */
  images: [string, Uint8Array][];
}

/** A file name for a view from its accessible name ("Spike map of X, …: 3 % spiking" → `spike-map-of-x.png`). */
export function viewFileName(label: string, taken: Set<string>): string {
  const base = label.split(':')[0].toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'view';
  let name = `views/${base}.png`;
  for (let i = 2; taken.has(name); i++) name = `views/${base}-${i}.png`;
  taken.add(name);
  return name;
}

function readme(p: FramePackage, names: string[]): string {
  const [, height, width] = p.graph.shapes.get(p.graph.input)!;
  return [
    `One frame of ${p.modelName} on ${p.backend}, input ${height}x${width}, T = ${p.graph.config.timeSteps}, tasks ${p.tasks.join(', ')}.`,
    '',
    'input.png    the picture as the model saw it (the centred crop at model size)',
    'input.npy    the normalized input [1, 3, H, W] every file here was computed from',
    'logits.npy   the classifier output [1, classes] (float32)',
    'spikes.json  every neuron layer: shape, spikes (ones), neurons (total), rate; `backend` and `tasks`',
    p.spikeMaps ? 'spikes.bin   every spike, 8 per byte (see spikes.json offset/bytes)' : `(no spikes.bin: ${COUNTS_ONLY_NOTE})`,
    'views/       the views as drawn on the page',
    '',
    'The same files from the command line (the model file you ran):',
    `  spikeformer infer --weights <model file> --input input.npy --out out${p.spikeMaps ? ' --dump-spikes' : ''} --backend webgpu   (or cpu)`,
    '',
    `Files: ${names.join(', ')}`,
    '',
  ].join('\n');
}

/** The zip's bytes and its file names (in order). */
export function frameZip(p: FramePackage): { zip: Uint8Array; names: string[] } {
  const [channels, height, width] = p.graph.shapes.get(p.graph.input)!;
  const { files } = frameFiles(p.graph, p.result, {
    backend: p.backend, tasks: p.tasks, spikeMaps: p.spikeMaps, input: { data: p.input, channels, height, width },
  });
  const entries: [string, Uint8Array][] = [...p.images.filter(([n]) => n === 'input.png'), ...files, ...p.images.filter(([n]) => n !== 'input.png')];
  const names = ['README.txt', ...entries.map(([n]) => n)];
  const zip = zipSync({ 'README.txt': new TextEncoder().encode(readme(p, names)), ...Object.fromEntries(entries) }, { level: 6 });
  return { zip, names };
}
