/**
 * `spikes.json` / `spikes.bin` in the layout of the official code's reference outputs (`tests/fixtures/official/`): every neuron layer in
 * execution order with its official shape, spike count and rate; with the maps, each layer's
 * spikes packed 8 per byte, bit i at bit `i % 8` of byte `offset + i/8` (numpy
 * `packbits(bitorder='little')` over the C-order flattening of `[T, 1, ...]`).
 */
import { lifOps, type LifOp, type ModelGraph } from '../model/graph.ts';
import type { FrameResult } from './types.ts';

export interface SpikeLayerReport {
  name: string;
  shape: number[];
  ones: number;
  total: number;
  rate: number;
  offset?: number;
  bytes?: number;
}

export interface SpikeReport {
  top1: number;
  layers: SpikeLayerReport[];
}

/** The official tensor shape of a neuron's output: `[T,1,C,H,W]`, `[T,1,C,N]` or `[T,1,C]`. */
export function officialSpikeShape(graph: ModelGraph, op: LifOp): number[] {
  const T = graph.config.timeSteps;
  const [c, h, w] = graph.shapes.get(op.output)!;
  if (op.layout === 'chw') return [T, 1, c, h, w];
  if (op.layout === 'cn') return [T, 1, c, h * w];
  return [T, 1, c];
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** A non-negative finite double as an exact fraction num / 2^shift. */
function exactFraction(x: number): { num: bigint; den: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = exp === 0 ? frac : frac | (1n << 52n);
  const e = (exp === 0 ? 1 : exp) - 1075; // x = mant · 2^e
  return e >= 0 ? { num: mant << BigInt(e), den: 1n } : { num: mant, den: 1n << BigInt(-e) };
}

/**
 * Python's `round(x, digits)` for x ≥ 0: the exact binary value rounded to nearest, ties to even.
 * (The reference's `rate` fields were written with it; `Math.round` rounds ties up.)
 */
export function roundLikePython(x: number, digits: number): number {
  const scale = 10n ** BigInt(digits);
  const { num, den } = exactFraction(x);
  const scaled = num * scale;
  let q = scaled / den; // floor
  const twiceRemainder = 2n * (scaled - q * den);
  if (twiceRemainder > den || (twiceRemainder === den && q % 2n === 1n)) q += 1n;
  return Number(q) / Number(scale);
}

/** Packs 0/1 bytes 8 to a byte, little bit order. */
export function packBits(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/**
 * Builds the report; with `withMaps` (the result must then hold every layer's spike map) also the
 * packed `spikes.bin` and each layer's `offset`/`bytes`.
 */
export function buildSpikeReport(graph: ModelGraph, result: FrameResult, withMaps: boolean): { report: SpikeReport; bin: Uint8Array | null } {
  const ops = lifOps(graph);
  const packed: Uint8Array[] = [];
  let offset = 0;
  const layers = ops.map((op, i): SpikeLayerReport => {
    const counts = result.layers[i];
    if (!counts || counts.name !== op.name) throw new Error(`spike counts for ${op.name} missing from the result`);
    const shape = officialSpikeShape(graph, op);
    const total = shape.reduce((a, b) => a * b, 1);
    const ones = counts.onesPerStep.reduce((a, b) => a + b, 0);
    const layer: SpikeLayerReport = { name: op.name, shape, ones, total, rate: roundLikePython(ones / total, 6) };
    if (withMaps) {
      const map = result.spikeMaps.get(op.name);
      if (!map || map.length !== total) throw new Error(`spike map of ${op.name} missing from the result`);
      const bytes = packBits(map);
      packed.push(bytes);
      layer.offset = offset;
      layer.bytes = bytes.byteLength;
      offset += bytes.byteLength;
    }
    return layer;
  });
  let bin: Uint8Array | null = null;
  if (withMaps) {
    bin = new Uint8Array(offset);
    let at = 0;
    for (const p of packed) { bin.set(p, at); at += p.byteLength; }
  }
  return { report: { top1: argmax(result.logits), layers }, bin };
}
