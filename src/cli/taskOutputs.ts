/**
 * What `spikeformer infer --task detect|segment` writes besides the logits and spike counts:
 * `boxes.json` (decoded detections, input pixels), `mask.png` (class index per pixel, 8-bit
 * grey) and, with `--save-logits`, the raw head maps as `.npy`. Boxes and mask are those the
 * backend decoded (WebGPU: on the GPU) or the CPU decoding of the maps it returned (`taskResults`).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { writeNpy } from '../io/npy.ts';
import type { ModelConfig } from '../model/config.ts';
import type { ModelGraph } from '../model/graph.ts';
import { availableTasks, isTaskChoice, missingTask, taskSpec, tasksFor, TASK_CHOICES, unknownTaskMessage, type Task, type TaskChoice } from '../model/tasks.ts';
import type { FrameResult } from '../runtime/types.ts';
import { maskHistogram, taskResults } from '../tasks/index.ts';
import { CliError } from './cliError.ts';

export { TASK_CHOICES };

/** `--task`'s value, checked before anything is read ("unknown task …" otherwise). */
export function taskChoice(value: string): TaskChoice {
  if (!isTaskChoice(value)) throw new CliError(unknownTaskMessage(value));
  return value;
}

/** `--task` → the tasks to run (`all`: every task the model has heads for). */
export function parseTasks(input: string, config: ModelConfig): Task[] {
  const value = taskChoice(input);
  const missing = value === 'all' ? null : missingTask(config, [value]);
  if (missing) throw new CliError(`--task ${value}: the checkpoint has no ${taskSpec(missing).headDescription}`);
  return tasksFor(value, availableTasks(config));
}

/** An 8-bit greyscale PNG of `data` (`[height, width]`). */
export function encodeGreyPng(data: Uint8Array, width: number, height: number): Uint8Array {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
}

function output(result: FrameResult, name: string, backend: string): Float32Array {
  const y = result.outputs?.get(name);
  if (!y) throw new CliError(`the ${backend} backend did not return ${name}`);
  return y;
}

/** Decodes and writes the task outputs into `out`; returns one summary phrase per task. */
export async function writeTaskOutputs(
  out: string, graph: ModelGraph, result: FrameResult, tasks: readonly Task[], backend: string, saveLogits: boolean,
): Promise<string[]> {
  const heads = graph.config.heads;
  const H = graph.inputHeight, W = graph.inputWidth;
  const summary: string[] = [];
  const decoded = taskResults(result, graph);
  const npy = (name: string, data: Float32Array) => writeFile(join(out, `${name}.npy`), writeNpy(data, [1, ...graph.shapes.get(name)!]));
  if (tasks.includes('detect') && heads?.detect) {
    const boxes = decoded.detections;
    if (!boxes) throw new CliError(`the ${backend} backend returned no detections`);
    const json = {
      input: [H, W],
      decode: heads.detect.decode,
      boxes: boxes.map((b) => ({ class: b.class, label: b.label, score: b.score, x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1, logit: b.logit, cell: b.cell })),
    };
    await writeFile(join(out, 'boxes.json'), JSON.stringify(json, null, 1));
    if (saveLogits) for (const name of taskSpec('detect').outputs) await npy(name, output(result, name, backend));
    const labels = boxes.slice(0, 5).map((b) => `${b.label} ${b.score.toFixed(2)}`).join(', ') + (boxes.length > 5 ? ', …' : '');
    summary.push(`${boxes.length} box${boxes.length === 1 ? '' : 'es'}${boxes.length ? ` (${labels})` : ''}`);
  }
  if (tasks.includes('segment') && heads?.segment) {
    const mask = decoded.mask;
    if (!mask) throw new CliError(`the ${backend} backend returned no segmentation mask`);
    await writeFile(join(out, 'mask.png'), encodeGreyPng(mask, W, H));
    if (saveLogits) for (const name of taskSpec('segment').outputs) await npy(name, output(result, name, backend));
    const counts = maskHistogram(mask, heads.segment.numClasses);
    const present = counts.map((n, c) => [heads.segment!.classNames[c], n] as const).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    summary.push(`mask of ${present.length} class${present.length === 1 ? '' : 'es'} (${present.slice(0, 6).map(([name, n]) => `${name} ${(100 * n / mask.length).toFixed(1)}%`).join(', ')})`);
  }
  return summary;
}
