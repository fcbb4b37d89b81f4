import { scaleSequential } from 'd3-scale';
import { interpolateInferno } from 'd3-scale-chromatic';
import { useMemo, type MouseEvent } from 'react';
import type { LifOp } from '../../model/graph.ts';
import { channelAt, spikeGrid, type ChannelChoice, type NeuronRef } from '../logic/spikeGrid.ts';
import { groupByStage, roleOf } from '../../model/stages.ts';
import { CANVAS_BG, CANVAS_TEXT, SPIKE_COLOR, useCanvasDraw } from './canvas.ts';

interface Props {
  lifs: LifOp[];
  shapes: Map<string, [number, number, number]>;
  timeSteps: number;
  layer: string;
  channel: ChannelChoice;
  t: number;
  map: Uint8Array | undefined;
  /** Why there are no spike maps on this backend ("needs the WebGPU or CPU backend …"); shown instead. */
  unavailable?: string;
  /** The model-size input of the same frame (drawn faintly under the spikes). */
  input: ImageBitmap | null;
  mirrored: boolean;
  neuron: NeuronRef | null;
  onLayer(layer: string): void;
  onChannel(channel: ChannelChoice): void;
  onTime(t: number): void;
  onNeuron(neuron: NeuronRef): void;
}

const SIZE = 300;

