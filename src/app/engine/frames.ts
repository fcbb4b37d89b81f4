/**
 * Getting frames to model size. The crop is the centred region with the model's aspect ratio
 * (the whole shorter side: what you see in the preview's square is what the model sees), resized
 * by the browser (`createImageBitmap` with `resizeQuality: 'high'`).
 *
 * On SwiftShader, `copyExternalImageToTexture` from a <video> fails while going through
 * `createImageBitmap(video)` works in headless Chromium on SwiftShader, so every source becomes an
 * ImageBitmap first.
 */
import { normalizeToChw } from '../../preprocess/image.ts';

export interface CropRect {
  sx: number;
  sy: number;
  sw: number;
  sh: number;
}

/** The centred crop of a `srcW`×`srcH` image with the aspect ratio of `dstW`×`dstH`. */
export function centerCropRect(srcW: number, srcH: number, dstW: number, dstH: number): CropRect {
  const scale = Math.min(srcW / dstW, srcH / dstH);
  const sw = Math.max(1, Math.round(dstW * scale));
  const sh = Math.max(1, Math.round(dstH * scale));
  return { sx: Math.floor((srcW - sw) / 2), sy: Math.floor((srcH - sh) / 2), sw, sh };
}

/** A source's pixel size (video frames, images, bitmaps, canvases). */
export function sourceSize(source: CanvasImageSource | ImageBitmap): { width: number; height: number } {
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) return { width: source.videoWidth, height: source.videoHeight };
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) return { width: source.naturalWidth, height: source.naturalHeight };
  const s = source as { width: number | SVGAnimatedLength; height: number | SVGAnimatedLength };
  const num = (v: number | SVGAnimatedLength) => (typeof v === 'number' ? v : v.baseVal.value);
  return { width: num(s.width), height: num(s.height) };
}

/** The centred crop of `source`, resized to `width`×`height`, as an ImageBitmap. */
export async function modelSizeBitmap(source: ImageBitmapSource & CanvasImageSource, width: number, height: number): Promise<ImageBitmap> {
  const size = sourceSize(source);
  if (!(size.width > 0 && size.height > 0)) throw new Error('the source has no picture yet');
  if (size.width === width && size.height === height && source instanceof ImageBitmap) return createImageBitmap(source);
  const r = centerCropRect(size.width, size.height, width, height);
  return createImageBitmap(source, r.sx, r.sy, r.sw, r.sh, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
}

/**
 * CPU preprocessing: draws `bitmap` at `width`×`height` on an OffscreenCanvas (2D `drawImage`),
 * reads the pixels back and normalizes to `[3, H, W]` float32 with (v/255 − mean)/std.
 */
export function preprocessOnCpu(bitmap: ImageBitmap, width: number, height: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas context for preprocessing');
  const r = centerCropRect(bitmap.width, bitmap.height, width, height);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, r.sx, r.sy, r.sw, r.sh, 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return normalizeToChw({ width, height, data: rgb }, mean, std).data;
}

/**
 * A worker's frame as model input: a normalized `Float32Array` is used as it is; an `ImageBitmap`
 * (transferred to the worker, so it is closed here) is preprocessed on the CPU.
 */
export function frameToInput(frame: Float32Array | ImageBitmap, width: number, height: number, mean: readonly number[], std: readonly number[]): Float32Array {
  if (frame instanceof Float32Array) return frame;
  try {
    return preprocessOnCpu(frame, width, height, mean, std);
  } finally {
    frame.close();
  }
}
