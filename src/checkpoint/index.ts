/**
 * Reading model weights from a checkpoint file: torch.save zip files (a training checkpoint or a
 * bare state_dict) and safetensors. Browser-safe: everything goes through a `ByteSource`.
 */
import type { ByteSource } from '../io/byteSource.ts';
import { detectCheckpointFormat, DETECT_HEAD_BYTES, legacyTorchError } from './detect.ts';
import { CheckpointError } from './errors.ts';
import { isPickleObject, isTensorRef, type PickleDict, type PickleValue, type TensorRef } from './pickle.ts';
import { readPytorchCheckpoint } from './pytorch.ts';
import { readSafetensors } from './safetensors.ts';
import { ITEM_SIZE, numel, type Tensor } from './tensor.ts';

export { detectCheckpointFormat, legacyTorchError, type CheckpointFormat } from './detect.ts';
export { CheckpointError, type CheckpointErrorCode } from './errors.ts';
export {
  unpickle, tensorViewExtent, isTensorRef, isPickleObject, isPickleTuple,
  type PickleValue, type PickleTuple, type PickleDict, type PickleObject, type StorageRef, type TensorRef, type PickleOptions,
} from './pickle.ts';
export { readPytorchCheckpoint, type PytorchCheckpoint, type PytorchOptions } from './pytorch.ts';
export {
  readSafetensors, readSafetensorsHeader, writeSafetensors, encodeSafetensors,
  type SafetensorsEntry, type SafetensorsHeader, type SafetensorsOptions,
} from './safetensors.ts';
export { openZip, looksLikeZip, crc32, type ZipArchive, type ZipEntry, type ZipLimits } from './zip.ts';
export * from './tensor.ts';

export interface LoadedCheckpoint {
  format: 'pytorch' | 'safetensors';
  /**
   * The weights: a torch state_dict's tensors in its order (a leading 'module.' removed from
   * names), or a safetensors file's tensors in data order.
   */
  tensors: Map<string, Tensor>;
  /** safetensors `__metadata__`; {} for pytorch. */
  metadata: Record<string, string>;
  /** pytorch: `root['args']` (an argparse.Namespace's attributes or a dict) as a plain object; else null. */
  args: Record<string, PickleValue> | null;
  /** The source's name. */
  source: string;
}

export interface ReadCheckpointOptions {
  /** Called as tensors are loaded: bytes loaded so far and bytes to load in total. */
  onProgress?(done: number, total: number): void;
}

/**
 * Reads a checkpoint's weights. For a torch file the state_dict is `root['model']`, else
 * `root['state_dict']`, else the root itself: the first of those that is a dict holding tensors.
 * Only its tensors are loaded (other values in it are ignored, and the rest of the checkpoint,
 * such as optimizer state, is never read).
 */
export async function readCheckpoint(source: ByteSource, options: ReadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const name = source.name;
  if (source.size === 0) throw new CheckpointError('not-a-checkpoint', `${name}: the file is empty`);
  const format = detectCheckpointFormat(await source.read(0, Math.min(DETECT_HEAD_BYTES, source.size)));
  switch (format) {
    case 'safetensors': {
      const { tensors, metadata } = await readSafetensors(source, { onProgress: options.onProgress });
      if (tensors.size === 0) throw new CheckpointError('no-weights', `${name}: the safetensors file holds no tensors`);
      return { format: 'safetensors', tensors, metadata, args: null, source: name };
    }
    case 'pytorch-zip':
      return readTorch(source, options);
    case 'pytorch-legacy':
      throw legacyTorchError(name);
    default:
      throw new CheckpointError('not-a-checkpoint', `${name}: not a checkpoint (neither a torch.save zip nor safetensors)`);
  }
}

async function readTorch(source: ByteSource, options: ReadCheckpointOptions): Promise<LoadedCheckpoint> {
  const name = source.name;
  const ckpt = await readPytorchCheckpoint(source);
  const stateDict = findStateDict(ckpt.root);
  if (!stateDict) {
    throw new CheckpointError('no-weights', `${name}: no state_dict found (looked for a dict of tensors under 'model', 'state_dict' and at the top)`);
  }

  const refs = new Map<string, TensorRef>();
  for (const [key, value] of stateDict) {
    if (typeof key !== 'string' || !isTensorRef(value)) continue;
    const short = key.startsWith('module.') ? key.slice('module.'.length) : key;
    if (refs.has(short)) throw new CheckpointError('bad-tensor', `${name}: two tensors are named ${short} once 'module.' is removed`);
    refs.set(short, value);
  }
  const total = [...refs.values()].reduce((n, r) => n + numel(r.shape) * ITEM_SIZE[r.storage.dtype], 0);
  let done = 0;
  options.onProgress?.(0, total);
  const tensors = new Map<string, Tensor>();
  for (const [key, ref] of refs) {
    const t = await ckpt.loadTensor(ref);
    tensors.set(key, t);
    done += t.data.byteLength;
    options.onProgress?.(done, total);
  }
  return { format: 'pytorch', tensors, metadata: {}, args: argsOf(ckpt.root), source: name };
}

function holdsTensors(v: PickleValue | undefined): v is PickleDict {
  if (!(v instanceof Map)) return false;
  for (const x of v.values()) if (isTensorRef(x)) return true;
  return false;
}

function findStateDict(root: PickleValue): PickleDict | null {
  if (!(root instanceof Map)) return null;
  for (const key of ['model', 'state_dict']) {
    const v = root.get(key);
    if (holdsTensors(v)) return v;
  }
  return holdsTensors(root) ? root : null;
}

/** `root['args']` as a plain object: a Namespace's attribute dict, or a dict; string keys only. */
function argsOf(root: PickleValue): Record<string, PickleValue> | null {
  if (!(root instanceof Map)) return null;
  const args = root.get('args');
  const dict = isPickleObject(args) ? args.state : args;
  if (!(dict instanceof Map)) return null;
  // Object.fromEntries defines own properties, so a key like '__proto__' stays a plain key.
  return Object.fromEntries([...dict].filter((kv): kv is [string, PickleValue] => typeof kv[0] === 'string'));
}
