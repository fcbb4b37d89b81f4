/**
 * Reading model weights from a checkpoint file: torch.save zip files (a training checkpoint or a
 * bare state_dict) and safetensors. Browser-safe: everything goes through a `ByteSource`.
 */
import type { ByteSource } from '../io/byteSource.ts';
import { detectCheckpointFormat, DETECT_HEAD_BYTES, unsupportedFormatError } from './detect.ts';
import { CheckpointError } from './errors.ts';
import { isPickleObject, isTensorRef, type PickleDict, type PickleValue, type TensorRef } from './pickle.ts';
import { readPytorchCheckpoint } from './pytorch.ts';
import { readSafetensors } from './safetensors.ts';
import { ITEM_SIZE, numel, type Tensor } from './tensor.ts';

export { detectCheckpointFormat, unsupportedFormatError, type CheckpointFormat } from './detect.ts';
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
   * The weights: a torch state_dict's tensors in its order, or a safetensors file's tensors in
   * data order; a wrapper prefix that every name carried (`removedPrefix`) is removed.
   */
  tensors: Map<string, Tensor>;
  /** The wrapper prefix removed from every tensor name (e.g. 'model.', 'module.model.'), or ''. */
  removedPrefix: string;
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

/** The prefixes that training wrappers put before every parameter name (removed when all names have one). */
export const WRAPPER_PREFIXES = ['module.', 'model.', 'net.', 'backbone.', '_orig_mod.'] as const;

/** Where torch checkpoints keep the state_dict, looked at in this order before the root itself. */
export const STATE_DICT_KEYS = ['model', 'state_dict', 'model_state_dict', 'module', 'net'] as const;

/**
 * The longest chain of wrapper prefixes that every name starts with ('' if none): DataParallel's
 * 'module.', Lightning's 'model.', torch.compile's '_orig_mod.', and the like, nested or not.
 */
export function commonWrapperPrefix(names: readonly string[]): string {
  let prefix = '';
  if (names.length === 0) return prefix;
  for (;;) {
    const next = WRAPPER_PREFIXES.find((p) => names.every((n) => n.startsWith(prefix + p) && n.length > prefix.length + p.length));
    if (!next) return prefix;
    prefix += next;
  }
}

function withoutPrefix<T>(entries: Map<string, T>): { map: Map<string, T>; prefix: string } {
  const prefix = commonWrapperPrefix([...entries.keys()]);
  if (!prefix) return { map: entries, prefix };
  return { map: new Map([...entries].map(([k, v]) => [k.slice(prefix.length), v])), prefix };
}

/**
 * Reads a checkpoint's weights. For a torch file the state_dict is the first dict holding tensors
 * among `root[k]` for k in `STATE_DICT_KEYS`, else the root itself. Only its tensors are loaded
 * (other values in it are ignored, and the rest of the checkpoint, such as optimizer state, is
 * never read). A wrapper prefix that every tensor name carries is removed (`removedPrefix`).
 * Every refusal is a `CheckpointError` whose one-line message names the file and says what it is.
 */
export async function readCheckpoint(source: ByteSource, options: ReadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const name = source.name;
  if (source.size === 0) throw new CheckpointError('not-a-checkpoint', `${name}: the file is empty`);
  const format = detectCheckpointFormat(await source.read(0, Math.min(DETECT_HEAD_BYTES, source.size)));
  switch (format) {
    case 'safetensors': {
      const { tensors, metadata } = await readSafetensors(source, { onProgress: options.onProgress });
      if (tensors.size === 0) throw new CheckpointError('no-weights', `${name}: the safetensors file holds no tensors`);
      const { map, prefix } = withoutPrefix(tensors);
      return { format: 'safetensors', tensors: map, removedPrefix: prefix, metadata, args: null, source: name };
    }
    case 'pytorch-zip':
      return readTorch(source, options);
    default:
      throw unsupportedFormatError(name, format)!;
  }
}

async function readTorch(source: ByteSource, options: ReadCheckpointOptions): Promise<LoadedCheckpoint> {
  const name = source.name;
  const ckpt = await readPytorchCheckpoint(source);
  const stateDict = findStateDict(ckpt.root);
  if (!stateDict) throw noStateDictError(name, ckpt.root);

  const named = new Map<string, TensorRef>();
  for (const [key, value] of stateDict) if (typeof key === 'string' && isTensorRef(value)) named.set(key, value);
  const { map: refs, prefix } = withoutPrefix(named);
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
  return { format: 'pytorch', tensors, removedPrefix: prefix, metadata: {}, args: argsOf(ckpt.root), source: name };
}

function holdsTensors(v: PickleValue | undefined): v is PickleDict {
  if (!(v instanceof Map)) return false;
  for (const x of v.values()) if (isTensorRef(x)) return true;
  return false;
}

function findStateDict(root: PickleValue): PickleDict | null {
  if (!(root instanceof Map)) return null;
  for (const key of STATE_DICT_KEYS) {
    const v = root.get(key);
    if (holdsTensors(v)) return v;
  }
  return holdsTensors(root) ? root : null;
}

/** Why a torch file has no state_dict, in words: a pickled module (by class), or what the root holds. */
function noStateDictError(name: string, root: PickleValue): CheckpointError {
  const module = isPickleObject(root) ? root
    : root instanceof Map ? [...STATE_DICT_KEYS].map((k) => root.get(k)).find(isPickleObject) : undefined;
  if (module) {
    return new CheckpointError('no-weights', `${name}: holds a whole pickled model of class ${module.className} (torch.save(model)), not a state_dict; in Python, save model.state_dict() with torch.save and open that file (nothing in this file was imported or run)`);
  }
  const what = root instanceof Map && root.size === 0 ? 'an empty dict'
    : root instanceof Map
    ? `a dict with keys ${[...root.keys()].slice(0, 6).map((k) => String(k)).join(', ')}${root.size > 6 ? ', …' : ''} and no tensors under them`
    : `a ${Array.isArray(root) ? 'list' : typeof root === 'object' && root !== null && 'kind' in root ? root.kind : typeof root}, not a dict of tensors`;
  return new CheckpointError('no-weights', `${name}: no state_dict found: the file holds ${what} (looked under ${STATE_DICT_KEYS.map((k) => `'${k}'`).join(', ')} and at the top)`);
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
