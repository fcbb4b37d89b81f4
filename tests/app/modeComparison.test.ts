/**
 * Event-driven vs dense as the comparison view shows it (`src/app/logic/modeComparison.ts`): how
 * often the dense pass runs, the spike check, per-layer work and speed-up, and what each backend
 * says; and how the comparison travels in a frame's request (`view.ts`).
 */
import { describe, expect, test } from 'vitest';
import { TINY_CONFIG } from '../../src/app/engine/builtinModel.ts';
import type { InferenceEngine, ModeComparison, ModeRun } from '../../src/app/engine/types.ts';
import {
  CompareCadence, compareEvery, comparisonView, COMPARE_EVERY_MAX, COMPARE_EVERY_MIN, layerSpeedups, spikeCheck, stepOwner,
} from '../../src/app/logic/modeComparison.ts';
import { DEFAULT_PICKS, layerIndex, sameRequest, selection } from '../../src/app/logic/view.ts';
import { layerCosts } from '../../src/model/cost.ts';
import { buildModelGraph, lifOps } from '../../src/model/graph.ts';
import type { LayerSpikes } from '../../src/runtime/types.ts';

const graph = buildModelGraph(TINY_CONFIG, 32, 32); // T = 2
const T = graph.config.timeSteps;
const costs = layerCosts(graph);

/** Every layer firing `rate` of its neurons at each step. */
function spikes(rate: (name: string) => number): LayerSpikes[] {
  return lifOps(graph).map((l) => {
    const [c, h, w] = graph.shapes.get(l.output)!;
    const n = c * h * w;
    return { name: l.name, neuronsPerStep: n, onesPerStep: Array.from({ length: T }, () => Math.round(rate(l.name) * n)) };
  });
}

/**
 * A comparison where every costed op takes `spikeMs(op)` / `denseMs(op)` (split in two dispatches
 * for attention), and a residual add `residualMs` in both.
 */
function comparison(layers: LayerSpikes[], spikeMs: (op: string) => number, denseMs: (op: string) => number, residualMs = 0): ModeComparison {
  const run = (ms: (op: string) => number): ModeRun => {
    const steps = costs.flatMap((c) => (c.kind === 'attention'
      ? [{ name: `${c.name}.part`, ms: ms(c.name) / 2 }, { name: c.name, ms: ms(c.name) / 2 }]
      : [{ name: c.name, ms: ms(c.name) }]));
    steps.push({ name: 'ConvBlock1_1.0.residual', ms: residualMs });
    return { ms: steps.reduce((a, s) => a + s.ms, 0), steps, layers };
  };
  return { timing: 'gpu-timestamps', spike: run(spikeMs), dense: run(denseMs) };
}

const engine = (o: Partial<InferenceEngine>): InferenceEngine => ({ backendName: 'WebGPU', hasSpikeMaps: true, compareTiming: 'gpu-timestamps', ...o } as InferenceEngine);

describe('how often the dense pass runs', () => {
  const c = (spike: number, dense: number, timing: ModeComparison['timing'] = 'gpu-timestamps'): ModeComparison =>
    ({ timing, spike: { ms: spike, steps: null, layers: [] }, dense: { ms: dense, steps: null, layers: [] } });

  test('often enough to see, seldom enough to cost at most a quarter of the frame rate', () => {
    expect(compareEvery(null)).toBe(COMPARE_EVERY_MIN);
    expect(compareEvery(c(10, 30))).toBe(12); // 3 frames of extra work over 12 frames
    expect(compareEvery(c(10, 30, 'wall'))).toBe(16); // wall timing runs the spike kernels once more
    expect(compareEvery(c(10, 1))).toBe(COMPARE_EVERY_MIN);
    expect(compareEvery(c(1, 100))).toBe(COMPARE_EVERY_MAX);
    expect(compareEvery(c(0, 5))).toBe(COMPARE_EVERY_MIN);
  });

  test('the cadence: the first frame after switching on compares, then one in N', () => {
    const cadence = new CompareCadence();
    const asked: boolean[] = [];
    const run = (on: boolean, n: number) => {
      for (let i = 0; i < n; i++) {
        const due = cadence.due(on);
        asked.push(due);
        cadence.record(due, due ? c(10, 20) : undefined); // N = 8
      }
    };
    run(false, 3);
    run(true, 17);
    expect(asked.map((a) => (a ? 'C' : '.')).join('')).toBe('...C.......C.......C');
    run(false, 1);
    run(true, 1);
    expect(asked[asked.length - 1]).toBe(true);
  });
});

describe('the spike check', () => {
  test('identical counts at every step of every layer; any difference names the layer', () => {
    const a = spikes(() => 0.1);
    expect(spikeCheck(a, structuredClone(a))).toEqual({ identical: true, layers: a.length, differing: [] });
    const b = structuredClone(a);
    b[3].onesPerStep[1]++;
    expect(spikeCheck(a, b)).toEqual({ identical: false, layers: a.length, differing: [a[3].name] });
    expect(spikeCheck(a, b.slice(0, -1)).differing).toEqual([a[3].name, a[a.length - 1].name]);
  });
});

