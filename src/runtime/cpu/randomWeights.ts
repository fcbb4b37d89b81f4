/**
 * Seeded random weights for any Meta-SpikeFormer config, with BatchNorm parameters calibrated so
 * that every neuron layer fires at a realistic rate.
 *
 * Every used parameter of the graph (`expectedParameters`) gets a value from a seeded PRNG: conv
 * and linear weights ~ N(0, 1/fan_in), biases small. The BatchNorms are then set in one pass of
 * the CPU reference ops over a smooth random image at a small size (T = 1), in graph order:
 *  - running mean/var = the per-channel statistics the BN sees on that image, so the normalized
 *    value is about N(0, 1);
 *  - a BN that feeds another BN (RepConv's inner ones) stays a plain normalization;
 *  - a BN whose output feeds a neuron gets weight g ≈ 1 and bias 2·θ − g·q, q = Φ⁻¹(1 − rate), so
 *    P(BN(x) ≥ 2θ), the T = 1 firing condition, is about `targetRate`;
 *  - a BN that ends a residual branch is set so that the residual stream x + BN(y), taken as a
 *    normal variable with the observed mean and variance of x, is ≥ 2 with probability about
 *    `targetRate` (the stream feeds the next block's neurons).
 * The result is deterministic for a given config and seed (same numbers in Node and browsers).
 */
import { batchNorm, conv2d, add, lif, spatialMean, linear, spikeAttention, upsample } from './ops.ts';
import type { ModelWeights } from '../../model/weights.ts';
import type { ModelConfig } from '../../model/config.ts';
import { buildModelGraph, expectedParameters, type BatchNormOp, type ModelGraph } from '../../model/graph.ts';

export interface RandomWeightsOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Firing rate the calibration aims at for every neuron layer (default 0.2). */
  targetRate?: number;
  /** Firing rate for the k and v neurons of attention (default `targetRate / 2`), which sets the attention rates. */
  kvRate?: number;
  /** Input size of the calibration pass (multiples of 16; default 64×64). `false`: no calibration (BN = identity-ish). */
  calibration?: { height: number; width: number } | false;
}

/** A small, fast, seeded PRNG (sfc32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed, b = 0x243f6a88 + seed * 0x85ebca6b, c = 0xb7e15162 ^ (seed << 7), d = 1;
  const next = (): number => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

/** Standard normal samples from a uniform PRNG (Box–Muller). */
export function seededNormal(seed: number): () => number {
  const u = seededRandom(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) { const s = spare; spare = null; return s; }
    let u1 = u();
    while (u1 <= 1e-12) u1 = u();
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * u();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

/** Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p = ${p} must be in (0, 1)`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Random weights for `config` (BatchNorms calibrated unless `calibration: false`). */
export function randomModelWeights(config: ModelConfig, options: RandomWeightsOptions = {}): ModelWeights {
  const seed = options.seed ?? 1;
  const normal = seededNormal(seed);
  const weights: ModelWeights = new Map();
  for (const p of expectedParameters(config)) {
    if (!p.used) continue;
    const n = p.shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(n);
    const field = p.key.slice(p.key.lastIndexOf('.') + 1);
    if (p.shape.length >= 2) {
      const fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1);
      const std = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < n; i++) w[i] = normal() * std;
    } else if (field === 'running_var' || field === 'weight') {
      w.fill(1);
    } else if (field === 'running_mean') {
      w.fill(0);
    } else {
      for (let i = 0; i < n; i++) w[i] = normal() * 0.05; // conv/linear/BN biases
    }
    weights.set(p.key, w);
  }
  if (options.calibration !== false) {
    const size = options.calibration ?? { height: 64, width: 64 };
    calibrate(buildModelGraph({ ...config, timeSteps: 1 }, size.height, size.width), weights, seed, options);
  }
  return weights;
}

/** A smooth random image (sum of a few waves plus a little noise), normalized-space values ≈ ±1.5. */
export function randomSmoothImage(channels: number, height: number, width: number, seed: number): Float32Array {
  const u = seededRandom(seed ^ 0x5bd1e995);
  const img = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    const waves = Array.from({ length: 4 }, () => ({ fx: (u() - 0.5) * 0.5, fy: (u() - 0.5) * 0.5, ph: u() * 6.283, a: 0.3 + 0.4 * u() }));
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let v = (u() - 0.5) * 0.4;
        for (const w of waves) v += w.a * Math.sin(w.fx * x + w.fy * y + w.ph);
        img[(c * height + y) * width + x] = v;
      }
    }
  }
  return img;
}

function channelStats(x: Float32Array, channels: number): { mean: Float64Array; variance: Float64Array } {
  const n = x.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let s = 0, s2 = 0;
    for (let i = c * n; i < (c + 1) * n; i++) { s += x[i]; s2 += x[i] * x[i]; }
    mean[c] = s / n;
    variance[c] = Math.max(s2 / n - mean[c] * mean[c], 1e-4);
  }
  return { mean, variance };
}

