/**
 * `spikeformer infer --input <folder>`: every image of a folder through one model and one backend
 * in one process, one JSON line per image in `<out>/predictions.jsonl`:
 *   {"file": "a.png", "top5": [{"label": "3", "probability": 0.91}, …], "answer": "3", "no_digit": 0.01}
 * `answer` is the top label, or "no digit" by the model's own rule (that class on top, or the top
 * class under the file's `noDigitBelow`); `no_digit` (only where the model has a class named "no
 * digit") is that class's probability. An image that
 * cannot be read gets `{"file", "error"}` and the rest go on. Ends with a line giving the count
 * and the images per second. This is how anyone measures a model on their own photos.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyAnswer, classifyLabels, noDigitIndex, noDigitThreshold } from '../model/classNames.ts';
import type { LoadedModel } from '../model/loadModel.ts';
import type { TaskInput } from '../model/inputSpec.ts';
import { openBackend, type BackendName } from './backends.ts';
import { CliError } from './cliError.ts';
import { loadInput } from './input.ts';

const IMAGE_EXT = /\.(png|jpe?g)$/i;

export interface Prediction {
  file: string;
  top5?: { label: string; probability: number }[];
  answer?: string;
  no_digit?: number;
  error?: string;
}

/** Softmax of the logits, in float64. */
export function probabilities(logits: Float32Array): number[] {
  const max = Math.max(...logits);
  const exp = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

const rounded = (p: number) => Number(p.toFixed(6));

/** The `k` most probable classes (ties: lower index first), probabilities to 6 decimals. */
export function topPredictions(probs: readonly number[], labels: readonly string[], k = 5): { label: string; probability: number }[] {
  return probs.map((p, i) => ({ i, p }))
    .sort((a, b) => b.p - a.p || a.i - b.i)
    .slice(0, k)
    .map(({ i, p }) => ({ label: labels[i], probability: rounded(p) }));
}

export async function classifyFolder(folder: string, out: string, model: LoadedModel, backendName: BackendName, input: { size?: [number, number]; declared?: TaskInput }): Promise<string> {
  const files = (await readdir(folder, { withFileTypes: true }))
    .filter((e) => e.isFile() && IMAGE_EXT.test(e.name)).map((e) => e.name).sort();
  if (files.length === 0) throw new CliError(`${folder}: no .png, .jpg or .jpeg images in this folder`);
  const [height, width] = input.size ?? (input.declared ? [input.declared.height, input.declared.width] : [224, 224]);
  const labels = classifyLabels(model);
  const noDigit = noDigitIndex(labels);
  const noDigitBelow = noDigitThreshold(model.checkpoint.metadata); // classifyAnswer uses it only with a 'no digit' class
  const backend = await openBackend(backendName, model, height, width);
  const lines = await open(join(out, 'predictions.jsonl'), 'w');
  const started = performance.now();
  let done = 0;
  try {
    for (const file of files) {
      const prediction: Prediction = { file };
      try {
        const x = await loadInput(join(folder, file), model.config, input.size, { declared: input.declared });
        const { logits } = await backend.run(x, {});
        const probs = probabilities(logits);
        prediction.top5 = topPredictions(probs, labels);
        prediction.answer = labels[classifyAnswer(probs, labels, noDigitBelow).index];
        if (noDigit >= 0) prediction.no_digit = rounded(probs[noDigit]);
      } catch (e) {
        prediction.error = (e as Error).message.split('\n')[0];
      }
      await lines.write(`${JSON.stringify(prediction)}\n`);
      done++;
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${files.length}`);
    }
  } finally {
    await lines.close();
    await backend.close();
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  return `${backend.backendUsed}: ${done} images at ${height}x${width} in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(1)} images/s) → ${join(out, 'predictions.jsonl')}`;
}
