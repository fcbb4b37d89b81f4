/**
 * Pure helpers for the task views: the input size scene tasks run at, mapping detection boxes from
 * model-input pixels to the preview, and colouring masks (the tasks themselves: `model/tasks.ts`).
 */
import type { Box } from '../../tasks/index.ts';

/** Scene tasks (detection, segmentation) run at this size unless the engine allows less. */
export const SCENE_INPUT_SIZE = 128;

/** A box in preview (CSS or canvas) pixels. */
export interface ScreenBox { x: number; y: number; w: number; h: number }

/**
 * Maps a box in model-input pixels (`inputSize`² — the centred square crop the preview shows) to
 * a `displayW`×`displayH` overlay over the preview. With `mirrored` (the camera preview is shown
 * flipped) the box is flipped horizontally so it sits over what the user sees.
 */
export function boxToOverlay(box: Box, inputW: number, inputH: number, displayW: number, displayH: number, mirrored: boolean): ScreenBox {
  const sx = displayW / inputW;
  const sy = displayH / inputH;
  const x0 = mirrored ? (inputW - box.x1) * sx : box.x0 * sx;
  const w = (box.x1 - box.x0) * sx;
  return { x: x0, y: box.y0 * sy, w, h: (box.y1 - box.y0) * sy };
}

/** A fixed, distinguishable colour per class (class 0 of a segmentation is the background). */
const PALETTE: [number, number, number][] = [
  [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
  [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
  [0, 128, 128], [220, 190, 255], [170, 110, 40], [255, 250, 200], [128, 0, 0],
];

/** RGB of palette entry `c` (segmentation class c ≥ 1 uses entry c − 1, see `classCss`). */
export function classColor(c: number): [number, number, number] {
  return PALETTE[c % PALETTE.length];
}

/** CSS colour of class `c` in a segmentation (`background` first) or detection (no background). */
export function classCss(c: number, segmentation: boolean): string {
  if (segmentation && c === 0) return 'rgba(0,0,0,0)';
  const [r, g, b] = classColor(segmentation ? c - 1 : c);
  return `rgb(${r}, ${g}, ${b})`;
}

/**
 * RGBA pixels for a class-index mask: each class its colour at `opacity` (0..1), the background
 * (class 0, when `backgroundIsZero`) fully transparent. Row-major `width`×`height`, as ImageData wants.
 * Segmentation class c ≥ 1 gets the same colour as detection class c − 1 (both name the same digit).
 */
export function colorMask(mask: Uint8Array, opacity: number, backgroundIsZero = true): Uint8ClampedArray {
  const out = new Uint8ClampedArray(mask.length * 4);
  const a = Math.round(Math.max(0, Math.min(1, opacity)) * 255);
  for (let i = 0; i < mask.length; i++) {
    const c = mask[i];
    if (backgroundIsZero && c === 0) continue;
    const [r, g, b] = classColor(backgroundIsZero ? c - 1 : c);
    const j = i * 4;
    out[j] = r;
    out[j + 1] = g;
    out[j + 2] = b;
    out[j + 3] = a;
  }
  return out;
}

/** Mirrors a row-major RGBA image horizontally (for the mirrored camera preview). */
export function mirrorRgba(rgba: Uint8ClampedArray, width: number, height: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rgba.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 4;
      const d = (y * width + (width - 1 - x)) * 4;
      out[d] = rgba[s];
      out[d + 1] = rgba[s + 1];
      out[d + 2] = rgba[s + 2];
      out[d + 3] = rgba[s + 3];
    }
  }
  return out;
}
