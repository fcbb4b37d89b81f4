/**
 * Activity over time (`src/app/logic/spikeHistory.ts`): the neurons the raster samples, the
 * columns it keeps, the per-layer rate history, and the grids the canvases draw.
 */
import { describe, expect, test } from 'vitest';
import { TINY_CONFIG } from '../../src/app/engine/builtinModel.ts';
import type { EngineFrame, ModeComparison } from '../../src/app/engine/types.ts';
import {
  activityView, appendFrame, COMPARISONS_KEPT, EMPTY_HISTORY, rasterColumn, rasterGrid, rasterView, rateGrid, sampleNeurons, type SpikeHistory,
} from '../../src/app/logic/spikeHistory.ts';
import { buildModelGraph, lifOps, type ModelGraph } from '../../src/model/graph.ts';

const graph = buildModelGraph(TINY_CONFIG, 32, 32); // T = 2
const lifs = lifOps(graph);
const LAYER = 'ConvBlock1_1.0.Conv.lif1';
const shapeOf = (g: ModelGraph, name: string) => g.shapes.get(lifs.find((l) => l.name === name)!.output)! as [number, number, number];
const SHAPE = shapeOf(graph, LAYER);
const PER_STEP = SHAPE[0] * SHAPE[1] * SHAPE[2];
/** The first neuron the raster samples from `LAYER`. */
const FIRST = sampleNeurons(SHAPE, 48)[0];

/**
 * A frame where layer i fired `ones(i)` neurons at each step; `LAYER`'s map has neuron `k` firing
 * at step t where `fires(k, t)`.
 */
function frame(g: ModelGraph, ones: (i: number) => number, fires: ((k: number, t: number) => boolean) | null, extra: Partial<EngineFrame> = {}): { result: EngineFrame; graph: ModelGraph } {
  const T = g.config.timeSteps;
  const layers = lifOps(g).map((l, i) => {
    const [c, h, w] = g.shapes.get(l.output)!;
    return { name: l.name, neuronsPerStep: c * h * w, onesPerStep: Array.from({ length: T }, () => ones(i)) };
  });
  const spikeMaps = new Map<string, Uint8Array>();
  if (fires) spikeMaps.set(LAYER, Uint8Array.from({ length: T * PER_STEP }, (_, i) => (fires(i % PER_STEP, Math.floor(i / PER_STEP)) ? 1 : 0)));
  return { graph: g, result: { logits: new Float32Array(10), layers, spikeMaps, membranes: new Map(), ms: 1, ...extra } };
}

