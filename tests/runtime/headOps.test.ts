/** The CPU reference's upsampling ops (HEADS.md) on small hand-computed cases. */
import { describe, expect, it } from 'vitest';
import { bilinearTap, timeMean, upsample } from '../../src/runtime/cpu/ops.ts';

const rows = (a: Float32Array, w: number) => Array.from({ length: a.length / w }, (_, y) => [...a.subarray(y * w, (y + 1) * w)]);

describe('upsample x2', () => {
  const z = new Float32Array([1, 2, 3, 4, /* channel 1 */ 10, 20, 30, 40]);

  it('nearest: out[y, x] = in[y >> 1, x >> 1], per channel', () => {
    const out = upsample(z, 2, 2, 2, 'nearest');
    expect(rows(out.subarray(0, 16), 4)).toEqual([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]);
    expect(rows(out.subarray(16), 4)).toEqual([[10, 10, 20, 20], [10, 10, 20, 20], [30, 30, 40, 40], [30, 30, 40, 40]]);
  });

  it('bilinear (align_corners=false): weights 1 | 0.75/0.25 | 0.25/0.75 | clamped at the end', () => {
    const out = upsample(z, 2, 2, 2, 'bilinear');
    expect(rows(out.subarray(0, 16), 4)).toEqual([
      [1, 1.25, 1.75, 2],
      [1.5, 1.75, 2.25, 2.5],
      [2.5, 2.75, 3.25, 3.5],
      [3, 3.25, 3.75, 4],
    ]);
    expect(rows(out.subarray(16), 4)[1]).toEqual([15, 17.5, 22.5, 25]);
  });

  it('bilinear taps as PyTorch computes them', () => {
    expect([0, 1, 2, 3, 4, 5].map((o) => bilinearTap(o, 3, 2))).toEqual([
      { i0: 0, i1: 1, w0: 1, w1: 0 },
      { i0: 0, i1: 1, w0: 0.75, w1: 0.25 },
      { i0: 0, i1: 1, w0: 0.25, w1: 0.75 },
      { i0: 1, i1: 2, w0: 0.75, w1: 0.25 },
      { i0: 1, i1: 2, w0: 0.25, w1: 0.75 },
      { i0: 2, i1: 2, w0: 0.75, w1: 0.25 },
    ]);
    expect(bilinearTap(2, 8, 4)).toEqual({ i0: 0, i1: 1, w0: 0.875, w1: 0.125 });
  });

  it('bilinear rounds to float32 after every multiply and add, in the HEADS.md order', () => {
    const f = Math.fround;
    const v = new Float32Array([0.1, 0.7, 0.3, 1 / 3]);
    const out = upsample(v, 1, 2, 2, 'bilinear');
    // out[1][1]: rows and columns both 0.75/0.25.
    const top = f(f(0.75 * v[0]) + f(0.25 * v[1]));
    const bot = f(f(0.75 * v[2]) + f(0.25 * v[3]));
    expect(out[5]).toBe(f(f(0.75 * top) + f(0.25 * bot)));
    // out[2][1]: rows 0.25/0.75.
    expect(out[9]).toBe(f(f(0.25 * top) + f(0.75 * bot)));
    // A bigger random map stays within float32 rounding of the exact value.
    const n = 5;
    const r = new Float32Array(n * n).map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const u = upsample(r, 1, n, n, 'bilinear');
    for (let y = 0; y < 2 * n; y++) {
      for (let x = 0; x < 2 * n; x++) {
        const a = bilinearTap(y, n, 2), b = bilinearTap(x, n, 2);
        const exact = a.w0 * (b.w0 * r[a.i0 * n + b.i0] + b.w1 * r[a.i0 * n + b.i1]) + a.w1 * (b.w0 * r[a.i1 * n + b.i0] + b.w1 * r[a.i1 * n + b.i1]);
        expect(Math.abs(u[y * 2 * n + x] - exact)).toBeLessThan(1e-6);
      }
    }
  });
});

describe('timeMean', () => {
  it('averages over T in float32 ((a + b) / 2 rounded once), then over inputs', () => {
    const a = new Float32Array([1, Math.fround(0.1)]), b = new Float32Array([2, Math.fround(0.2)]);
    expect([...timeMean([[a, b]])]).toEqual([1.5, Math.fround((Math.fround(0.1) + Math.fround(0.2)) / 2)]);
    expect([...timeMean([[a, b], [b, b]])]).toEqual([1.75, Math.fround((Math.fround((Math.fround(0.1) + Math.fround(0.2)) / 2) + Math.fround(0.2)) / 2)]);
  });
});
