/**
 * Detection decoding (HEADS.md, `decode.decode_detections`), CenterNet-style: 3×3 peaks of the
 * centre-logit maps above a logit threshold, sorted (logit descending, then class, y, x
 * ascending), the first `preNmsTopK` turned into boxes from the l, t, r, b distances, then greedy
 * class-agnostic NMS. All arithmetic in float64 on the float32 maps, in the reference's order, so
 * the boxes are bit-for-bit the Python reference's (scores up to `exp`'s last bit).
 */
import { DEFAULT_DETECTION_DECODE, type DetectionDecodeParams } from '../model/config.ts';
import { detectionAtCell, type Detection } from '../model/detectionBox.ts';

export { detectionAtCell, type Detection };


export interface DecodeDetectionsOptions extends Partial<DetectionDecodeParams> {
  classNames?: readonly string[];
}

export interface Box { x0: number; y0: number; x1: number; y1: number }

/** Intersection over union of two boxes (HEADS.md): 0 for no overlap or an empty union. */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const ih = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy NMS in the given order: a box is kept unless its IoU with an already kept box is
 * > `threshold`; stops after `max` kept. Returns the indices kept, in order.
 */
export function greedyNms(boxes: readonly Box[], threshold: number, max: number): number[] {
  const kept: number[] = [];
  for (let i = 0; i < boxes.length && kept.length < max; i++) {
    if (kept.every((k) => iou(boxes[i], boxes[k]) <= threshold)) kept.push(i);
  }
  return kept;
}

/**
 * `heat`: float32 `[K, H/s, W/s]` centre logits (`det_heatmap`), `boxreg`: float32 `[4, H/s, W/s]`
 * (`det_boxreg`: left, top, right, bottom in cells); `height`×`width`: the input size.
 */
export function decodeDetections(
  heat: Float32Array, boxreg: Float32Array, height: number, width: number, options: DecodeDetectionsOptions = {},
): Detection[] {
  const p = { ...DEFAULT_DETECTION_DECODE, ...options };
  const S = p.stride;
  if (!(height % S === 0 && width % S === 0)) throw new Error(`decodeDetections: ${height}x${width} is not a multiple of the stride ${S}`);
  const h = height / S, w = width / S;
  const plane = h * w;
  const classes = heat.length / plane;
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`decodeDetections: ${heat.length} heatmap values do not form [K, ${h}, ${w}]`);
  if (boxreg.length !== 4 * plane) throw new Error(`decodeDetections: box regression has ${boxreg.length} values, expected [4, ${h}, ${w}]`);

  // 1. Candidates: logit ≥ threshold and ≥ every in-bounds 3×3 neighbour of the same class.
  const cands: { v: number; c: number; y: number; x: number }[] = [];
  for (let c = 0; c < classes; c++) {
    const base = c * plane;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = heat[base + y * w + x];
        if (!(v >= p.logitThreshold)) continue;
        let peak = true;
        for (let dy = -1; dy <= 1 && peak; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx >= 0 && xx < w && heat[base + yy * w + xx] > v) { peak = false; break; }
          }
        }
        if (peak) cands.push({ v, c, y, x });
      }
    }
  }
  // 2. Logit descending; ties: class, y, x ascending. Keep the first preNmsTopK.
  cands.sort((a, b) => b.v - a.v || a.c - b.c || a.y - b.y || a.x - b.x);
  const top = cands.slice(0, p.preNmsTopK);
  // 3. Boxes from the cell centre and the (non-negative) distances, clipped to the image.
  const dets = top.map(({ v, c, y, x }) => detectionAtCell(
    c, y, x, v, [0, 1, 2, 3].map((k) => boxreg[k * plane + y * w + x]), S, height, width, options.classNames,
  ));
  // 4. Greedy class-agnostic NMS.
  return greedyNms(dets, p.nmsIou, p.maxDetections).map((i) => dets[i]);
}

