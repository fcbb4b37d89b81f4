import { scaleSequential } from 'd3-scale';
import { interpolateInferno } from 'd3-scale-chromatic';
import { useMemo } from 'react';
import { spikeGrid } from '../logic/spikeGrid.ts';
import { CANVAS_BG, CANVAS_TEXT, useCanvasDraw } from './canvas.ts';

interface Props {
  blocks: string[];
  block: string;
  onBlock(block: string): void;
  shapes: Map<string, [number, number, number]>;
  maps: Map<string, Uint8Array>;
  /** Why there are no spike maps on this backend; shown instead of the maps. */
  unavailable?: string;
  timeSteps: number;
  t: number;
  mirrored: boolean;
}

const MINI = 150;

const PARTS = [
  { key: 'q_lif', title: 'q', hint: 'queries' },
  { key: 'k_lif', title: 'k', hint: 'keys' },
  { key: 'v_lif', title: 'v', hint: 'values' },
  { key: 'attn_lif', title: 'attn_lif', hint: 'output: spikes of q·(kᵀ·v)' },
] as const;

/** One spike map, all channels summed, small. */
function MiniMap({ name, map, shape, T, t, mirrored, title, hint }: {
  name: string; map: Uint8Array | undefined; shape: [number, number, number] | undefined; T: number; t: number; mirrored: boolean; title: string; hint: string;
}) {
  const grid = useMemo(() => (map && shape ? spikeGrid(map, shape, T, Math.min(t, T - 1), 'sum') : null), [map, shape, T, t]);
  const rate = grid ? grid.values.reduce((a, b) => a + b, 0) / (grid.values.length * grid.max) : 0;
  const ref = useCanvasDraw(MINI, MINI, (ctx, w, h) => {
    ctx.fillStyle = CANVAS_BG;
    ctx.fillRect(0, 0, w, h);
    if (!grid) {
      ctx.fillStyle = CANVAS_TEXT;
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText('no map yet', w / 2, h / 2);
      return;
    }
    const color = scaleSequential(interpolateInferno).domain([0, Math.max(1, grid.max * 0.5)]);
    const cw = w / grid.width;
    const ch = h / grid.height;
    for (let y = 0; y < grid.height; y++) {
      for (let x = 0; x < grid.width; x++) {
        const v = grid.values[y * grid.width + x];
        if (!v) continue;
        ctx.fillStyle = color(v);
        const gx = mirrored ? grid.width - 1 - x : x;
        ctx.fillRect(gx * cw, y * ch, Math.ceil(cw), Math.ceil(ch));
      }
    }
  }, [grid, mirrored]);
  return (
    <figure className="mini-map">
      <canvas ref={ref} role="img" aria-label={`${name}: ${(rate * 100).toFixed(1)} % spiking`} />
      <figcaption>
        <strong>{title}</strong> <span className="note">{hint}</span>
        <br />
        {(rate * 100).toFixed(1)} % spiking
      </figcaption>
    </figure>
  );
}

/** q, k, v spike maps and the attention neuron's output of one transformer block. */
export function AttentionView({ blocks, block, onBlock, shapes, maps, unavailable, timeSteps, t, mirrored }: Props) {
  if (!blocks.length) return null;
  return (
    <section className="panel wide" aria-labelledby="attention-heading">
      <h2 id="attention-heading">Spike-driven attention</h2>
      <p className="explain">
        q, k and v are spike maps (all channels summed here). kᵀ·v counts where keys and values fire together, q picks from
        those counts, and attn_lif turns the result back into spikes — no softmax, and only additions.
      </p>
      <div className="controls">
        <label>
          Block{' '}
          <select value={block} onChange={(e) => onBlock(e.target.value)}>
            {blocks.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        {timeSteps > 1 && <span className="note">time step t = {Math.min(t, timeSteps - 1)} (set on the spike map)</span>}
      </div>
      {unavailable ? (
        <p className="status status-info" data-testid="attention-unavailable">
          The attention view {unavailable}.
        </p>
      ) : (
        <div className="mini-maps">
          {PARTS.map((p) => {
            const name = `${block}.attn.${p.key}`;
            return <MiniMap key={p.key} name={name} map={maps.get(name)} shape={shapes.get(name)} T={timeSteps} t={t} mirrored={mirrored} title={p.title} hint={p.hint} />;
          })}
        </div>
      )}
    </section>
  );
}
