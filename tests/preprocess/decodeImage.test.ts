import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage, readImageFile, sniffImageFormat } from '../../src/preprocess/decodeImageNode.ts';

const DIR = 'tests/fixtures/images';
const expected = JSON.parse(readFileSync(`${DIR}/decode_expected.json`, 'utf8')) as Record<string, string>;
const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const pngs = Object.keys(expected).filter((n) => n.endsWith('.png'));
const jpegs = Object.keys(expected).filter((n) => n.endsWith('.jpg'));

describe('decodeImage (PNG)', () => {
  it('covers the PNG pixel formats', () => {
    expect(pngs.sort()).toEqual(
      ['gray1', 'gray16', 'gray2', 'gray4', 'gray8', 'la16', 'la8', 'palette4', 'palette8', 'palette_trns', 'rgb16', 'rgb8', 'rgba16', 'rgba8'].map(
        (n) => `${n}.png`,
      ),
    );
  });

  it.each(pngs)('%s decodes to the same RGB bytes as PIL convert("RGB")', async (name) => {
    const img = await readImageFile(`${DIR}/${name}`);
    expect([img.width, img.height]).toEqual([13, 9]);
    expect(img.data).toBeInstanceOf(Uint8Array);
    expect(maxAbsDiff(img.data, fromHex(expected[name]))).toBe(0);
  });

  it('decodes the reference cat image (128×128 RGB)', async () => {
    const img = await readImageFile('tests/fixtures/official/metaspikformer-tiny-t1/cat/image.png');
    expect([img.width, img.height, img.data.length]).toEqual([128, 128, 128 * 128 * 3]);
  });
});

describe('decodeImage (JPEG)', () => {
  // jpeg-js is not bit-exact with libjpeg (PIL): its IDCT/colour conversion round differently
  // and it upsamples subsampled chroma by pixel replication where libjpeg uses "fancy"
  // (triangle) upsampling. Measured max |difference| on these fixtures: grayscale 1,
  // 4:4:4 colour 3, 4:2:0 colour 9 (mean 2.2 levels). Bounds pin those numbers.
  const bound: Record<string, number> = { 'gray.jpg': 1, 'rgb444.jpg': 3, 'rgb.jpg': 9 };

  it.each(jpegs)('%s decodes close to PIL', async (name) => {
    const img = await readImageFile(`${DIR}/${name}`);
    expect([img.width, img.height]).toEqual([32, 24]);
    expect(maxAbsDiff(img.data, fromHex(expected[name]))).toBeLessThanOrEqual(bound[name]);
  });
});

describe('decodeImage errors', () => {
  it('refuses other formats with a clear message', async () => {
    await expect(readImageFile(`${DIR}/not_supported.gif`)).rejects.toThrow(/unsupported image format: expected PNG or JPEG \(found GIF\)/);
    await expect(readImageFile(`${DIR}/not_supported.bmp`)).rejects.toThrow(/unsupported image format: expected PNG or JPEG \(found BMP\)/);
    expect(() => decodeImage(new Uint8Array(0))).toThrow(/unsupported image format: expected PNG or JPEG \(found an empty file\)/);
    expect(() => decodeImage(new TextEncoder().encode('hello'), 'x.txt')).toThrow(/^x\.txt: unsupported image format/);
  });

  it('reports a truncated PNG or JPEG', () => {
    const png = readFileSync(`${DIR}/rgb8.png`);
    expect(() => decodeImage(png.subarray(0, 40), 'cut.png')).toThrow(/cut\.png: invalid PNG/);
    const jpg = readFileSync(`${DIR}/rgb.jpg`);
    expect(() => decodeImage(jpg.subarray(0, 100), 'cut.jpg')).toThrow(/cut\.jpg: invalid JPEG/);
  });

  it('sniffs formats from magic bytes', () => {
    expect(sniffImageFormat(readFileSync(`${DIR}/rgb8.png`))).toBe('png');
    expect(sniffImageFormat(readFileSync(`${DIR}/gray.jpg`))).toBe('jpeg');
    expect(sniffImageFormat(readFileSync(`${DIR}/not_supported.gif`))).toBe(null);
  });
});