/** Spikes of one layer (one channel, or all channels summed) over the frame, at one time step. */
export function SpikeMapView(props: Props) {
  const { lifs, shapes, timeSteps: T, layer, channel, t, unavailable, input, mirrored, neuron } = props;
  const map = unavailable ? undefined : props.map;
  const shape = shapes.get(layer);
  const groups = useMemo(() => groupByStage(lifs, (l) => l.name), [lifs]);
  const grid = useMemo(() => {
    if (!map || !shape) return null;
    try {
      return spikeGrid(map, shape, T, Math.min(t, T - 1), channel === 'sum' ? 'sum' : Math.min(channel, shape[0] - 1));
    } catch {
      return null;
    }
  }, [map, shape, T, t, channel]);
  const rate = grid ? grid.values.reduce((a, b) => a + b, 0) / (grid.values.length * grid.max) : 0;
  // Token-shaped head neuron ([C,1,1]): show its C channels as a strip instead of one pixel.
  const isVector = shape ? shape[1] === 1 && shape[2] === 1 : false;

  const canvasRef = useCanvasDraw(SIZE, SIZE, (ctx, w, h) => {
    ctx.fillStyle = CANVAS_BG;
    ctx.fillRect(0, 0, w, h);
    if (!shape) return;
    ctx.save();
    if (mirrored) {
      ctx.translate(w, 0);
      ctx.scale(-1, 1);
    }
    if (input && !isVector) {
      ctx.globalAlpha = 0.35;
      ctx.filter = 'grayscale(1)';
      ctx.drawImage(input, 0, 0, w, h);
      ctx.filter = 'none';
      ctx.globalAlpha = 1;
    }
    if (grid && !isVector) {
      const cw = w / grid.width;
      const ch = h / grid.height;
      const color = scaleSequential(interpolateInferno).domain([0, Math.max(1, grid.max * 0.6)]);
      // Summed counts are drawn a little transparent so the picture shows through.
      ctx.globalAlpha = grid.max === 1 ? 1 : 0.8;
      for (let y = 0; y < grid.height; y++) {
        for (let x = 0; x < grid.width; x++) {
          const v = grid.values[y * grid.width + x];
          if (!v) continue;
          ctx.fillStyle = grid.max === 1 ? SPIKE_COLOR : color(v);
          ctx.fillRect(x * cw + 0.5, y * ch + 0.5, Math.max(1, cw - 1), Math.max(1, ch - 1));
        }
      }
      ctx.globalAlpha = 1;
      if (neuron && neuron.layer === layer) {
        ctx.strokeStyle = '#f0abfc';
        ctx.lineWidth = 2;
        ctx.strokeRect(neuron.x * cw, neuron.y * ch, cw, ch);
      }
    }
    ctx.restore();
    if (isVector && map && shape) {
      // One cell per channel, in rows of 16.
      const c = shape[0];
      const cols = 16;
      const rows = Math.ceil(c / cols);
      const cw = w / cols;
      const chh = Math.min(cw, h / rows);
      for (let i = 0; i < c; i++) {
        const on = map[Math.min(t, T - 1) * c + i];
        ctx.fillStyle = on ? SPIKE_COLOR : 'rgba(255,255,255,0.08)';
        ctx.fillRect((i % cols) * cw + 1, Math.floor(i / cols) * chh + 1, cw - 2, chh - 2);
        if (neuron && neuron.layer === layer && neuron.channel === i) {
          ctx.strokeStyle = '#f0abfc';
          ctx.strokeRect((i % cols) * cw, Math.floor(i / cols) * chh, cw, chh);
        }
      }
    }
    if (!map) {
      ctx.fillStyle = CANVAS_TEXT;
      ctx.font = '13px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText(unavailable ? 'needs the WebGPU or CPU backend' : 'waiting for a frame…', w / 2, h / 2);
    }
  }, [grid, input, mirrored, neuron, layer, isVector, map, shape, t, T, unavailable]);

  const onClick = (e: MouseEvent<HTMLCanvasElement>) => {
    if (!shape) return;
    const rect = e.currentTarget.getBoundingClientRect();
    let fx = (e.clientX - rect.left) / rect.width;
    const fy = (e.clientY - rect.top) / rect.height;
    const [c, hh, ww] = shape;
    if (isVector) {
      const cols = 16;
      const cw = 1 / cols;
      const rows = Math.ceil(c / cols);
      const chh = Math.min(cw * rect.width, rect.height / rows) / rect.height;
      const i = Math.floor(fy / chh) * cols + Math.floor(fx / cw);
      if (i >= 0 && i < c) props.onNeuron({ layer, channel: i, y: 0, x: 0 });
      return;
    }
    if (mirrored) fx = 1 - fx;
    const x = Math.min(ww - 1, Math.max(0, Math.floor(fx * ww)));
    const y = Math.min(hh - 1, Math.max(0, Math.floor(fy * hh)));
    const ch = channel === 'sum' ? (map ? channelAt(map, shape, Math.min(t, T - 1), y, x) : 0) : Math.min(channel, c - 1);
    props.onNeuron({ layer, channel: ch, y, x });
  };

  return (
    <section className="panel" aria-labelledby="spikemap-heading">
      <h2 id="spikemap-heading">Spike map</h2>
      <p className="explain">
        Where the chosen layer's neurons fired, over the picture. The next layer only adds up weights where there is a spike —
        dark squares cost nothing. Click a square to follow that neuron's membrane.
      </p>
      <div className="controls">
        <label>
          Layer{' '}
          <select value={layer} onChange={(e) => props.onLayer(e.target.value)}>
            {groups.map((g) => (
              <optgroup key={g.stage} label={g.title}>
                {g.layers.map((l) => {
                  const s = shapes.get(l.name)!;
                  return (
                    <option key={l.name} value={l.name}>
                      {l.name} — {roleOf(l.name)} ({s[0]}×{s[1]}×{s[2]})
                    </option>
                  );
                })}
              </optgroup>
            ))}
          </select>
        </label>
        <label>
          Channels{' '}
          <select value={channel === 'sum' ? 'sum' : 'one'} onChange={(e) => props.onChannel(e.target.value === 'sum' ? 'sum' : 0)}>
            <option value="sum">all, summed</option>
            <option value="one">one channel</option>
          </select>
        </label>
        {channel !== 'sum' && shape && (
          <label>
            Channel{' '}
            <input
              type="number"
              min={0}
              max={shape[0] - 1}
              value={Math.min(channel, shape[0] - 1)}
              onChange={(e) => props.onChannel(Math.max(0, Math.min(shape[0] - 1, Number(e.target.value) || 0)))}
            />{' '}
            of {shape[0]}
          </label>
        )}
        {T > 1 && (
          <label>
            Time step{' '}
            <input type="range" min={0} max={T - 1} step={1} value={Math.min(t, T - 1)} onChange={(e) => props.onTime(Number(e.target.value))} />{' '}
            <output>t = {Math.min(t, T - 1)} of {T}</output>
          </label>
        )}
      </div>
      {unavailable && (
        <p className="status status-info" data-testid="spike-map-unavailable">
          The spike map {unavailable}.
        </p>
      )}
      <canvas
        ref={canvasRef}
        className="spike-map"
        role="img"
        aria-label={`Spike map of ${layer}${channel === 'sum' ? ', all channels summed' : `, channel ${channel}`}, time step ${t}: ${(rate * 100).toFixed(1)} % spiking`}
        onClick={onClick}
      />
      <p className="readout">
        {shape ? `${shape[0]} channels × ${shape[1]}×${shape[2]} positions` : ''}
        {grid ? ` · ${(rate * 100).toFixed(1)} % spiking at t = ${Math.min(t, T - 1)}` : ''}
        {channel === 'sum' ? ' · colour = how many channels fired there' : ''}
      </p>
    </section>
  );
}
