import { scaleLinear, scaleSequential } from 'd3-scale';
import { interpolateInferno } from 'd3-scale-chromatic';
import { useMemo, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { LayerSpikes } from '../../runtime/types.ts';
import { layerRate } from '../logic/frameTotals.ts';
import { groupByStage, roleOf } from '../../model/stages.ts';
import { CANVAS_BG, CANVAS_GRID, CANVAS_TEXT, useCanvasDraw, useElementWidth, useThrottled } from './canvas.ts';

interface Props {
  layers: LayerSpikes[];
  selected: string;
  onSelect(layer: string): void;
}

const HEIGHT = 190;
const MARGIN = { top: 14, right: 8, bottom: 34, left: 40 };
/** Empty slots between stages. */
const GAP = 1.5;

interface BarLayout {
  x: number;
  width: number;
  name: string;
  rate: number;
}

/** Bar positions: one slot per layer, a gap between stages. */
function layoutBars(layers: LayerSpikes[], width: number): { bars: BarLayout[]; stages: { title: string; x0: number; x1: number }[] } {
  const groups = groupByStage(layers, (l) => l.name);
  const slots = layers.length + GAP * Math.max(0, groups.length - 1);
  const x = scaleLinear().domain([0, Math.max(1, slots)]).range([MARGIN.left, width - MARGIN.right]);
  const bars: BarLayout[] = [];
  const stages: { title: string; x0: number; x1: number }[] = [];
  let slot = 0;
  groups.forEach((g, gi) => {
    if (gi > 0) slot += GAP;
    const start = slot;
    for (const l of g.layers) {
      bars.push({ x: x(slot), width: Math.max(1, x(slot + 1) - x(slot) - 1), name: l.name, rate: layerRate(l) });
      slot++;
    }
    stages.push({ title: g.title, x0: x(start), x1: x(slot) });
  });
  return { bars, stages };
}

/** Firing rate of every neuron layer, grouped by stage, as bars on one canvas. */
export function FiringRatePanel({ layers, selected, onSelect }: Props) {
  const [boxRef, width] = useElementWidth<HTMLDivElement>(800);
  const [hover, setHover] = useState<string | null>(null);
  const { bars, stages } = useMemo(() => layoutBars(layers, width), [layers, width]);
  const maxRate = bars.reduce((m, b) => Math.max(m, b.rate), 0);
  const yMax = Math.max(0.25, Math.ceil(maxRate * 10) / 10);

  const canvasRef = useCanvasDraw(width, HEIGHT, (ctx, w, h) => {
    ctx.fillStyle = CANVAS_BG;
    ctx.fillRect(0, 0, w, h);
    const y = scaleLinear().domain([0, yMax]).range([h - MARGIN.bottom, MARGIN.top]);
    const color = scaleSequential(interpolateInferno).domain([-0.05, yMax]);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    for (const tick of y.ticks(4)) {
      ctx.strokeStyle = CANVAS_GRID;
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, y(tick) + 0.5);
      ctx.lineTo(w - MARGIN.right, y(tick) + 0.5);
      ctx.stroke();
      ctx.fillStyle = CANVAS_TEXT;
      ctx.fillText(`${Math.round(tick * 100)}%`, MARGIN.left - 4, y(tick));
    }
    for (const b of bars) {
      const top = y(b.rate);
      ctx.fillStyle = color(b.rate);
      ctx.fillRect(b.x, top, b.width, y(0) - top);
      if (b.name === selected || b.name === hover) {
        ctx.strokeStyle = b.name === selected ? '#5eead4' : 'rgba(255,255,255,0.6)';
        ctx.lineWidth = 1.5;
        ctx.strokeRect(b.x - 1, MARGIN.top - 4, b.width + 2, y(0) - MARGIN.top + 4);
        ctx.lineWidth = 1;
      }
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const s of stages) {
      ctx.strokeStyle = CANVAS_TEXT;
      ctx.beginPath();
      ctx.moveTo(s.x0, h - MARGIN.bottom + 4);
      ctx.lineTo(s.x1 - 1, h - MARGIN.bottom + 4);
      ctx.stroke();
      ctx.fillStyle = CANVAS_TEXT;
      const label = s.x1 - s.x0 < 70 ? s.title.split(' · ')[0].replace('Stage ', 'S').replace('Segmentation head', 'Seg').replace('Detection head', 'Det') : s.title;
      ctx.fillText(label, (s.x0 + s.x1) / 2, h - MARGIN.bottom + 9);
    }
  }, [bars, stages, selected, hover, yMax]);

  const barAt = (e: MouseEvent<HTMLCanvasElement>): BarLayout | null => {
    const rect = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - rect.left;
    return bars.find((b) => px >= b.x - 0.5 && px <= b.x + b.width + 0.5) ?? null;
  };
  const hovered = bars.find((b) => b.name === hover) ?? bars.find((b) => b.name === selected);
  // Without a mouse: the arrow keys (Home, End) move the chosen layer along the bars.
  const onKey = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const i = bars.findIndex((b) => b.name === selected);
    const next = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: bars.length - 1 }[e.key];
    if (next === undefined || bars.length === 0) return;
    e.preventDefault();
    onSelect(bars[Math.max(0, Math.min(bars.length - 1, next))].name);
  };
  const tableLayers = useThrottled(layers, 1000);
  const total = layers.reduce((acc, l) => {
    acc.ones += l.onesPerStep.reduce((a, b) => a + b, 0);
    acc.n += l.neuronsPerStep * l.onesPerStep.length;
    return acc;
  }, { ones: 0, n: 0 });

  return (
    <section className="panel wide" aria-labelledby="rates-heading">
      <h2 id="rates-heading">Firing rate per layer</h2>
      <p className="explain">
        Each bar is one layer of spiking (LIF) neurons: the share of them that fired in this frame, averaged over the time
        steps. Low bars mean sparse activity — and work saved, since only spikes trigger computation. Click a bar to see its
        spike map (or focus the chart and use the arrow keys).
      </p>
      <div ref={boxRef} className="canvas-box">
        <canvas
          ref={canvasRef}
          role="img"
          aria-label="Firing rate per layer"
          aria-describedby="rates-summary"
          aria-keyshortcuts="ArrowLeft ArrowRight Home End"
          tabIndex={0}
          onKeyDown={onKey}
          onMouseMove={(e) => setHover(barAt(e)?.name ?? null)}
          onMouseLeave={() => setHover(null)}
          onClick={(e) => {
            const b = barAt(e);
            if (b) onSelect(b.name);
          }}
        />
      </div>
      <p className="readout" aria-hidden="true">
        {hovered ? `${hovered.name} — ${roleOf(hovered.name)} — ${(hovered.rate * 100).toFixed(1)} %` : ' '}
      </p>
      <p id="rates-summary" className="visually-hidden">
        {layers.length} neuron layers; overall {total.n ? ((total.ones / total.n) * 100).toFixed(1) : 0} % of neuron updates spiked.
      </p>
      <div className="visually-hidden">
        <table>
          <caption>Firing rate per layer (updated every second)</caption>
          <thead>
            <tr>
              <th scope="col">Layer</th>
              <th scope="col">Role</th>
              <th scope="col">Firing rate</th>
            </tr>
          </thead>
          <tbody>
            {tableLayers.map((l) => (
              <tr key={l.name}>
                <th scope="row">{l.name}</th>
                <td>{roleOf(l.name)}</td>
                <td>{(layerRate(l) * 100).toFixed(1)} %</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
