import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy.ts';
import {
  centerCrop,
  normalizeToChw,
  officialPreprocess,
  resizeBicubic,
  resizePreprocess,
  resizeShorterSide,
  type RgbImage,
} from '../../src/preprocess/image.ts';
import { readImageFile } from '../../src/preprocess/decodeImageNode.ts';

const REF = 'tests/fixtures/official/metaspikformer-tiny-t1/cat';
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

function image(width: number, height: number, f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = f(x, y, c);
  return { width, height, data };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('reference input: decode image.png, normalise, compare with input.npy', () => {
  it('(image/255 - mean)/std in CHW equals input.npy', async () => {
    const img = await readImageFile(`${REF}/image.png`);
    expect([img.width, img.height]).toEqual([128, 128]);
    const ref = readNpy(new Uint8Array(readFileSync(`${REF}/input.npy`)));
    expect(ref.shape).toEqual([1, 3, 128, 128]);
    const ours = normalizeToChw(img, MEAN, STD);
    expect([ours.height, ours.width]).toEqual([128, 128]);
    const d = maxAbsDiff(ours.data, ref.data as Float32Array);
    expect(d).toBeLessThanOrEqual(1e-6);
    // float32 arithmetic in torch's order reproduces the reference exactly
    expect(d).toBe(0);
  });

  it('resizePreprocess at the native size is plain normalisation', async () => {
    const img = await readImageFile(`${REF}/image.png`);
    const ref = readNpy(new Uint8Array(readFileSync(`${REF}/input.npy`)));
    const ours = resizePreprocess(img, 128, 128, MEAN, STD);
    expect(maxAbsDiff(ours.data, ref.data as Float32Array)).toBe(0);
  });
});

describe('resizeBicubic', () => {
  it('returns an equal copy when the size is unchanged', () => {
    const img = image(5, 4, (x, y, c) => (x * 50 + y * 20 + c * 7) % 256);
    const out = resizeBicubic(img, 5, 4);
    expect(out).toEqual(img);
    expect(out.data).not.toBe(img.data);
  });

  it('keeps a constant image constant, up and down', () => {
    const img = image(7, 5, (_x, _y, c) => [10, 128, 250][c]);
    for (const [w, h] of [[14, 10], [3, 2], [1, 1], [20, 3]]) {
      const out = resizeBicubic(img, w, h);
      expect(out.width).toBe(w);
      expect(out.height).toBe(h);
      for (let i = 0; i < w * h; i++) expect(Array.from(out.data.subarray(i * 3, i * 3 + 3))).toEqual([10, 128, 250]);
    }
  });

  // Keys cubic, a = -0.5: w(0.25) = 0.8671875, w(0.75) = 0.2265625, w(1.25) = -0.0703125.
  it('2×1 → 4×1 by hand', () => {
    // Upscale (scale 0.5, support 2). Output centres in input units: 0.25, 0.75, 1.25, 1.75.
    // Out 0: taps px0 (distance 0.25), px1 (1.25); px-1 lies outside and is dropped, the rest renormalised:
    //   (0.8671875·0 - 0.0703125·200) / 0.796875 = -17.6 → clamped to 0.
    // Out 1: taps px0 (0.25), px1 (0.75): (0.8671875·0 + 0.2265625·200) / 1.09375 = 41.43 → 41.
    // Outs 2 and 3 mirror them: 200 - 41.43 → 159, 200 + 17.6 → 218 (overshoot above the input max).
    const img = image(2, 1, (x) => (x === 0 ? 0 : 200));
    const out = resizeBicubic(img, 4, 1);
    const r = [0, 1, 2, 3].map((i) => out.data[i * 3]);
    expect(r).toEqual([0, 41, 159, 218]);
  });

  it('4×1 → 2×1 (antialiased downscale) by hand', () => {
    // Downscale by 2: support grows to 4 input pixels and the kernel is evaluated at distance/2.
    // Out 0 (centre 1.0): distances -0.5, 0.5, 1.5, 2.5 → /2 → weights 0.8671875, 0.8671875, 0.2265625,
    // -0.0703125 (sum 1.890625); values 0, 0, 100, 100 → (0.2265625 - 0.0703125)·100 / 1.890625 = 8.26 → 8.
    // Out 1 mirrors it: 100 - 8.26 → 92.
    const img = image(4, 1, (x) => (x < 2 ? 0 : 100));
    const out = resizeBicubic(img, 2, 1);
    expect([out.data[0], out.data[3]]).toEqual([8, 92]);
  });

  it('is separable: a horizontal ramp stays constant down columns', () => {
    const img = image(9, 6, (x) => x * 25);
    const out = resizeBicubic(img, 5, 13);
    for (let y = 1; y < 13; y++) for (let x = 0; x < 5; x++) expect(out.data[(y * 5 + x) * 3]).toBe(out.data[x * 3]);
  });

  it('rejects bad sizes and malformed images', () => {
    const img = image(2, 2, () => 0);
    expect(() => resizeBicubic(img, 0, 3)).toThrow(/positive integers/);
    expect(() => resizeBicubic(img, 2.5, 3)).toThrow(/positive integers/);
    expect(() => resizeBicubic({ width: 2, height: 2, data: new Uint8Array(11) }, 3, 3)).toThrow(/width\*height\*3 = 12/);
  });
});

interface PilFixture {
  pillow: string;
  input: { width: number; height: number; hex: string };
  cases: { width: number; height: number; hex: string }[];
  officialInput: { width: number; height: number; hex: string };
  cat: { path: string; cases: { width: number; height: number; sha256: string }[] };
  official: { resizeSize: number; cropSize: number; resizedWidth: number; resizedHeight: number; left: number; top: number; hex: string }[];
}

describe('PIL fidelity (tests/fixtures/pil_resize.json from gen_pil_resize.py)', () => {
  const fx = JSON.parse(readFileSync('tests/fixtures/pil_resize.json', 'utf8')) as PilFixture;
  const input: RgbImage = { width: fx.input.width, height: fx.input.height, data: fromHex(fx.input.hex) };

  it.each(fx.cases.map((c) => [`${fx.input.width}×${fx.input.height} → ${c.width}×${c.height}`, c] as const))(
    '%s equals Pillow BICUBIC exactly',
    (_label, c) => {
      const out = resizeBicubic(input, c.width, c.height);
      expect([out.width, out.height]).toEqual([c.width, c.height]);
      const want = fromHex(c.hex);
      expect(maxAbsDiff(out.data, want)).toBe(0);
    },
  );

  it.each(fx.cat.cases.map((c) => [`cat 128×128 → ${c.width}×${c.height}`, c] as const))(
    '%s equals Pillow BICUBIC exactly (SHA-256 of the pixels)',
    async (_label, c) => {
      const cat = await readImageFile(fx.cat.path);
      const out = resizeBicubic(cat, c.width, c.height);
      expect(createHash('sha256').update(out.data).digest('hex')).toBe(c.sha256);
    },
  );

  it.each(fx.official.map((o) => [`resize ${o.resizeSize} crop ${o.cropSize}`, o] as const))(
    'officialPreprocess %s matches PIL resize + torchvision crop',
    (_label, o) => {
      const img: RgbImage = { width: fx.officialInput.width, height: fx.officialInput.height, data: fromHex(fx.officialInput.hex) };
      const resized = resizeShorterSide(img, o.resizeSize);
      expect([resized.width, resized.height]).toEqual([o.resizedWidth, o.resizedHeight]);
      const crop = centerCrop(resized, o.cropSize, o.cropSize);
      expect(maxAbsDiff(crop.data, fromHex(o.hex))).toBe(0);
      const pre = officialPreprocess(img, MEAN, STD, { resizeSize: o.resizeSize, cropSize: o.cropSize });
      expect([pre.height, pre.width]).toEqual([o.cropSize, o.cropSize]);
      const want = normalizeToChw({ width: o.cropSize, height: o.cropSize, data: fromHex(o.hex) }, MEAN, STD);
      expect(maxAbsDiff(pre.data, want.data)).toBe(0);
    },
  );
});

describe('officialPreprocess / torchvision geometry', () => {
  it('defaults to Resize(256) + CenterCrop(224) → [3,224,224]', () => {
    const img = image(320, 240, (x, y, c) => (x + y * 2 + c * 40) % 256);
    const out = officialPreprocess(img, MEAN, STD);
    expect(out.height).toBe(224);
    expect(out.width).toBe(224);
    expect(out.data.length).toBe(3 * 224 * 224);
    // The same as doing the steps by hand.
    const manual = normalizeToChw(centerCrop(resizeBicubic(img, 341, 256), 224, 224), MEAN, STD);
    expect(maxAbsDiff(out.data, manual.data)).toBe(0);
  });

  it('Resize(int) keeps the aspect ratio with int() truncation, for portrait and landscape', () => {
    const land = resizeShorterSide(image(300, 200, () => 0), 256); // 256·300/200 = 384
    expect([land.width, land.height]).toEqual([384, 256]);
    const port = resizeShorterSide(image(45, 61, () => 0), 32); // int(32·61/45) = int(43.38) = 43
    expect([port.width, port.height]).toEqual([32, 43]);
  });

  it('center crop offsets use Python rounding (half to even)', () => {
    const img = image(7, 1, (x) => x * 10); // (7-2)/2 = 2.5 → 2
    expect(Array.from(centerCrop(img, 2, 1).data.filter((_, i) => i % 3 === 0))).toEqual([20, 30]);
    const img2 = image(9, 1, (x) => x * 10); // (9-2)/2 = 3.5 → 4
    expect(Array.from(centerCrop(img2, 2, 1).data.filter((_, i) => i % 3 === 0))).toEqual([40, 50]);
  });

  it('center crop larger than the image pads with zeros like torchvision', () => {
    const img = image(2, 1, () => 9);
    const out = centerCrop(img, 5, 2); // pad left (5-2)//2 = 1, top (2-1)//2 = 0
    const r = Array.from(out.data.filter((_, i) => i % 3 === 0));
    expect(r).toEqual([0, 9, 9, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('normalisation validates its arguments', () => {
    const img = image(1, 1, () => 0);
    expect(() => normalizeToChw(img, [0.5, 0.5], STD)).toThrow(/3 values/);
    expect(() => normalizeToChw(img, MEAN, [1, 0, 1])).toThrow(/non-zero/);
  });
});
