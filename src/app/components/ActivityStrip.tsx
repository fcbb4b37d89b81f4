import { scaleSequential } from 'd3-scale';
import { interpolateInferno } from 'd3-scale-chromatic';
import { useState, type MouseEvent } from 'react';
import { roleOf } from '../../model/stages.ts';
import type { CellGrid } from '../logic/spikeHistory.ts';
import { drawCells, rowAt } from './cells.ts';
import { CANVAS_BG, CANVAS_TEXT, useCanvasDraw, useElementWidth } from './canvas.ts';

interface Props {
  /** Neuron layers in execution order: the rows. */
  layers: string[];
  selected: string;
  /** Rows: layers; columns: the last frames (newest at the right); values: firing rates. */
  grid: CellGrid | null;
  frames: number;
  /** Mean firing rate over the layers in the newest frame. */
  latestMean: number | null;
  onSelect(layer: string): void;
}

const HEIGHT = 170;
const MARGIN = { top: 6, right: 6, bottom: 18, left: 10 };

/** Every layer's firing rate over the last frames, as a heat strip: layers down, frames across. */
export function ActivityStrip({ layers, selected, grid, frames, latestMean, onSelect }: Props) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(500);
  const [hover, setHover] = useState<number | null>(null);
  const box = { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: HEIGHT - MARGIN.top - MARGIN.bottom };
  let max = 0;
  if (grid) for (const v of grid.cells) if (v > max) max = v;
  const top = Math.max(0.05, max);

  const ref = useCanvasDraw(width, HEIGHT, (ctx, w, h) => {
    ctx.fillStyle = CANVAS_BG;
    ctx.fillRect(0, 0, w, h);
    if (!grid) return;
    const color = scaleSequential(interpolateInferno).domain([0, top]);
    drawCells(ctx, grid, box, (v) => color(v));
    // The chosen layer's row, marked at the left edge.
    const row = layers.indexOf(selected);
    if (row >= 0) {
      ctx.fillStyle = '#5eead4';
      const y = box.y + (row * box.h) / grid.rows;
      ctx.fillRect(1, Math.floor(y), 6, Math.max(2, Math.round(box.h / grid.rows)));
    }
    ctx.fillStyle = CANVAS_TEXT;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    ctx.fillText(`−${grid.cols} frames`, box.x, box.y + box.h + 4);
    ctx.textAlign = 'right';
    ctx.fillText(`now · brightest = ${(top * 100).toFixed(0)} %`, box.x + box.w, box.y + box.h + 4);
  }, [grid, layers, selected, top, width]);

  const rowOf = (e: MouseEvent<HTMLCanvasElement>) => (grid ? rowAt(grid, box, e.clientY - e.currentTarget.getBoundingClientRect().top) : null);
  const hovered = hover !== null ? layers[hover] : undefined;
  const latest = hover !== null && grid ? grid.cells[hover * grid.cols + grid.cols - 1] : NaN;
  const label = grid
    ? `Firing rate of ${layers.length} layers over the last ${frames} frames${latestMean !== null ? `; now ${(latestMean * 100).toFixed(1)} % on average` : ''}`
    : 'Firing rate history: no frames yet';
  return (
    <section className="panel" aria-labelledby="activity-heading">
      <h2 id="activity-heading">Firing rate over time</h2>
      <p className="explain">
        Every neuron layer, input to output (top to bottom), over the last {grid?.cols ?? 100} frames: the brighter, the more of its
        neurons fired. Move a hand or change the light and watch the layers light up. Click a row to follow that layer.
      </p>
      <div ref={boxRef} className="canvas-box">
        <canvas
          ref={ref}
          role="img"
          aria-label={label}
          data-testid="activity-strip"
          data-frames={frames}
          onMouseMove={(e) => setHover(rowOf(e))}
          onMouseLeave={() => setHover(null)}
          onClick={(e) => {
            const r = rowOf(e);
            if (r !== null && layers[r]) onSelect(layers[r]);
          }}
        />
      </div>
      <p className="readout" aria-hidden="true">
        {hovered ? `${hovered} — ${roleOf(hovered)}${Number.isNaN(latest) ? '' : ` — now ${(latest * 100).toFixed(1)} %`}` : ' '}
      </p>
    </section>
  );
}
