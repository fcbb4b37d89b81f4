/** Decoding of the task heads (HEADS.md) on small hand-made maps: IoU, NMS, peaks, ties, masks. */
import { describe, expect, it } from 'vitest';
import { decodeDetections, decodeSegmentation, greedyNms, iou } from '../../src/tasks/index.ts';

describe('iou', () => {
  const a = { x0: 0, y0: 0, x1: 10, y1: 10 };
  it('is 1 for the same box, 0 apart or only touching, exact in between', () => {
    expect(iou(a, a)).toBe(1);
    expect(iou(a, { x0: 10, y0: 0, x1: 20, y1: 10 })).toBe(0); // shared edge: iw = 0
    expect(iou(a, { x0: 20, y0: 20, x1: 30, y1: 30 })).toBe(0);
    expect(iou(a, { x0: 5, y0: 0, x1: 15, y1: 10 })).toBeCloseTo(50 / 150, 15);
  });
  it('is 0 for empty boxes', () => {
    expect(iou({ x0: 3, y0: 3, x1: 3, y1: 8 }, a)).toBe(0);
    expect(iou({ x0: 3, y0: 3, x1: 3, y1: 3 }, { x0: 3, y0: 3, x1: 3, y1: 3 })).toBe(0);
  });
});

describe('greedyNms', () => {
  it('drops only IoU > threshold (exactly 0.5 is kept), class-agnostic, in order, up to max', () => {
    const boxes = [
      { x0: 0, y0: 0, x1: 10, y1: 10 },
      { x0: 0, y0: 0, x1: 10, y1: 20 },   // IoU 0.5 with 0: kept
      { x0: 0, y0: 0, x1: 10, y1: 11 },   // IoU 10/11 with 0: dropped
      { x0: 50, y0: 50, x1: 60, y1: 60 },
      { x0: 70, y0: 70, x1: 80, y1: 80 },
    ];
    expect(iou(boxes[0], boxes[1])).toBe(0.5);
    expect(greedyNms(boxes, 0.5, 20)).toEqual([0, 1, 3, 4]);
    expect(greedyNms(boxes, 0.5, 2)).toEqual([0, 1]);
  });
});

/** Maps `[K, h, w]` filled with `fill`, then `set` entries (c, y, x, v). */
function heatmap(k: number, h: number, w: number, set: [number, number, number, number][], fill = -5): Float32Array {
  const a = new Float32Array(k * h * w).fill(fill);
  for (const [c, y, x, v] of set) a[(c * h + y) * w + x] = v;
  return a;
}

function boxreg(h: number, w: number, ltrb: [number, number, number, number]): Float32Array {
  const a = new Float32Array(4 * h * w);
  ltrb.forEach((v, k) => a.fill(v, k * h * w, (k + 1) * h * w));
  return a;
}

