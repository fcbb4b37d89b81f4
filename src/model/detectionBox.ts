/**
 * A detection and the box of one heatmap peak (HEADS.md, `decode.decode_detections` step 3): the
 * one definition shared by the CPU decoder (`src/tasks/detection.ts`), the GPU decoder's read-back
 * (`src/runtime/webgpu/taskDecoder.ts`) and the frame result type.
 */

export interface Detection {
  /** Class index (channel of `det_heatmap`). */
  class: number;
  /** Class name (`classNames[class]`, else the index as a string). */
  label: string;
  /** sigmoid(logit), for display. */
  score: number;
  /** The centre-heatmap logit at the peak. */
  logit: number;
  /** Box in input pixels; x1, y1 are exclusive edges. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Heatmap cell `[y, x]` of the peak. */
  cell: [number, number];
}

/**
 * The detection of a peak of class `c` at heatmap cell (`y`, `x`) with centre logit `logit` and
 * distances `dist` = l, t, r, b (cells, as in `det_boxreg`): step 3 of the decoding, in float64.
 * Shared by the CPU decoder and the GPU decoder's read-back (which returns cells, logits and
 * distances of the boxes it kept).
 */
export function detectionAtCell(
  c: number, y: number, x: number, logit: number, dist: readonly number[], stride: number, height: number, width: number,
  classNames?: readonly string[],
): Detection {
  const cx = (x + 0.5) * stride, cy = (y + 0.5) * stride;
  const d = (k: number) => Math.max(0, dist[k]) * stride;
  return {
    class: c, label: classNames?.[c] ?? String(c), score: 1 / (1 + Math.exp(-logit)), logit,
    x0: Math.max(0, cx - d(0)), y0: Math.max(0, cy - d(1)),
    x1: Math.min(width, cx + d(2)), y1: Math.min(height, cy + d(3)),
    cell: [y, x],
  };
}