describe('per layer: work, time, speed-up beside the firing rate', () => {
  test('a dispatch belongs to its op, or its parent op; residual adds to none', () => {
    const ops = new Set(costs.map((c) => c.name));
    expect(stepOwner('ConvBlock1_1.0.Conv.pwconv1', ops)).toBe('ConvBlock1_1.0.Conv.pwconv1');
    expect(stepOwner('block3.0.attn.kv.part', ops)).toBe('block3.0.attn.kv');
    expect(stepOwner('block3.0.attn.residual', ops)).toBeNull();
    expect(stepOwner('ConvBlock1_1.0.Conv.residual', ops)).toBeNull();
  });

  test('SOPs are the MACs the firing rate reaches; times are medians, speed-up dense over event-driven', () => {
    const layers = spikes((n) => (n.startsWith('ConvBlock1') ? 0.5 : 0.1));
    const cmps = [1, 3, 2].map((k) => comparison(layers, () => k, () => 4 * k, 5));
    const rows = layerSpeedups(graph, cmps);
    expect(rows).toHaveLength(costs.filter((c) => c.spikeInput).length);
    const pw = rows.find((r) => r.name === 'ConvBlock1_1.0.Conv.pwconv1')!;
    const cost = costs.find((c) => c.name === pw.name)!;
    expect(pw.neuron).toBe('ConvBlock1_1.0.Conv.lif1');
    expect(pw.rate).toBeCloseTo(0.5, 2);
    expect(pw.macs).toBe(cost.macs * T);
    expect(pw.sops / pw.macs).toBeCloseTo(pw.rate, 8);
    expect(pw).toMatchObject({ spikeMs: 2, denseMs: 8, speedup: 4 });
    // Attention: its two dispatches (kᵀv and the rest) add up.
    expect(rows.find((r) => r.name === 'block3.0.attn.kv')).toMatchObject({ spikeMs: 2, denseMs: 8 });
  });

  test('without per-dispatch times (wall timing): work and rates, no times', () => {
    const layers = spikes(() => 0.2);
    const wall: ModeComparison = { timing: 'wall', spike: { ms: 5, steps: null, layers }, dense: { ms: 9, steps: null, layers } };
    const rows = layerSpeedups(graph, [wall]);
    expect(rows.every((r) => r.spikeMs === null && r.speedup === null && r.sops > 0)).toBe(true);
  });
});

describe('the comparison view', () => {
  const layers = spikes(() => 0.1);

  test('WebGPU: median frame times, their ratio, total work and the check of the last comparison', () => {
    const cmps = [10, 30, 20].map((k) => comparison(layers, () => k / 100, () => k / 25));
    const v = comparisonView(engine({}), true, graph, cmps, null);
    expect(v.unavailable).toBeUndefined();
    expect(v).toMatchObject({ on: true, timing: 'gpu-timestamps', samples: 3, error: null });
    expect(v.denseMs! / v.spikeMs!).toBeCloseTo(4, 8);
    expect(v.speedup).toBeCloseTo(4, 8);
    expect(v.sops! / v.macs!).toBeCloseTo(0.1, 2);
    expect(v.check!.identical).toBe(true);
    expect(v.every).toBe(16); // dense 4× the event-driven time
    // Before any comparison: the engine's timing, nothing measured.
    expect(comparisonView(engine({ compareTiming: 'wall' }), false, graph, [], null)).toMatchObject({ timing: 'wall', spikeMs: null, speedup: null, check: null, layers: [] });
  });

  test('ONNX Runtime and the CPU reference say why they cannot compare', () => {
    const onnx = comparisonView(engine({ backendName: 'ONNX Runtime Web (wasm, 2 threads)', compareTiming: undefined }), true, graph, [], 'x');
    expect(onnx.unavailable).toBe('ONNX Runtime Web (wasm, 2 threads) runs one compiled model: there is no event-driven and dense pair to time. The comparison needs the WebGPU backend.');
    expect(onnx).toMatchObject({ on: false, error: null });
    const cpu = comparisonView(engine({ backendName: 'CPU reference (Web Worker)', compareTiming: undefined }), true, graph, [], null);
    expect(cpu.unavailable).toMatch(/^The CPU reference computes every neuron in JavaScript, one way only: .* needs the WebGPU backend\.$/);
  });

  test('the switch travels in the frame\'s request, and a change re-runs a still picture', () => {
    const index = layerIndex(graph);
    const off = selection(DEFAULT_PICKS, index, true, new Set()).request;
    const on = selection({ ...DEFAULT_PICKS, compare: true }, index, true, new Set()).request;
    expect(off.compare).toBeFalsy();
    expect(on.compare).toBe(true);
    expect(sameRequest(off, on)).toBe(false);
    expect(sameRequest(on, selection({ ...DEFAULT_PICKS, compare: true, t: 1 }, index, true, new Set()).request)).toBe(true);
  });
});
