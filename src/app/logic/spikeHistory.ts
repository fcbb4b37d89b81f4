/**
 * Activity over time, kept frame after frame (`hooks/useSpikeHistory.ts` holds it as state): the
 * firing rate of every neuron layer, the spikes of a fixed sample of neurons of the chosen layer at
 * each time step, and the recent event-driven vs dense comparisons. Plain functions on immutable
 * values, so each frame gives a new history and the views redraw; the grids the canvases draw are
 * shaped here too.
 */
import type { ModelGraph } from '../../model/graph.ts';
import type { EngineFrame, ModeComparison } from '../engine/types.ts';
import { layerRate } from './frameTotals.ts';

/** Frames the raster and the rate strip show. */
export const HISTORY_FRAMES = 100;
/** Neurons the raster samples from the chosen layer. */
export const RASTER_NEURONS = 48;
/** Comparisons kept (their medians are shown). */
export const COMPARISONS_KEPT = 8;

/** The spikes of a sample of one layer's neurons, frame after frame. */
export interface RasterHistory {
  layer: string;
  timeSteps: number;
  /** Flat indices (`c·H·W + y·W + x`) of the sampled neurons, ascending. */
  neurons: Int32Array;
  /** Per frame, oldest first: `[neuron][t]` 0/1. */
  frames: Uint8Array[];
}

export interface SpikeHistory {
  /** The graph the history belongs to (a new graph starts it again). */
  graph: ModelGraph | null;
  /** Neuron layers in execution order: the rows of `rates`. */
  layers: string[];
  /** Per frame, oldest first: each layer's firing rate. */
  rates: Float32Array[];
  raster: RasterHistory | null;
  /** The last comparisons, oldest first, and why the last one asked for could not run. */
  comparisons: ModeComparison[];
  comparisonError: string | null;
}

export const EMPTY_HISTORY: SpikeHistory = { graph: null, layers: [], rates: [], raster: null, comparisons: [], comparisonError: null };

/** `count` neurons spread evenly over a `[C, H, W]` layer (all of them when it has fewer). */
export function sampleNeurons(shape: readonly [number, number, number], count: number): Int32Array {
  const total = shape[0] * shape[1] * shape[2];
  const n = Math.min(count, total);
  return Int32Array.from({ length: n }, (_, i) => Math.floor(((i + 0.5) * total) / n));
}

/** The sampled neurons' spikes from a `[T, C, H, W]` map: `[neuron][t]`. */
export function rasterColumn(map: Uint8Array, neurons: Int32Array, timeSteps: number): Uint8Array {
  const perStep = map.length / timeSteps;
  const out = new Uint8Array(neurons.length * timeSteps);
  neurons.forEach((idx, k) => {
    for (let t = 0; t < timeSteps; t++) out[k * timeSteps + t] = map[t * perStep + idx];
  });
  return out;
}

/** Keeps the last `limit` items of `list` plus `item`. */
function keep<T>(list: T[], item: T, limit: number): T[] {
  return [...list.slice(Math.max(0, list.length + 1 - limit)), item];
}

/**
 * The history with `frame` added. `layer`/`shape`: the layer the raster follows (a change starts
 * the raster again); a frame without that layer's map adds no raster column.
 */
