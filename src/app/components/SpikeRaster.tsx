import { RASTER_NEURONS, type CellGrid } from '../logic/spikeHistory.ts';
import { drawCells } from './cells.ts';
import { CANVAS_BG, CANVAS_GRID, CANVAS_TEXT, SPIKE_COLOR, useCanvasDraw, useElementWidth } from './canvas.ts';

interface Props {
  layer: string;
  shape: readonly [number, number, number] | null;
  /** Rows: sampled neurons; columns: the T steps of each of the last frames (newest at the right). */
  grid: CellGrid | null;
  timeSteps: number;
  /** Frames recorded, neurons sampled, spikes among them. */
  frames: number;
  neurons: number;
  spikes: number;
  /** Why there are no spike maps on this backend; shown instead. */
  unavailable?: string;
}

const HEIGHT = 170;
const MARGIN = { top: 6, right: 6, bottom: 18, left: 6 };
/** A neuron that did not spike in a step of a recorded frame (NaN cells: no frame yet). */
const SILENT = '#151c34';

/** Spikes of a sample of the chosen layer's neurons over the last frames, T steps per frame. */
export function SpikeRaster({ layer, shape, grid, timeSteps: T, frames, neurons, spikes, unavailable }: Props) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(500);
  const ref = useCanvasDraw(width, HEIGHT, (ctx, w, h) => {
    ctx.fillStyle = CANVAS_BG;
    ctx.fillRect(0, 0, w, h);
    if (!grid) return;
    const box = { x: MARGIN.left, y: MARGIN.top, w: w - MARGIN.left - MARGIN.right, h: h - MARGIN.top - MARGIN.bottom };
    drawCells(ctx, grid, box, (v) => (v ? SPIKE_COLOR : SILENT));
    // A tick every 10 frames, and the axis: frames ago.
    const perFrame = box.w / (grid.cols / T);
    ctx.strokeStyle = CANVAS_GRID;
    ctx.fillStyle = CANVAS_TEXT;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    for (let ago = 0; ago <= grid.cols / T; ago += 20) {
      const x = Math.round(box.x + box.w - ago * perFrame) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, box.y + box.h);
      ctx.lineTo(x, box.y + box.h + 4);
      ctx.stroke();
      ctx.textAlign = ago === 0 ? 'right' : x - box.x < 12 ? 'left' : 'center';
      ctx.fillText(ago === 0 ? 'now' : `−${ago}`, x, box.y + box.h + 5);
    }
  }, [grid, T]);

  const label = grid
    ? `Spike raster of ${layer}: ${neurons} neurons over the last ${frames} frames, ${T} time step${T > 1 ? 's' : ''} each; ${spikes} spikes`
    : `Spike raster of ${layer}: no frames yet`;
  return (
    <section className="panel" aria-labelledby="raster-heading">
      <h2 id="raster-heading">Spikes over time</h2>
      <p className="explain">
        {neurons || RASTER_NEURONS} neurons of <strong>{layer || '…'}</strong>{shape ? ` (${shape.join('×')})` : ''}, spread over its channels
        and positions: one row each, one column per time step of each frame (T = {T}), the newest frame at the right. A dot is a spike.
      </p>
      {unavailable ? (
        <p className="note" data-testid="raster-unavailable">The raster {unavailable}.</p>
      ) : (
        <div ref={boxRef} className="canvas-box">
          <canvas ref={ref} role="img" aria-label={label} data-testid="spike-raster" data-frames={frames} data-spikes={spikes} />
        </div>
      )}
    </section>
  );
}
