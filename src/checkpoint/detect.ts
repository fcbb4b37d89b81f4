/** Telling checkpoint formats apart from their first bytes. */
import { CheckpointError } from './errors.ts';

export type CheckpointFormat = 'pytorch-zip' | 'pytorch-legacy' | 'safetensors' | 'unknown';

/** How many leading bytes `detectCheckpointFormat` looks at. */
export const DETECT_HEAD_BYTES = 16;

/**
 * The format of a file from its first bytes (pass at least `DETECT_HEAD_BYTES` when the file has
 * them):
 * - 'pytorch-zip': a zip local file header `PK\3\4` (torch.save since 1.6);
 * - 'pytorch-legacy': pickle protocol 2 (`\x80\x02`), how the pre-1.6 format starts (its first
 *   pickle is the magic number 0x1950a86a20f9469cfc6c);
 * - 'safetensors': an 8-byte little-endian header length followed by the JSON header's `{`.
 */
export function detectCheckpointFormat(head: Uint8Array): CheckpointFormat {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'pytorch-zip';
  if (head.length >= 2 && head[0] === 0x80 && head[1] === 0x02) return 'pytorch-legacy';
  if (head.length >= 9 && head[8] === 0x7b) {
    const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
    if (v.getUint32(4, true) === 0 && v.getUint32(0, true) >= 2) return 'safetensors';
  }
  return 'unknown';
}

export function legacyTorchError(name: string): CheckpointError {
  return new CheckpointError('legacy-torch', `${name}: this is a pre-1.6 torch.save file; re-save it with torch >= 1.6 (torch.save(torch.load(f), f2))`);
}
