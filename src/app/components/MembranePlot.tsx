import { scaleLinear } from 'd3-scale';
import { useMemo } from 'react';
import { lifSteps } from '../logic/spikeGrid.ts';
import { CANVAS_BG, CANVAS_GRID, CANVAS_TEXT, SPIKE_COLOR, useCanvasDraw, useElementWidth } from './canvas.ts';
import type { NeuronRef } from '../logic/spikeGrid.ts';

interface Props {
  neuron: NeuronRef | null;
  /** Charged potential h_t (before reset) at each step, or null when not available. */
  trace: number[] | null;
  threshold: number;
  /** Drawn instead of the plot (short). */
  unavailable?: string;
  /** Why, in a sentence under the plot. */
  note?: string;
}

const HEIGHT = 200;
const M = { top: 16, right: 16, bottom: 28, left: 44 };

/** Membrane potential of one neuron over the T steps: charge, threshold, spike, reset. */
export function MembranePlot({ neuron, trace, threshold, unavailable, note }: Props) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(320);
  const steps = useMemo(() => (trace ? lifSteps(trace, threshold) : []), [trace, threshold]);

  const canvasRef = useCanvasDraw(width, HEIGHT, (ctx, w, h) => {
    ctx.fillStyle = CANVAS_BG;
    ctx.fillRect(0, 0, w, h);
    ctx.font = '11px system-ui, sans-serif';
    if (!steps.length) {
      ctx.fillStyle = CANVAS_TEXT;
      ctx.textAlign = 'center';
      ctx.fillText(unavailable ?? 'click a neuron on the spike map', w / 2, h / 2);
      return;
    }
    const values = steps.flatMap((s) => [s.before, s.charged]);
    const lo = Math.min(0, ...values);
    const hi = Math.max(threshold * 1.4, ...values);
    const y = scaleLinear().domain([lo, hi]).nice().range([h - M.bottom, M.top]);
    // x: step t charges between x(t) and x(t + 0.6), the reset happens at x(t + 0.6).
    const x = scaleLinear().domain([0, steps.length]).range([M.left, w - M.right]);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const tick of y.ticks(4)) {
      ctx.strokeStyle = CANVAS_GRID;
      ctx.beginPath();
      ctx.moveTo(M.left, y(tick) + 0.5);
      ctx.lineTo(w - M.right, y(tick) + 0.5);
      ctx.stroke();
      ctx.fillStyle = CANVAS_TEXT;
      ctx.fillText(tick.toFixed(1), M.left - 4, y(tick));
    }
    // Threshold.
    ctx.strokeStyle = '#f87171';
    ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.moveTo(M.left, y(threshold));
    ctx.lineTo(w - M.right, y(threshold));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#f87171';
    ctx.textAlign = 'left';
    ctx.fillText(`threshold ${threshold}`, M.left + 4, y(threshold) - 8);
    // The potential.
    ctx.strokeStyle = '#f0abfc';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x(0), y(0));
    steps.forEach((s, t) => {
      ctx.lineTo(x(t), y(s.before));
      ctx.lineTo(x(t + 0.6), y(s.charged));
      ctx.lineTo(x(t + 0.6), y(s.after));
      ctx.lineTo(x(t + 1), y(s.after));
    });
    ctx.stroke();
    ctx.lineWidth = 1;
    steps.forEach((s, t) => {
      ctx.fillStyle = '#f0abfc';
      ctx.beginPath();
      ctx.arc(x(t + 0.6), y(s.charged), 3.5, 0, Math.PI * 2);
      ctx.fill();
      if (s.spiked) {
        ctx.strokeStyle = SPIKE_COLOR;
        ctx.lineWidth = 3;
        ctx.beginPath();
        ctx.moveTo(x(t + 0.6), y(s.charged) - 4);
        ctx.lineTo(x(t + 0.6), M.top - 4);
        ctx.stroke();
        ctx.lineWidth = 1;
        ctx.fillStyle = SPIKE_COLOR;
        ctx.textAlign = 'center';
        ctx.fillText('spike', x(t + 0.6), M.top - 8 < 6 ? 8 : M.top - 8);
      }
      ctx.fillStyle = CANVAS_TEXT;
      ctx.textAlign = 'center';
      ctx.fillText(`t=${t}`, x(t + 0.5), h - M.bottom + 14);
    });
  }, [steps, threshold, unavailable]);

  return (
    <section className="panel" aria-labelledby="membrane-heading">
      <h2 id="membrane-heading">Membrane potential</h2>
      <p className="explain">
        A LIF neuron adds half of its input to a potential that leaks by half each step; crossing the threshold fires a spike
        and resets it to 0.
      </p>
      <div ref={boxRef} className="canvas-box">
        <canvas
          ref={canvasRef}
          role="img"
          aria-label={neuron ? `Membrane potential of ${neuron.layer}, channel ${neuron.channel}, position (${neuron.x}, ${neuron.y})` : 'Membrane potential (no neuron chosen)'}
        />
      </div>
      {note && (
        <p className="status status-info" data-testid="membrane-unavailable">
          {note}
        </p>
      )}
      {neuron && (
        <p className="readout">
          {neuron.layer} · channel {neuron.channel} · position ({neuron.x}, {neuron.y})
        </p>
      )}
      {steps.length > 0 && (
        <ul className="lif-steps">
          {steps.map((s, t) => (
            <li key={t}>
              t={t}: input {s.input.toFixed(2)} → potential {s.charged.toFixed(2)} {s.spiked ? `≥ ${threshold}: spike, reset to 0` : `< ${threshold}: no spike`}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
