/**
 * Model work off the UI thread: reading and converting checkpoints (`.pth` → safetensors, with
 * progress), saving the converted file to the origin-private file system, reading safetensors
 * back into float32 weights, and making seeded random weights.
 */
import { blobSource } from '../../io/byteSource.ts';
import { classifyAnswerInfo } from '../../model/classNames.ts';
import { convertToSafetensors } from '../../model/convertToSafetensors.ts';
import { loadModel } from '../../model/loadModel.ts';
import type { ModelInputs } from '../../model/inputSpec.ts';
import type { ModelConfig } from '../../model/config.ts';
import { randomModelWeights } from '../../runtime/cpu/randomWeights.ts';
import { modelWeightsFromTensors, type ModelWeights } from '../../model/weights.ts';
import { cacheId, type CachedModelEntry } from '../logic/modelCacheIndex.ts';
import { MODELS_DIR } from './modelStore.ts';

export type ModelWorkerRequest =
  | { type: 'random'; id: number; config: ModelConfig; seed: number }
  | { type: 'parse'; id: number; blob: Blob; name: string }
  | { type: 'convert'; id: number; file: Blob; name: string }
  /** Stop working on request `id` (its answer is no longer wanted): it ends with an error. */
  | { type: 'cancel'; id: number };

export type ModelWorkerResponse =
  | { type: 'progress'; id: number; phase: string; fraction: number | null }
  | { type: 'model'; id: number; config: ModelConfig; weights: [string, Float32Array][]; inputs?: ModelInputs; classNames?: string[]; noDigitBelow?: number; entry?: CachedModelEntry; cached?: boolean; cacheNote?: string }
  | { type: 'error'; id: number; message: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ModelWorkerRequest>) => void) | null;
  postMessage(message: ModelWorkerResponse, transfer?: Transferable[]): void;
};

function reply(id: number, config: ModelConfig, weights: ModelWeights, extra: Partial<Extract<ModelWorkerResponse, { type: 'model' }>> = {}): void {
  const entries = [...weights];
  // The full config, heads included: the app picks the tasks to run (`configForTasks`) itself.
  scope.postMessage({ type: 'model', id, config, weights: entries, ...extra }, entries.map(([, w]) => w.buffer));
}

/** Writes the converted file to OPFS (`models/<id>.safetensors`); false when this browser has no OPFS. */
async function saveToOpfs(fileName: string, chunks: Uint8Array[]): Promise<boolean> {
  const storage = navigator.storage as StorageManager | undefined;
  if (!storage?.getDirectory) return false;
  const dir = await (await storage.getDirectory()).getDirectoryHandle(MODELS_DIR, { create: true });
  const handle = await dir.getFileHandle(fileName, { create: true });
  const writable = await handle.createWritable();
  try {
    for (const c of chunks) await writable.write(c as Uint8Array<ArrayBuffer>);
    await writable.close();
  } catch (e) {
    await writable.abort().catch(() => {});
    await dir.removeEntry(fileName).catch(() => {});
    throw e;
  }
  return true;
}

/** Requests cancelled while they run: they stop at their next progress report. */
const cancelled = new Set<number>();

async function handle(msg: Exclude<ModelWorkerRequest, { type: 'cancel' }>): Promise<void> {
  const progress = (phase: string, fraction: number | null) => {
    if (cancelled.has(msg.id)) throw new Error('cancelled');
    scope.postMessage({ type: 'progress', id: msg.id, phase, fraction });
  };
  if (msg.type === 'random') {
    progress('making random weights', null);
    reply(msg.id, msg.config, randomModelWeights(msg.config, { seed: msg.seed }));
    return;
  }
  if (msg.type === 'parse') {
    const { config, tensors, inputs, checkpoint } = await loadModel(blobSource(msg.blob, msg.name));
    reply(msg.id, config, modelWeightsFromTensors(tensors), { inputs, ...classifyAnswerInfo(checkpoint.metadata, config.numClasses) });
    return;
  }
  progress('reading checkpoint', 0);
  const converted = await convertToSafetensors(blobSource(msg.file, msg.name), {
    onProgress: (done, total) => progress('reading checkpoint', total > 0 ? Math.min(1, done / total) : null),
  });
  const id = cacheId(msg.name, msg.file.size, converted.config);
  progress('saving to browser storage', null);
  let cached = false;
  let cacheNote: string | undefined;
  try {
    cached = await saveToOpfs(`${id}.safetensors`, converted.chunks);
    if (!cached) cacheNote = 'not cached: this browser has no origin-private file system';
  } catch (e) {
    cacheNote = `not cached: ${(e as Error).message}`;
  }
  progress('loading weights', null);
  const blob = new Blob(converted.chunks as Uint8Array<ArrayBuffer>[]);
  const { config, tensors, inputs, checkpoint } = await loadModel(blobSource(blob, msg.name));
  const entry: CachedModelEntry = {
    id, name: msg.name, bytes: converted.bytes, addedAt: Date.now(),
    summary: { embedDims: config.embedDims, numClasses: config.numClasses, timeSteps: config.timeSteps, kd: config.kd, labels: config.labels },
  };
  reply(msg.id, config, modelWeightsFromTensors(tensors), { inputs, ...classifyAnswerInfo(checkpoint.metadata, config.numClasses), entry, cached, cacheNote });
}

scope.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === 'cancel') {
    cancelled.add(msg.id);
    return;
  }
  handle(msg).catch((err: unknown) => {
    // One line: validation errors can carry long lists of keys.
    const text = err instanceof Error ? err.message : String(err);
    scope.postMessage({ type: 'error', id: msg.id, message: text.split('\n')[0] });
  }).finally(() => cancelled.delete(msg.id));
};
