/**
 * Segmentation decoding (HEADS.md, `decode.decode_mask`): the head's stride-4 logits upsampled to
 * the input size with the same bilinear rule as the head (align_corners = false), computed in
 * float64 from the float32 logits in a fixed order, then the arg max over classes per pixel (ties
 * go to the lowest class index). Bit-for-bit what the Python reference computes.
 */
import { bilinearTap } from '../model/layerMath.ts';

/**
 * `segLogits`: float32 `[K, H/s, W/s]` (the graph's `seg_logits`); `height`×`width`: the input
 * size, a multiple s of the logits' size in both directions (the head's stride, 4). Returns the
 * class index of every input pixel, `[H, W]` row-major.
 */
export function decodeSegmentation(segLogits: Float32Array, height: number, width: number, stride = 4): Uint8Array {
  if (!(height % stride === 0 && width % stride === 0)) throw new Error(`decodeSegmentation: ${height}x${width} is not a multiple of the stride ${stride}`);
  const h = height / stride, w = width / stride;
  const classes = segLogits.length / (h * w);
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`decodeSegmentation: ${segLogits.length} logits do not form [K, ${h}, ${w}]`);
  if (classes > 256) throw new Error(`decodeSegmentation: ${classes} classes do not fit a byte mask`);
  const rows = Array.from({ length: height }, (_, o) => bilinearTap(o, h, stride));
  const cols = Array.from({ length: width }, (_, o) => bilinearTap(o, w, stride));
  const mask = new Uint8Array(height * width);
  const best = new Float64Array(width);
  const plane = h * w;
  for (let y = 0; y < height; y++) {
    const { i0, i1, w0: wy0, w1: wy1 } = rows[y];
    best.fill(-Infinity);
    for (let c = 0; c < classes; c++) {
      const r0 = c * plane + i0 * w, r1 = c * plane + i1 * w;
      for (let x = 0; x < width; x++) {
        const { i0: j0, i1: j1, w0: wx0, w1: wx1 } = cols[x];
        const top = wx0 * segLogits[r0 + j0] + wx1 * segLogits[r0 + j1];
        const bot = wx0 * segLogits[r1 + j0] + wx1 * segLogits[r1 + j1];
        const v = wy0 * top + wy1 * bot;
        // Strictly greater: ties keep the lower class (numpy's argmax).
        if (c === 0 || v > best[x]) { best[x] = v; mask[y * width + x] = c; }
      }
    }
  }
  return mask;
}

/** Pixels per class of a mask (`classes` entries). */
export function maskHistogram(mask: Uint8Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const c of mask) if (c < classes) counts[c]++;
  return counts;
}