describe('decodeDetections', () => {
  const H = 32, W = 32; // 8×8 cells at stride 4

  it('keeps 3x3 peaks at or above the logit threshold, compares logits (not scores)', () => {
    const heat = heatmap(2, 8, 8, [[0, 2, 2, 1.5], [0, 2, 3, 1.0], [1, 6, 6, 0.5], [1, 0, 0, 0.4999]]);
    const d = decodeDetections(heat, boxreg(8, 8, [1, 1, 1, 1]), H, W, { logitThreshold: 0.5 });
    expect(d.map((x) => [x.class, x.cell])).toEqual([[0, [2, 2]], [1, [6, 6]]]); // (2,3) is not a peak, 0.4999 below
    expect(d[0].logit).toBe(1.5);
    expect(d[0].score).toBeCloseTo(1 / (1 + Math.exp(-1.5)), 15);
    expect(d[0].label).toBe('0');
    expect([d[0].x0, d[0].y0, d[0].x1, d[0].y1]).toEqual([6, 6, 14, 14]); // centre (10, 10) ± 1 cell
  });

  it('sorts by logit, then class, y, x; plateaus keep every cell and NMS removes duplicates', () => {
    const heat = heatmap(3, 8, 8, [[2, 1, 1, 2], [0, 5, 5, 2], [1, 3, 1, 2], [0, 6, 1, 3], [0, 6, 2, 3]]);
    const d = decodeDetections(heat, boxreg(8, 8, [0.5, 0.5, 0.5, 0.5]), H, W, { logitThreshold: 0 });
    // Plateau (0, 6, 1) / (0, 6, 2): both peaks, boxes [4,24,8,28] and [8,24,12,28] do not overlap.
    expect(d.map((x) => [x.class, ...x.cell])).toEqual([[0, 6, 1], [0, 6, 2], [0, 5, 5], [1, 3, 1], [2, 1, 1]]);
    const wide = decodeDetections(heat, boxreg(8, 8, [3, 3, 3, 3]), H, W, { logitThreshold: 0, classNames: ['a', 'b', 'c'] });
    // 3-cell distances: the plateau twin (IoU 18·18 / 22·18 > 0.5) goes, and so does (2,1,1)
    // (IoU 288/468 with (1,3,1)'s box); (0,5,5) and (1,3,1) overlap the kept boxes less.
    expect(wide.map((x) => [x.class, x.label, ...x.cell])).toEqual([[0, 'a', 6, 1], [0, 'a', 5, 5], [1, 'b', 3, 1]]);
    expect([wide[0].x0, wide[0].y0, wide[0].x1, wide[0].y1]).toEqual([0, 14, 18, 32]);
  });

  it('clips boxes to the image, treats negative distances as 0', () => {
    const heat = heatmap(1, 8, 8, [[0, 0, 7, 1]]);
    const reg = boxreg(8, 8, [-1, 5, 5, 0.25]);
    const [d] = decodeDetections(heat, reg, H, W, { logitThreshold: 0 });
    // centre (30, 2): x0 = 30 − 0, y0 = max(0, 2 − 20), x1 = min(32, 30 + 20), y1 = 2 + 1
    expect([d.x0, d.y0, d.x1, d.y1]).toEqual([30, 0, 32, 3]);
  });

  it('caps candidates before NMS and detections after', () => {
    const set: [number, number, number, number][] = [];
    for (let i = 0; i < 16; i++) set.push([0, 2 * (i >> 2), 2 * (i & 3), 1 + i / 100]);
    const heat = heatmap(1, 8, 8, set);
    const reg = boxreg(8, 8, [0.25, 0.25, 0.25, 0.25]);
    expect(decodeDetections(heat, reg, H, W, { logitThreshold: 0 }).length).toBe(16);
    expect(decodeDetections(heat, reg, H, W, { logitThreshold: 0, preNmsTopK: 5 }).map((d) => d.logit)).toEqual(
      [1.15, 1.14, 1.13, 1.12, 1.11].map(Math.fround));
    expect(decodeDetections(heat, reg, H, W, { logitThreshold: 0, maxDetections: 3 }).length).toBe(3);
  });

  it('uses HEADS.md defaults: score 0.3 as logit ln(3/7)', () => {
    const t = Math.log(0.3 / 0.7);
    const above = Math.fround(t + 1e-6), below = Math.fround(t - 1e-6);
    expect(decodeDetections(heatmap(1, 8, 8, [[0, 4, 4, above]]), boxreg(8, 8, [1, 1, 1, 1]), H, W).length).toBe(1);
    expect(decodeDetections(heatmap(1, 8, 8, [[0, 4, 4, below]]), boxreg(8, 8, [1, 1, 1, 1]), H, W).length).toBe(0);
  });
});

describe('decodeSegmentation', () => {
  it('upsamples x4 bilinearly (align_corners=false) and takes the arg max', () => {
    // class 0: 0 everywhere; class 1: −1 on the left column, +1 on the right (1×2 logits → 4×8 mask).
    const logits = new Float32Array([0, 0, -1, 1]);
    const mask = decodeSegmentation(logits, 4, 8);
    // Along x: −1, −1, −0.75, −0.25, 0.25, 0.75, 1, 1.
    for (let y = 0; y < 4; y++) expect([...mask.subarray(y * 8, y * 8 + 8)]).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('gives ties to the lowest class', () => {
    const logits = new Float32Array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]); // 3 classes, 2×2
    const mask = decodeSegmentation(logits, 8, 8);
    expect(new Set(mask)).toEqual(new Set([0]));
    logits[4] = 0.5000001; // class 1, cell (0,0): wins where its weight is 1
    const m2 = decodeSegmentation(logits, 8, 8);
    expect(m2[0]).toBe(1);
    expect(m2[63]).toBe(0);
  });
});
