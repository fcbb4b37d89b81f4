/**
 * The model the app starts with: the trained digits model shipped in `public/models/` when it is
 * there, else the tiny architecture with seeded random weights (untrained, for exploring spikes).
 */
import { defaultConfig, type ModelConfig } from '../../model/config.ts';
import { isAbort } from '../logic/errors.ts';
import type { ModelWorker, RequestOptions } from './modelWorkerClient.ts';
import type { AppModel } from './types.ts';

export const BUILTIN_URL = `${import.meta.env?.BASE_URL ?? '/'}models/digits-tiny.safetensors`;

/** The tiny architecture: dims 16·32·64·96, 10 classes (digits), T = 2. */
export const TINY_CONFIG: ModelConfig = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, timeSteps: 2, labels: 'mnist-digits' });

export const UNTRAINED_NOTE = 'untrained — for exploring spikes';

/** True when the bytes start like a safetensors file (8-byte little-endian header length, then '{'). */
export function looksLikeSafetensors(head: Uint8Array): boolean {
  if (head.length < 9) return false;
  const len = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  return len > 1n && len < 100_000_000n && head[8] === 0x7b;
}

export async function randomTinyModel(worker: ModelWorker, seed = 1, options: RequestOptions = {}): Promise<AppModel> {
  const m = await worker.request({ type: 'random', config: TINY_CONFIG, seed }, options);
  return { id: `random:tiny:${seed}`, name: 'Tiny Meta-SpikeFormer (random weights)', config: m.config, weights: m.weights, trained: false, note: UNTRAINED_NOTE };
}

/** The built-in model, or random weights when `randomOnly` (`?model=random`). */
export async function builtinOrRandom(worker: ModelWorker, randomOnly: boolean, options: RequestOptions = {}): Promise<{ model: AppModel; note: string | null }> {
  return randomOnly ? { model: await randomTinyModel(worker, 1, options), note: null } : loadBuiltinModel(worker, options);
}

/**
 * The built-in model: fetches `digits-tiny.safetensors`; when it is missing (404, or the dev
 * server's HTML fallback) or unreadable, the random tiny model, with the reason.
 */
export async function loadBuiltinModel(worker: ModelWorker, options: RequestOptions = {}): Promise<{ model: AppModel; note: string | null }> {
  let why: string;
  try {
    const res = await fetch(BUILTIN_URL, { signal: options.signal });
    // The dev server answers a missing file with its index.html.
    const html = (res.headers.get('content-type') ?? '').includes('text/html');
    if (res.ok && !html) {
      const blob = await res.blob();
      if (looksLikeSafetensors(new Uint8Array(await blob.slice(0, 16).arrayBuffer()))) {
        const m = await worker.request({ type: 'parse', blob, name: 'digits-tiny.safetensors' }, options);
        const config = { ...m.config, labels: m.config.labels ?? (m.config.numClasses === 10 ? 'mnist-digits' : null) };
        return { model: { id: 'builtin:digits-tiny', name: 'Digits (tiny, trained)', config, weights: m.weights, inputs: m.inputs, classNames: m.classNames, noDigitBelow: m.noDigitBelow, trained: true }, note: null };
      }
      why = 'the built-in digits model is not a safetensors file';
    } else {
      why = `the built-in digits model is not there (${html ? 'not found' : `HTTP ${res.status}`})`;
    }
  } catch (e) {
    if (isAbort(e)) throw e;
    why = `the built-in digits model could not be read (${(e as Error).message})`;
  }
  return { model: await randomTinyModel(worker, 1, options), note: `${why}; using random weights` };
}
