import { scaleLinear } from 'd3-scale';
import { E_AC_PJ, E_MAC_PJ } from '../../model/cost.ts';
import { formatCount, formatEnergy, type FrameTotals } from '../logic/frameTotals.ts';
import { CANVAS_BG, CANVAS_GRID, CANVAS_TEXT, SPIKE_COLOR, useCanvasDraw, useElementWidth } from './canvas.ts';

interface Props {
  totals: FrameTotals | null;
  /** Sparsity samples (time ms, sparsity 0..1), oldest first. */
  history: { t: number; v: number }[];
  windowMs: number;
}

const SPARK_H = 56;

function Sparkline({ history, windowMs }: { history: { t: number; v: number }[]; windowMs: number }) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(260);
  const values = history.map((s) => s.v);
  const lo = values.length ? Math.max(0, Math.min(...values) - 0.02) : 0.8;
  const hi = values.length ? Math.min(1, Math.max(...values) + 0.02) : 1;
  const ref = useCanvasDraw(width, SPARK_H, (ctx, w, h) => {
    ctx.fillStyle = CANVAS_BG;
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = CANVAS_GRID;
    ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
    if (history.length < 2) return;
    const end = history[history.length - 1].t;
    const x = scaleLinear().domain([end - windowMs, end]).range([2, w - 2]);
    const y = scaleLinear().domain([lo, hi]).range([h - 4, 4]);
    ctx.strokeStyle = SPIKE_COLOR;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    history.forEach((s, i) => (i ? ctx.lineTo(x(s.t), y(s.v)) : ctx.moveTo(x(s.t), y(s.v))));
    ctx.stroke();
    ctx.fillStyle = CANVAS_TEXT;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.fillText(`${(hi * 100).toFixed(1)}%`, 4, 3);
    ctx.textBaseline = 'bottom';
    ctx.fillText(`${(lo * 100).toFixed(1)}%`, 4, h - 2);
  }, [history, windowMs, lo, hi]);
  const last = values[values.length - 1];
  return (
    <div ref={boxRef} className="canvas-box">
      <canvas
        ref={ref}
        role="img"
        aria-label={`Sparsity over the last ${windowMs / 1000} seconds${last !== undefined ? `, now ${(last * 100).toFixed(1)} %` : ''}`}
      />
    </div>
  );
}

/** Spikes, operations and the paper's energy estimate for the current frame, next to a same-size ANN. */
export function EnergyPanel({ totals, history, windowMs }: Props) {
  const e = totals?.energy;
  const ratio = e && e.energyUj > 0 ? e.annEnergyUj / e.energyUj : 0;
  return (
    <section className="panel" aria-labelledby="energy-heading">
      <h2 id="energy-heading">Spikes and energy</h2>
      <p className="explain">
        The paper's estimate (45 nm): each synaptic operation a spike triggers costs {E_AC_PJ} pJ (an addition); the stem,
        which sees the image, pays {E_MAC_PJ} pJ per multiply-accumulate, as would every operation of an ANN of the same shape.
      </p>
      {totals && e ? (
        <dl className="totals">
          <dt>Spikes this frame</dt>
          <dd>
            {formatCount(totals.spikes)} of {formatCount(totals.neuronSteps)} neuron updates ({(totals.firingRate * 100).toFixed(1)} %)
          </dd>
          <dt>Sparsity</dt>
          <dd>{(totals.sparsity * 100).toFixed(1)} % silent</dd>
          <dt>Synaptic ops (SOPs)</dt>
          <dd>
            {formatCount(e.sops)} <span className="note">vs {formatCount(e.denseMacs)} dense MACs</span>
          </dd>
          <dt>Energy, SNN</dt>
          <dd>
            {formatEnergy(e.energyUj)} <span className="note">(stem {formatCount(e.stemMacs)} MACs + SOPs)</span>
          </dd>
          <dt>Energy, same-size ANN</dt>
          <dd>
            {formatEnergy(e.annEnergyUj)}
            {ratio > 0 && <span className="note"> — {ratio.toFixed(1)}× the SNN's</span>}
          </dd>
        </dl>
      ) : (
        <p className="note">Waiting for the first frame…</p>
      )}
      <h3 className="small-heading">Sparsity, last {windowMs / 1000} s</h3>
      <Sparkline history={history} windowMs={windowMs} />
    </section>
  );
}
