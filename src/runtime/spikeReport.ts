/**
 * `spikes.json` / `spikes.bin` in the layout of `../shared/reference/`: every neuron layer in
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
    const layer: SpikeLayerReport = { name: op.name, shape, ones, total, rate: Math.round((ones / total) * 1e6) / 1e6 };
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
