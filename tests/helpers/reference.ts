/** Access to `tests/fixtures/official/` (the official code's outputs; see its README). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readNpy } from '../../src/io/npy.ts';

export const REFERENCE_DIR = resolve(process.cwd(), 'tests/fixtures/official');
export const REFERENCE_MODELS = ['metaspikformer-tiny-t1', 'metaspikformer-tiny-t4-kd'] as const;

export interface ReferenceConfig {
  embed_dim: [number, number, number, number];
  num_classes: number;
  time_steps: number;
  kd: boolean;
  input_height: number;
  input_width: number;
  cases: string[];
}

export interface ReferenceLayer {
  name: string;
  shape: number[];
  ones: number;
  total: number;
  rate: number;
  offset: number;
  bytes: number;
}

export function referencePath(...parts: string[]): string {
  return resolve(REFERENCE_DIR, ...parts);
}

export function referenceConfig(model: string): ReferenceConfig {
  return JSON.parse(readFileSync(referencePath(model, 'config.json'), 'utf8'));
}

export interface ReferenceCase {
  input: Float32Array;
  logits: Float32Array;
  features: Float32Array;
  spikes: { top1: number; layers: ReferenceLayer[] };
  spikesBin: Uint8Array;
}

export function referenceCase(model: string, name: string): ReferenceCase {
  const npy = (file: string) => readNpy(readFileSync(referencePath(model, name, file))).data as Float32Array;
  return {
    input: npy('input.npy'),
    logits: npy('logits.npy'),
    features: npy('features.npy'),
    spikes: JSON.parse(readFileSync(referencePath(model, name, 'spikes.json'), 'utf8')),
    spikesBin: new Uint8Array(readFileSync(referencePath(model, name, 'spikes.bin'))),
  };
}

/** Number of positions where `map` (0/1 bytes) differs from the packed reference layer. */
export function countBitDifferences(map: Uint8Array, bin: Uint8Array, layer: ReferenceLayer): number {
  if (map.length !== layer.total) return layer.total;
  let diff = 0;
  for (let i = 0; i < map.length; i++) if (map[i] !== ((bin[layer.offset + (i >> 3)] >> (i & 7)) & 1)) diff++;
  return diff;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
