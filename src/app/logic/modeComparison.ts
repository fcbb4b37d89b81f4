/**
 * Event-driven vs dense, as the comparison view shows it: both frame times (medians of the last
 * comparisons), the work each did (synaptic operations vs MACs, `model/cost.ts`), whether both
 * produced the same spikes, and per spike-driven layer the measured speed-up beside its input's
 * firing rate. Also how often the loop runs the dense pass (`CompareCadence`), so that it costs
 * the live view a bounded share of its frame rate.
 */
import { layerCosts } from '../../model/cost.ts';
import type { ModelGraph } from '../../model/graph.ts';
import type { LayerSpikes } from '../../runtime/types.ts';
import type { CompareTiming, InferenceEngine, ModeComparison, ModeRun } from '../engine/types.ts';
import { layerRate } from './frameTotals.ts';

/** The share of the live frame rate the dense pass may take. */
export const COMPARE_BUDGET = 0.25;
export const COMPARE_EVERY_MIN = 2;
export const COMPARE_EVERY_MAX = 30;

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Run the dense pass on one frame in N: a compared frame costs about `dense/spike` more frames
 * of work (one more with wall timing, which runs the spike kernels a second time), and that extra
 * spread over N frames should stay within `COMPARE_BUDGET`.
 */
export function compareEvery(c: ModeComparison | null | undefined): number {
  if (!c || !(c.spike.ms > 0)) return COMPARE_EVERY_MIN;
  const extra = c.dense.ms / c.spike.ms + (c.timing === 'wall' ? 1 : 0);
  return Math.min(COMPARE_EVERY_MAX, Math.max(COMPARE_EVERY_MIN, Math.ceil(extra / COMPARE_BUDGET)));
}

/** The frame loop's cadence: whether the next frame compares, learning N from each comparison. */
export class CompareCadence {
  private since = Infinity;
  every = COMPARE_EVERY_MIN;

  /** `asked`: the view wants comparisons (turning it on compares the very next frame). */
  due(asked: boolean): boolean {
    if (!asked) this.since = Infinity;
    return asked && this.since >= this.every - 1;
  }

  /** A frame ran; `compared`: it was asked to compare, `comparison`: what it measured. */
  record(compared: boolean, comparison?: ModeComparison): void {
    if (!compared) {
      this.since++;
      return;
    }
    this.since = 0;
    if (comparison) this.every = compareEvery(comparison);
  }
}

/** Whether both runs fired the same: per-layer spike counts of every time step. */
export interface SpikeCheck {
  identical: boolean;
  layers: number;
  /** Layers whose counts differ (or that only one run has). */
  differing: string[];
}

export function spikeCheck(spike: LayerSpikes[], dense: LayerSpikes[]): SpikeCheck {
  const other = new Map(dense.map((l) => [l.name, l.onesPerStep]));
  const differing = spike.filter((l) => {
    const d = other.get(l.name);
    return !d || d.length !== l.onesPerStep.length || d.some((v, t) => v !== l.onesPerStep[t]);
  }).map((l) => l.name);
  for (const l of dense) if (!spike.some((s) => s.name === l.name)) differing.push(l.name);
  return { identical: differing.length === 0, layers: Math.max(spike.length, dense.length), differing };
}

/** A spike-driven layer (conv, linear, attention on spikes) in the comparison. */
export interface LayerSpeedup {
  /** The op (`ConvBlock1_1.0.Conv.pwconv1`). */
  name: string;
  /** The neuron layer feeding it. */
  neuron: string;
  /** That neuron layer's firing rate: the share of inputs the event-driven kernel touches. */
  rate: number;
  /** Accumulates the event-driven kernel did, and the MACs of the dense one, all T steps. */
  sops: number;
  macs: number;
  /** Median GPU time of each mode (timestamps only). */
  spikeMs: number | null;
  denseMs: number | null;
  /** denseMs / spikeMs. */
  speedup: number | null;
}

/**
 * The op a dispatch belongs to: its own name, else its parent's (a dispatch `block3.0.attn.kv.part` of an op run in several dispatches is part
 * of the attention `block3.0.attn.kv`); null for dispatches of no costed op (residual adds, …).
 */
export function stepOwner(step: string, ops: ReadonlySet<string>): string | null {
  if (ops.has(step)) return step;
  const parent = step.slice(0, step.lastIndexOf('.'));
  return ops.has(parent) ? parent : null;
}