export function appendFrame(
  h: SpikeHistory,
  frame: { result: EngineFrame; graph: ModelGraph },
  layer: string,
  shape: readonly [number, number, number] | undefined,
  limit = HISTORY_FRAMES,
): SpikeHistory {
  const { result, graph } = frame;
  const T = graph.config.timeSteps;
  const names = result.layers.map((l) => l.name);
  const same = h.graph === graph && h.layers.length === names.length && h.layers.every((n, i) => n === names[i]);
  const base = same ? h : { ...EMPTY_HISTORY, graph, layers: names };
  const rates = keep(base.rates, Float32Array.from(result.layers, layerRate), limit);

  let raster = base.raster && base.raster.layer === layer && base.raster.timeSteps === T ? base.raster : null;
  const map = result.spikeMaps.get(layer);
  if (map && shape && map.length === T * shape[0] * shape[1] * shape[2]) {
    raster ??= { layer, timeSteps: T, neurons: sampleNeurons(shape, RASTER_NEURONS), frames: [] };
    raster = { ...raster, frames: keep(raster.frames, rasterColumn(map, raster.neurons, T), limit) };
  }
  const comparisons = result.comparison ? keep(base.comparisons, result.comparison, COMPARISONS_KEPT) : base.comparisons;
  const comparisonError = result.comparison ? null : result.comparisonError ?? base.comparisonError;
  return { graph, layers: names, rates, raster, comparisons, comparisonError };
}

/** A grid of cells for a canvas, row-major, newest column at the right. */
export interface CellGrid {
  rows: number;
  cols: number;
  cells: Float32Array;
}

/**
 * The raster as cells: one row per sampled neuron, one column per time step of each of the last
 * `frames` frames (T columns per frame); 1 where the neuron spiked, 0 where not, NaN before the
 * first frame.
 */
export function rasterGrid(raster: RasterHistory, frames = HISTORY_FRAMES): CellGrid {
  const T = raster.timeSteps;
  const rows = raster.neurons.length;
  const cols = frames * T;
  const cells = new Float32Array(rows * cols).fill(NaN);
  const shown = raster.frames.slice(-frames);
  const first = frames - shown.length;
  shown.forEach((col, f) => {
    for (let r = 0; r < rows; r++) for (let t = 0; t < T; t++) cells[r * cols + (first + f) * T + t] = col[r * T + t];
  });
  return { rows, cols, cells };
}

/** The rate history as cells: one row per layer, one column per frame (NaN before the first). */
export function rateGrid(h: SpikeHistory, frames = HISTORY_FRAMES): CellGrid {
  const rows = h.layers.length;
  const cells = new Float32Array(rows * frames).fill(NaN);
  const shown = h.rates.slice(-frames);
  const first = frames - shown.length;
  shown.forEach((rates, f) => rates.forEach((v, r) => (cells[r * frames + first + f] = v)));
  return { rows, cols: frames, cells };
}

/** Spikes in the raster (all frames kept). */
export function rasterSpikes(raster: RasterHistory): number {
  return raster.frames.reduce((a, col) => a + col.reduce((x, y) => x + y, 0), 0);
}

/** Grids are shaped once per history (a frame is drawn many times). */
const rasterGrids = new WeakMap<RasterHistory, CellGrid>();
const rateGrids = new WeakMap<SpikeHistory, CellGrid>();

/** What the raster view draws: the chosen layer's sampled neurons over the last frames. */
export function rasterView(h: SpikeHistory, layer: string, shape: readonly [number, number, number] | undefined, unavailable: string | undefined) {
  const raster = !unavailable && h.raster?.layer === layer ? h.raster : null;
  let grid = raster ? rasterGrids.get(raster) : undefined;
  if (raster && !grid) rasterGrids.set(raster, (grid = rasterGrid(raster)));
  return {
    layer, shape: shape ?? null, unavailable, grid: grid ?? null, timeSteps: raster?.timeSteps ?? 1,
    frames: raster?.frames.length ?? 0, neurons: raster?.neurons.length ?? 0, spikes: raster ? rasterSpikes(raster) : 0,
  };
}

/** What the rate strip draws: every layer's firing rate over the last frames. */
export function activityView(h: SpikeHistory, selected: string) {
  let grid = h.rates.length ? rateGrids.get(h) : undefined;
  if (h.rates.length && !grid) rateGrids.set(h, (grid = rateGrid(h)));
  const mean = (rates: Float32Array) => (rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : 0);
  return { layers: h.layers, selected, grid: grid ?? null, frames: h.rates.length, latestMean: h.rates.length ? mean(h.rates[h.rates.length - 1]) : null };
}
