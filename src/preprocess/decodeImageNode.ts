/**
 * Node-only: decode PNG and JPEG files into `RgbImage` with pure-JS decoders
 * (pngjs, jpeg-js). Alpha is dropped (not composited), as PIL's `convert('RGB')` does.
 *
 * Fidelity to `PIL.Image.open(path).convert('RGB')`:
 * - PNG 8-bit RGB/RGBA/gray/gray+alpha/palette and 1/2/4-bit gray or palette: identical.
 * - PNG 16-bit: each sample keeps its high byte (v >> 8), as PIL does for 16-bit RGB(A).
 *   (PIL opens 16-bit grayscale as mode I;16 and clips it to 255 on convert('RGB'), a
 *   Pillow quirk not reproduced here.)
 * - JPEG: not bit-exact. jpeg-js rounds its IDCT/colour conversion differently from
 *   libjpeg and upsamples subsampled (4:2:0) chroma by replication instead of libjpeg's
 *   "fancy" triangle filter: measured max differences 1 (gray), 3 (4:4:4), 9 (4:2:0,
 *   mean 2.2) levels on the test fixtures.
 */
import { readFile } from 'node:fs/promises';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import type { RgbImage } from './image.ts';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export type ImageFormat = 'png' | 'jpeg';

/** Identify PNG or JPEG from the first bytes; null for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

function describeMagic(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  if (bytes.length >= 4 && bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46) return 'GIF';
  if (bytes.length >= 12 && String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP') return 'WebP';
  if (bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d) return 'BMP';
  return bytes.length === 0 ? 'an empty file' : `first bytes ${head}`;
}

function decodePng(bytes: Uint8Array, name: string): RgbImage {
  let png: ReturnType<typeof pngjs.PNG.sync.read>;
  try {
    // skipRescale: keep 16-bit samples so we can take the high byte like PIL (pngjs would round v/257).
    png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (e) {
    throw new Error(`${name}: invalid PNG: ${(e as Error).message}`);
  }
  const { width, height, depth, colorType } = png;
  // RGBA, one element per sample: uint8 (Buffer) or, for 16-bit non-palette images, Uint16Array.
  const src = png.data as unknown as ArrayLike<number>;
  const n = width * height;
  if (src.length !== n * 4) throw new Error(`${name}: PNG decoder returned ${src.length} samples for ${width}×${height}`);
  const isPalette = (colorType as number) === 3; // @types/pngjs omits 3 (indexed colour)
  let scale: (v: number) => number;
  if (isPalette || depth === 8) scale = (v) => v;
  else if (depth === 16) scale = (v) => v >> 8;
  else {
    // 1/2/4-bit grayscale: stretch to 0..255 (×255, ×85, ×17), as PIL's L;1/L;2/L;4 unpackers do.
    const mul = 255 / ((1 << depth) - 1);
    scale = (v) => v * mul;
  }
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = scale(src[i * 4]);
    out[i * 3 + 1] = scale(src[i * 4 + 1]);
    out[i * 3 + 2] = scale(src[i * 4 + 2]);
  }
  return { width, height, data: out };
}

function decodeJpeg(bytes: Uint8Array, name: string): RgbImage {
  try {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
    if (img.data.length !== img.width * img.height * 3) {
      throw new Error(`decoder returned ${img.data.length} bytes for ${img.width}×${img.height} RGB`);
    }
    return { width: img.width, height: img.height, data: img.data };
  } catch (e) {
    throw new Error(`${name}: invalid JPEG: ${(e as Error).message}`);
  }
}

/** Decode PNG or JPEG bytes to RGB. `name` labels error messages. */
export function decodeImage(bytes: Uint8Array, name = 'image'): RgbImage {
  const format = sniffImageFormat(bytes);
  if (format === 'png') return decodePng(bytes, name);
  if (format === 'jpeg') return decodeJpeg(bytes, name);
  throw new Error(`${name}: unsupported image format: expected PNG or JPEG (found ${describeMagic(bytes)})`);
}

/** Read and decode a PNG or JPEG file. */
export async function readImageFile(path: string): Promise<RgbImage> {
  return decodeImage(await readFile(path), path);
}