/** GPU time per op of one run (dispatches summed by owner). */
function msByOp(run: ModeRun, ops: ReadonlySet<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of run.steps ?? []) {
    const op = stepOwner(s.name, ops);
    if (op) m.set(op, (m.get(op) ?? 0) + s.ms);
  }
  return m;
}

/**
 * Every spike-driven op of `graph`: work from the latest comparison's spike counts, times as the
 * medians over `comparisons` that have per-dispatch times.
 */
export function layerSpeedups(graph: ModelGraph, comparisons: ModeComparison[]): LayerSpeedup[] {
  const latest = comparisons[comparisons.length - 1];
  if (!latest) return [];
  const T = graph.config.timeSteps;
  const byName = new Map(latest.spike.layers.map((l) => [l.name, l]));
  const costs = layerCosts(graph).filter((c) => c.spikeInput && byName.has(c.spikeInput));
  const ops = new Set(layerCosts(graph).map((c) => c.name));
  const timed = comparisons.filter((c) => c.spike.steps && c.dense.steps);
  const spikeMs = timed.map((c) => msByOp(c.spike, ops));
  const denseMs = timed.map((c) => msByOp(c.dense, ops));
  return costs.map((c) => {
    const input = byName.get(c.spikeInput!)!;
    const sops = input.onesPerStep.reduce((a, ones) => a + (c.macs * ones) / input.neuronsPerStep, 0);
    const s = timed.length ? median(spikeMs.map((m) => m.get(c.name) ?? 0)) : null;
    const d = timed.length ? median(denseMs.map((m) => m.get(c.name) ?? 0)) : null;
    return {
      name: c.name, neuron: c.spikeInput!, rate: layerRate(input), sops, macs: c.macs * T,
      spikeMs: s, denseMs: d, speedup: s !== null && d !== null && s > 0 ? d / s : null,
    };
  });
}

export interface ComparisonView {
  /** Why this backend cannot compare (absent where it can). */
  unavailable?: string;
  on: boolean;
  timing: CompareTiming | null;
  /** Median frame times of the last comparisons, ms, and how many there were. */
  spikeMs: number | null;
  denseMs: number | null;
  speedup: number | null;
  samples: number;
  /** Work in the spike-driven layers: accumulates (event-driven) vs MACs (dense). */
  sops: number | null;
  macs: number | null;
  check: SpikeCheck | null;
  layers: LayerSpeedup[];
  /** The dense pass runs on one frame in `every`. */
  every: number;
  error: string | null;
}

/** Why an engine without both kernel sets cannot compare. */
export function whyNoComparison(engine: InferenceEngine | null): string | undefined {
  if (!engine || engine.compareTiming) return undefined;
  const what = engine.backendName.startsWith('CPU reference')
    ? 'The CPU reference computes every neuron in JavaScript, one way only'
    : `${engine.backendName} runs one compiled model`;
  return `${what}: there is no event-driven and dense pair to time. The comparison needs the WebGPU backend.`;
}

/** The comparison view from the comparisons kept (those of `graph` only). */
export function comparisonView(
  engine: InferenceEngine | null,
  on: boolean,
  graph: ModelGraph | null,
  comparisons: ModeComparison[],
  error: string | null,
): ComparisonView {
  const unavailable = whyNoComparison(engine);
  const latest = comparisons[comparisons.length - 1];
  const same = latest ? comparisons.filter((c) => c.timing === latest.timing) : [];
  const spikeMs = same.length ? median(same.map((c) => c.spike.ms)) : null;
  const denseMs = same.length ? median(same.map((c) => c.dense.ms)) : null;
  const layers = graph && latest && !unavailable ? layerSpeedups(graph, same) : [];
  const sum = (k: 'sops' | 'macs') => (layers.length ? layers.reduce((a, l) => a + l[k], 0) : null);
  return {
    unavailable, on: on && !unavailable,
    timing: latest?.timing ?? engine?.compareTiming ?? null,
    spikeMs, denseMs, speedup: spikeMs && denseMs ? denseMs / spikeMs : null, samples: same.length,
    sops: sum('sops'), macs: sum('macs'),
    check: latest ? spikeCheck(latest.spike.layers, latest.dense.layers) : null,
    layers, every: compareEvery(latest), error: unavailable ? null : error,
  };
}