/** One T = 1 pass of the CPU reference ops in graph order, setting each BN from what it sees. */
function calibrate(graph: ModelGraph, weights: ModelWeights, seed: number, options: RandomWeightsOptions): void {
  const rate = options.targetRate ?? 0.2;
  const kvRate = options.kvRate ?? rate / 2;
  const u = seededRandom(seed ^ 0x27d4eb2f);
  const consumers = new Map<string, { kind: string; name: string; inputs: string[]; threshold?: number }[]>();
  for (const op of graph.ops) {
    for (const id of op.inputs) {
      const list = consumers.get(id) ?? [];
      list.push({ kind: op.kind, name: op.name, inputs: op.inputs, threshold: op.kind === 'lif' ? op.threshold : undefined });
      consumers.set(id, list);
    }
  }
  const values = new Map<string, Float32Array>();
  const [ic, ih, iw] = graph.shapes.get(graph.input)!;
  values.set(graph.input, randomSmoothImage(ic, ih, iw, seed));
  const W = (k: string) => weights.get(k)!;

  for (const op of graph.ops) {
    const x = op.inputs.map((id) => values.get(id)!);
    const [c, h, w] = graph.shapes.get(op.inputs[0])!;
    let out: Float32Array;
    switch (op.kind) {
      case 'conv':
        out = conv2d(x[0], h, w, W(op.weight), op.bias ? W(op.bias) : null, op).data;
        break;
      case 'batchnorm':
        setBatchNorm(op, x[0], c, consumers.get(op.output) ?? [], values, rate, kvRate, u, weights);
        out = batchNorm(x[0], c, h, w, {
          weight: W(`${op.prefix}.weight`), bias: W(`${op.prefix}.bias`),
          runningMean: W(`${op.prefix}.running_mean`), runningVar: W(`${op.prefix}.running_var`), eps: op.eps,
        }, op.pad);
        break;
      case 'lif':
        out = Float32Array.from(lif([x[0]], op.threshold).spikes[0]);
        break;
      case 'add':
        out = add(x[0], x[1]);
        break;
      case 'attention':
        out = spikeAttention(x[0], x[1], x[2], c, h * w, op.heads, op.scale);
        break;
      case 'spatialMean':
        out = spatialMean(x[0], c, h * w);
        break;
      case 'linear':
        out = linear(x[0], W(op.weight), W(op.bias), op.outFeatures);
        break;
      case 'output':
        out = x[0];
        break;
      case 'upsample':
        out = upsample(x[0], c, h, w, op.mode);
        break;
    }
    values.set(op.output, out);
  }
}

function setBatchNorm(
  op: BatchNormOp, x: Float32Array, channels: number,
  users: { kind: string; name: string; inputs: string[]; threshold?: number }[],
  values: Map<string, Float32Array>, rate: number, kvRate: number, u: () => number, weights: ModelWeights,
): void {
  const { mean, variance } = channelStats(x, channels);
  const gamma = weights.get(`${op.prefix}.weight`)!;
  const beta = weights.get(`${op.prefix}.bias`)!;
  const rm = weights.get(`${op.prefix}.running_mean`)!;
  const rv = weights.get(`${op.prefix}.running_var`)!;
  const neuron = users.find((c) => c.kind === 'lif');
  // A residual whose other input is already computed (the FPN's top-down sums add a later value: plain BN).
  const residual = users.find((c) => c.kind === 'add' && c.inputs.every((id) => id === op.output || values.has(id)));
  for (let ch = 0; ch < channels; ch++) {
    rm[ch] = mean[ch];
    rv[ch] = variance[ch];
    if (neuron) {
      const isKv = /\.(k|v)_lif$/.test(neuron.name);
      const r = Math.min(0.95, Math.max(0.01, (isKv ? kvRate : rate) * (0.7 + 0.6 * u())));
      gamma[ch] = 0.8 + 0.4 * u();
      beta[ch] = 2 * neuron.threshold! - gamma[ch] * normalQuantile(1 - r);
    } else if (residual) {
      const other = values.get(residual.inputs.find((id) => id !== op.output)!)!;
      const s = channelStats(other, channels);
      const r = Math.min(0.95, Math.max(0.01, rate * (0.7 + 0.6 * u())));
      gamma[ch] = 0.4 + 0.4 * u();
      const sd = Math.sqrt(s.variance[ch] + gamma[ch] * gamma[ch]);
      beta[ch] = 2 - normalQuantile(1 - r) * sd - s.mean[ch];
    } else {
      gamma[ch] = 1;
      beta[ch] = 0;
    }
  }
}
