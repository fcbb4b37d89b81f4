import { scaleLinear, scaleLog } from 'd3-scale';
import { useState, type MouseEvent } from 'react';
import { formatCount } from '../logic/frameTotals.ts';
import type { ComparisonView, LayerSpeedup } from '../logic/modeComparison.ts';
import { CANVAS_BG, CANVAS_GRID, CANVAS_TEXT, SPIKE_COLOR, useCanvasDraw, useElementWidth, useThrottled } from './canvas.ts';

interface Props extends ComparisonView {
  /** The neuron layer chosen in the other views (its ops are marked). */
  selected: string;
  onToggle(on: boolean): void;
}

const HEIGHT = 220;
const MARGIN = { top: 12, right: 12, bottom: 30, left: 44 };
const ms = (v: number | null) => (v === null ? '…' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`);
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

interface Dot {
  x: number;
  y: number;
  layer: LayerSpeedup;
}

/** Per spike-driven layer: measured speed-up (dense time / event-driven time) against its input firing rate. */
function SpeedupScatter({ layers, selected }: { layers: LayerSpeedup[]; selected: string }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(700);
  const [hover, setHover] = useState<LayerSpeedup | null>(null);
  const timed = layers.filter((l): l is LayerSpeedup & { speedup: number } => l.speedup !== null && l.speedup > 0);
  const maxRate = Math.max(0.1, ...timed.map((l) => l.rate));
  const lo = Math.min(0.5, ...timed.map((l) => l.speedup));
  const hi = Math.max(2, ...timed.map((l) => l.speedup));
  const x = scaleLinear().domain([0, maxRate * 1.05]).range([MARGIN.left, width - MARGIN.right]);
  const y = scaleLog().domain([lo / 1.1, hi * 1.1]).range([HEIGHT - MARGIN.bottom, MARGIN.top]);
  const dots: Dot[] = timed.map((l) => ({ x: x(l.rate), y: y(l.speedup), layer: l }));

  const ref = useCanvasDraw(width, HEIGHT, (ctx, w, h) => {
    ctx.fillStyle = CANVAS_BG;
    ctx.fillRect(0, 0, w, h);
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = CANVAS_TEXT;
    ctx.strokeStyle = CANVAS_GRID;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const [y0, y1] = y.domain();
    for (const t of [0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256].filter((v) => v >= y0 && v <= y1)) {
      ctx.globalAlpha = t === 1 ? 1 : 0.5;
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, Math.round(y(t)) + 0.5);
      ctx.lineTo(w - MARGIN.right, Math.round(y(t)) + 0.5);
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.fillText(`${t}×`, MARGIN.left - 4, y(t));
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of x.ticks(5)) ctx.fillText(pct(t).replace('.0 ', ' '), x(t), h - MARGIN.bottom + 4);
    ctx.fillText('input firing rate →', (MARGIN.left + w - MARGIN.right) / 2, h - 13);
    for (const d of dots) {
      const mine = d.layer.neuron === selected || d.layer === hover;
      ctx.fillStyle = mine ? '#fde68a' : SPIKE_COLOR;
      ctx.globalAlpha = mine ? 1 : 0.75;
      ctx.beginPath();
      ctx.arc(d.x, d.y, mine ? 4.5 : 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }, [dots, selected, hover, width]);

  const nearest = (e: MouseEvent<HTMLCanvasElement>): LayerSpeedup | null => {
    const r = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - r.left;
    const py = e.clientY - r.top;
    let best: Dot | null = null;
    for (const d of dots) if (!best || Math.hypot(d.x - px, d.y - py) < Math.hypot(best.x - px, best.y - py)) best = d;
    return best && Math.hypot(best.x - px, best.y - py) < 12 ? best.layer : null;
  };
  const rows = useThrottled(layers, 1000);
  const shown = hover ?? timed.find((l) => l.neuron === selected);
  return (
    <>
      <div ref={boxRef} className="canvas-box">
        <canvas
          ref={ref}
          role="img"
          aria-label={`Speed-up per layer against its input firing rate: ${timed.length} spike-driven layers`}
          data-testid="speedup-scatter"
          onMouseMove={(e) => setHover(nearest(e))}
          onMouseLeave={() => setHover(null)}
        />
      </div>
      <p className="readout" aria-hidden="true">
        {shown?.speedup ? `${shown.name} — input ${pct(shown.rate)} firing — ${ms(shown.spikeMs)} event-driven vs ${ms(shown.denseMs)} dense (${shown.speedup.toFixed(1)}×)` : ' '}
      </p>
      <ul className="visually-hidden" aria-label="Speed-up per layer">
        {rows.map((l) => (
          <li key={l.name}>
            {l.name}: input firing rate {pct(l.rate)}, {ms(l.spikeMs)} event-driven, {ms(l.denseMs)} dense
            {l.speedup ? `, ${l.speedup.toFixed(1)}× faster` : ''}
          </li>
        ))}
      </ul>
    </>
  );
}

/** The same frame through the event-driven kernels and the dense baseline, timed on this GPU. */
export function ModeComparisonPanel(p: Props) {
  const timingNote = p.timing === 'gpu-timestamps'
    ? 'GPU time from timestamp queries, summed over each mode\'s dispatches'
    : 'Wall time of each run (this adapter has no timestamp queries): submission and read-back included, so small models look closer than they are';
  return (
    <section className="panel wide" aria-labelledby="compare-heading">
      <h2 id="compare-heading">Event-driven vs dense, on your GPU</h2>
      <p className="explain">
        The event-driven kernels add up only the weights of inputs that spiked; the dense baseline multiplies every input by its
        weight — zeros included. Both run the same frame with the same weights; the spikes must come out the same.
      </p>
      {p.unavailable ? (
        <p className="note" data-testid="compare-unavailable">{p.unavailable}</p>
      ) : (
        <>
          <div className="controls">
            <button type="button" aria-pressed={p.on} onClick={() => p.onToggle(!p.on)}>
              Compare with dense kernels{p.on ? ': on' : ''}
            </button>
            <span className="note">
              {p.on
                ? `The dense pass runs on one frame in ${p.every}, so it takes at most about a quarter of the live frame rate.`
                : 'Off: the dense kernels run only while comparing.'}
            </span>
          </div>
          {p.error && <p className="note" role="alert">The comparison could not run: {p.error}</p>}
          {p.samples > 0 || p.on ? (
            <>
              <dl className="totals">
                <dt>Event-driven</dt>
                <dd data-testid="spike-ms">{ms(p.spikeMs)}</dd>
                <dt>Dense</dt>
                <dd data-testid="dense-ms">{ms(p.denseMs)}</dd>
                <dt>Speed-up</dt>
                <dd data-testid="speedup">{p.speedup ? `${p.speedup.toFixed(2)}×` : '…'}</dd>
                <dt>Work</dt>
                <dd>
                  {p.sops !== null && p.macs !== null
                    ? `${formatCount(p.sops)} synaptic ops (additions) vs ${formatCount(p.macs)} MACs in the spike-driven layers — ${p.macs ? pct(p.sops / p.macs) : '0 %'} of the work`
                    : '…'}
                </dd>
                <dt>Spikes</dt>
                <dd data-testid="spike-check">
                  {!p.check ? '…' : p.check.identical
                    ? `identical: the same count in all ${p.check.layers} layers, every time step`
                    : `differ in ${p.check.differing.length} of ${p.check.layers} layers (${p.check.differing.slice(0, 3).join(', ')}${p.check.differing.length > 3 ? ', …' : ''})`}
                </dd>
              </dl>
              <p className="note" data-testid="compare-timing">
                {timingNote}; median of the last {p.samples} comparison{p.samples === 1 ? '' : 's'}.
              </p>
              {p.timing === 'gpu-timestamps' ? (
                <SpeedupScatter layers={p.layers} selected={p.selected} />
              ) : (
                <p className="note">Per-layer times need timestamp queries, which this adapter does not offer.</p>
              )}
            </>
          ) : null}
        </>
      )}
    </section>
  );
}
