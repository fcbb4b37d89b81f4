/**
 * Access to `tests/fixtures/digits/` (written by training/export.py from the PyTorch reference)
 * and the built-in model `public/models/digits-tiny.safetensors`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PNG } from 'pngjs';
import { readNpy } from '../../src/io/npy.ts';
import type { ReferenceLayer } from './reference.ts';

export const DIGITS_FIXTURES = resolve(process.cwd(), 'tests/fixtures/digits');
export const DIGITS_MODEL = resolve(process.cwd(), 'public/models/digits-tiny.safetensors');

export function digitsFixturesPresent(): boolean {
  return existsSync(DIGITS_MODEL) && existsSync(DIGITS_FIXTURES);
}

/** Fixture folders by kind: `scene-*` (all heads, 128×128) and `digit-*` (classification, 64×64). */
export function digitsCases(kind: 'scene' | 'digit'): string[] {
  if (!existsSync(DIGITS_FIXTURES)) return [];
  return readdirSync(DIGITS_FIXTURES).filter((d) => d.startsWith(`${kind}-`)).sort();
}

export interface ReferenceBox {
  class: number; label: string; score: number; logit: number;
  x0: number; y0: number; x1: number; y1: number; cell: [number, number];
}

export interface DigitsCase {
  input: Float32Array;
  /** `[C, H, W]` of the input. */
  shape: [number, number, number];
  logits: Float32Array;
  spikes: { top1: number; layers: ReferenceLayer[] };
  spikesBin: Uint8Array | null;
  /** Scenes only. */
  segLogits?: Float32Array;
  detHeatmap?: Float32Array;
  detBoxreg?: Float32Array;
  boxes?: ReferenceBox[];
  mask?: Uint8Array;
}

export function readPngGrey(path: string): { data: Uint8Array; width: number; height: number } {
  const png = PNG.sync.read(readFileSync(path));
  const data = new Uint8Array(png.width * png.height);
  for (let i = 0; i < data.length; i++) data[i] = png.data[4 * i];
  return { data, width: png.width, height: png.height };
}

export function digitsCase(name: string): DigitsCase {
  const dir = resolve(DIGITS_FIXTURES, name);
  const npy = (file: string) => readNpy(readFileSync(resolve(dir, file)));
  const input = npy('input.npy');
  const c: DigitsCase = {
    input: input.data as Float32Array,
    shape: input.shape.slice(-3) as [number, number, number],
    logits: npy('logits.npy').data as Float32Array,
    spikes: JSON.parse(readFileSync(resolve(dir, 'spikes.json'), 'utf8')),
    spikesBin: existsSync(resolve(dir, 'spikes.bin')) ? new Uint8Array(readFileSync(resolve(dir, 'spikes.bin'))) : null,
  };
  if (existsSync(resolve(dir, 'seg_logits.npy'))) {
    c.segLogits = npy('seg_logits.npy').data as Float32Array;
    c.detHeatmap = npy('det_heatmap.npy').data as Float32Array;
    c.detBoxreg = npy('det_boxreg.npy').data as Float32Array;
    c.boxes = JSON.parse(readFileSync(resolve(dir, 'boxes.json'), 'utf8')).boxes;
    c.mask = readPngGrey(resolve(dir, 'mask.png')).data;
  }
  return c;
}
