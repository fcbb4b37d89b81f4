/** Telling checkpoint formats (and the files people mistake for them) apart from their first bytes. */
import { CheckpointError } from './errors.ts';

export type CheckpointFormat =
  | 'pytorch-zip' | 'pytorch-legacy' | 'safetensors'
  | 'git-lfs-pointer' | 'pickle' | 'numpy' | 'hdf5' | 'unknown';

/** How many leading bytes `detectCheckpointFormat` looks at. */
export const DETECT_HEAD_BYTES = 64;

const LFS_POINTER = 'version https://git-lfs.github.com/spec/';
/** What torch < 1.6 pickles first: LONG1 of the magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

function startsWith(head: Uint8Array, bytes: ArrayLike<number>, at = 0): boolean {
  if (head.length < at + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (head[at + i] !== bytes[i]) return false;
  return true;
}

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/**
 * The format of a file from its first bytes (pass at least `DETECT_HEAD_BYTES` when the file has
 * them):
 * - 'pytorch-zip': a zip local file header `PK\3\4` (torch.save since 1.6; TorchScript archives
 *   too, which `readPytorchCheckpoint` tells apart by their records);
 * - 'pytorch-legacy': a protocol-2 pickle whose first value is torch's magic number (torch < 1.6);
 * - 'pickle': any other pickle of protocol 2 or later (`\x80` + version), e.g. `pickle.dump`;
 * - 'safetensors': an 8-byte little-endian header length followed by the JSON header's `{`;
 * - 'git-lfs-pointer': the small text file Git LFS leaves in place of a file not yet fetched;
 * - 'numpy': a `.npy` array (`\x93NUMPY`); 'hdf5': an HDF5 file (Keras `.h5`).
 */
export function detectCheckpointFormat(head: Uint8Array): CheckpointFormat {
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return 'pytorch-zip';
  if (startsWith(head, [0x80, 0x02]) && startsWith(head, LEGACY_MAGIC, 2)) return 'pytorch-legacy';
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return 'pickle';
  if (head.length >= 9 && head[8] === 0x7b) {
    const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
    if (v.getUint32(4, true) === 0 && v.getUint32(0, true) >= 2) return 'safetensors';
  }
  if (startsWith(head, ascii(LFS_POINTER))) return 'git-lfs-pointer';
  if (startsWith(head, [0x93, ...ascii('NUMPY')])) return 'numpy';
  if (startsWith(head, [0x89, ...ascii('HDF'), 0x0d, 0x0a, 0x1a, 0x0a])) return 'hdf5';
  return 'unknown';
}

/**
 * The one-line refusal for a file that is not a torch.save zip or safetensors file, saying what it
 * is and what to do; `null` for the formats the readers take.
 */
export function unsupportedFormatError(name: string, format: CheckpointFormat): CheckpointError | null {
  switch (format) {
    case 'pytorch-legacy':
      return new CheckpointError('legacy-torch', `${name}: this is a pre-1.6 torch.save file; re-save it with torch >= 1.6 (torch.save(torch.load(f), f2))`);
    case 'git-lfs-pointer':
      return new CheckpointError('not-a-checkpoint', `${name}: a Git LFS pointer, not the checkpoint itself; fetch the real file (git lfs pull) and open that`);
    case 'pickle':
      return new CheckpointError('not-a-checkpoint', `${name}: a plain Python pickle, not a torch.save file; load it in Python and save the weights with torch.save(state_dict, path) or as safetensors`);
    case 'numpy':
      return new CheckpointError('not-a-checkpoint', `${name}: a NumPy array (.npy), not a checkpoint; open the model's .pth or .safetensors file`);
    case 'hdf5':
      return new CheckpointError('not-a-checkpoint', `${name}: an HDF5 file (e.g. a Keras .h5 model), not a PyTorch checkpoint; only torch.save files and safetensors are read`);
    case 'unknown':
      return new CheckpointError('not-a-checkpoint', `${name}: not a checkpoint (neither a torch.save zip nor safetensors)`);
    default:
      return null;
  }
}