describe('the raster\'s neurons', () => {
  test('spread evenly over the layer, ascending, all of them when it has fewer', () => {
    const s = sampleNeurons([16, 16, 16], 48);
    expect(s).toHaveLength(48);
    expect([...s].every((v, i) => i === 0 || v > s[i - 1])).toBe(true);
    expect(s[0]).toBeLessThan(4096 / 48);
    expect(s[47]).toBeGreaterThan(4096 - 4096 / 48);
    // Every 16th channel block is visited (the sample is not stuck in the first channels).
    expect(new Set([...s].map((i) => Math.floor(i / 256))).size).toBe(16);
    expect([...sampleNeurons([1, 2, 3], 48)]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('a column holds each sampled neuron\'s spike at each step', () => {
    // T = 2, 4 neurons per step: step 0 fires 1 and 3, step 1 fires 0 and 3.
    const map = Uint8Array.from([0, 1, 0, 1, 1, 0, 0, 1]);
    expect([...rasterColumn(map, Int32Array.from([0, 1, 3]), 2)]).toEqual([0, 1, 1, 0, 1, 1]);
  });
});

const neurons = (i: number) => {
  const [c, h, w] = graph.shapes.get(lifs[i].output)!;
  return c * h * w;
};

describe('the history, frame after frame', () => {
  test('rates of every layer and raster columns, the last `limit` kept, newest last', () => {
    let h: SpikeHistory = EMPTY_HISTORY;
    // Frame f: layer i fires i + f neurons per step; the raster's first neuron fires in even frames.
    for (let f = 0; f < 5; f++) h = appendFrame(h, frame(graph, (i) => i + f, (k) => k === FIRST && f % 2 === 0), LAYER, SHAPE, 3);
    expect(h.graph).toBe(graph);
    expect(h.layers).toEqual(lifs.map((l) => l.name));
    expect(h.rates).toHaveLength(3);
    expect(h.rates[0][0]).toBeCloseTo(2 / neurons(0), 8); // frame 2
    expect(h.rates[2][3]).toBeCloseTo(7 / neurons(3), 8); // frame 4
    expect(h.raster!.layer).toBe(LAYER);
    expect(h.raster!.frames).toHaveLength(3);
    // It fired at both steps of frames 2 and 4, not in frame 3.
    expect(h.raster!.frames.map((col) => [col[0], col[1]])).toEqual([[1, 1], [0, 0], [1, 1]]);
  });

  test('another layer starts the raster again, keeping the rates; a frame without its map adds no column', () => {
    let h = appendFrame(EMPTY_HISTORY, frame(graph, () => 1, () => true), LAYER, SHAPE);
    h = appendFrame(h, frame(graph, () => 1, null), LAYER, SHAPE);
    expect(h.raster!.frames).toHaveLength(1);
    expect(h.rates).toHaveLength(2);
    const other = 'ConvBlock1_1.0.lif1';
    h = appendFrame(h, frame(graph, () => 1, () => true), other, shapeOf(graph, other));
    expect(h.raster).toBeNull(); // the frame has no map of the new layer yet
    expect(h.rates).toHaveLength(3);
  });

  test('another graph starts everything again; comparisons are kept, the last few', () => {
    const cmp = (ms: number): ModeComparison => ({ timing: 'wall', spike: { ms, steps: null, layers: [] }, dense: { ms: 2 * ms, steps: null, layers: [] } });
    let h = EMPTY_HISTORY;
    for (let f = 1; f <= COMPARISONS_KEPT + 2; f++) h = appendFrame(h, frame(graph, () => 0, null, { comparison: cmp(f) }), LAYER, SHAPE);
    h = appendFrame(h, frame(graph, () => 0, null), LAYER, SHAPE);
    expect(h.comparisons.map((c) => c.spike.ms)).toEqual(Array.from({ length: COMPARISONS_KEPT }, (_, i) => i + 3));
    h = appendFrame(h, frame(graph, () => 0, null, { comparisonError: 'out of memory' }), LAYER, SHAPE);
    expect(h.comparisonError).toBe('out of memory');
    const bigger = buildModelGraph(TINY_CONFIG, 48, 48);
    const g = appendFrame(h, frame(bigger, () => 0, null), LAYER, shapeOf(bigger, LAYER));
    expect(g.graph).toBe(bigger);
    expect(g.rates).toHaveLength(1);
    expect(g.comparisons).toEqual([]);
    expect(g.comparisonError).toBeNull();
  });
});

describe('what the canvases draw', () => {
  test('the raster: T columns per frame, the newest frame at the right, NaN before the first', () => {
    let h = EMPTY_HISTORY;
    // The first sampled neuron fires at step 1 of the first frame, at step 0 of the second.
    h = appendFrame(h, frame(graph, () => 0, (k, t) => k === FIRST && t === 1), LAYER, SHAPE);
    h = appendFrame(h, frame(graph, () => 0, (k, t) => k === FIRST && t === 0), LAYER, SHAPE);
    const g = rasterGrid(h.raster!, 4);
    expect(g).toMatchObject({ rows: 48, cols: 8 });
    expect([...g.cells.subarray(0, 8)]).toEqual([NaN, NaN, NaN, NaN, 0, 1, 1, 0]);
    expect([...g.cells.subarray(8, 16)]).toEqual([NaN, NaN, NaN, NaN, 0, 0, 0, 0]);
    const v = rasterView(h, LAYER, SHAPE, undefined);
    expect(v).toMatchObject({ frames: 2, neurons: 48, spikes: 2, timeSteps: 2 });
    expect(v.grid!.cols).toBe(200);
    expect(rasterView(h, LAYER, SHAPE, undefined).grid).toBe(v.grid); // shaped once per history
    expect(rasterView(h, 'ConvBlock1_1.0.lif1', SHAPE, undefined).grid).toBeNull();
    expect(rasterView(h, LAYER, SHAPE, 'needs the WebGPU or CPU backend').grid).toBeNull();
  });

  test('the rate strip: one row per layer, one column per frame', () => {
    let h = EMPTY_HISTORY;
    h = appendFrame(h, frame(graph, (i) => (i === 1 ? neurons(1) : 0), null), LAYER, SHAPE);
    const g = rateGrid(h, 3);
    expect(g).toMatchObject({ rows: lifs.length, cols: 3 });
    expect([...g.cells.subarray(0, 3)]).toEqual([NaN, NaN, 0]);
    expect([...g.cells.subarray(3, 6)]).toEqual([NaN, NaN, 1]);
    const a = activityView(h, LAYER);
    expect(a).toMatchObject({ frames: 1, selected: LAYER, layers: h.layers });
    expect(a.latestMean).toBeCloseTo(1 / lifs.length, 8);
    expect(activityView(EMPTY_HISTORY, LAYER)).toMatchObject({ grid: null, frames: 0, latestMean: null });
  });
});
