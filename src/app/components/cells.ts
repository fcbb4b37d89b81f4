/** Drawing a grid of cells (`logic/spikeHistory.ts` `CellGrid`) on whole pixels, so every cell keeps its exact colour. */
import type { CellGrid } from '../logic/spikeHistory.ts';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Fills each cell with `color(value)`; NaN cells (no frame yet) and null colours are left as they are. */
export function drawCells(ctx: CanvasRenderingContext2D, grid: CellGrid, box: Box, color: (v: number) => string | null): void {
  const xs = Array.from({ length: grid.cols + 1 }, (_, c) => Math.round(box.x + (c * box.w) / grid.cols));
  const ys = Array.from({ length: grid.rows + 1 }, (_, r) => Math.round(box.y + (r * box.h) / grid.rows));
  for (let r = 0; r < grid.rows; r++) {
    const y0 = ys[r];
    const hh = Math.max(1, ys[r + 1] - y0);
    for (let c = 0; c < grid.cols; c++) {
      const v = grid.cells[r * grid.cols + c];
      if (Number.isNaN(v)) continue;
      const fill = color(v);
      if (!fill) continue;
      ctx.fillStyle = fill;
      ctx.fillRect(xs[c], y0, Math.max(1, xs[c + 1] - xs[c]), hh);
    }
  }
}

/** The row of `grid` drawn in `box` at canvas height `py` (null outside). */
export function rowAt(grid: CellGrid, box: Box, py: number): number | null {
  const r = Math.floor(((py - box.y) / box.h) * grid.rows);
  return r >= 0 && r < grid.rows ? r : null;
}
