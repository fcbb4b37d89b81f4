import { describe, expect, test } from 'vitest';
import { seededRandom } from '../../src/runtime/cpu/randomWeights.ts';
import { centerCrop, normalizeToChw, officialPreprocess, resizeBicubic, resizeShorterSide, resizePreprocess, type RgbImage } from '../../src/preprocess/image.ts';
import { readBuffer, storageBuffer } from '../../src/runtime/webgpu/programs.ts';
import { GpuPreprocessor, preprocessGeometry } from '../../src/runtime/webgpu/preprocess.ts';
import { testDevice } from './gpu.ts';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** A smooth RGB test image with some edges. */
function testImage(w: number, h: number, seed: number): RgbImage {
  const u = seededRandom(seed);
  const f = Array.from({ length: 9 }, () => u());
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const v = 128 + 90 * Math.sin(x * 0.05 * (1 + f[c]) + y * 0.03 * (1 + f[c + 3]) + f[c + 6] * 6) + ((x >> 4) + (y >> 4)) % 2 * 30 - 15;
        data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { width: w, height: h, data };
}

async function gpuPreprocess(img: RgbImage, height: number, width: number, cropPct?: number | 'stretch'): Promise<Float32Array> {
  const device = await testDevice();
  const rgba = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0; i < img.width * img.height; i++) {
    rgba.set(img.data.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  const bitmap = await createImageBitmap(new ImageData(rgba, img.width, img.height), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const out = storageBuffer(device, 3 * height * width * 4);
  const pre = new GpuPreprocessor(device);
  pre.run(bitmap, img.width, img.height, out, { height, width, mean: MEAN, std: STD, cropPct });
  const result = new Float32Array(await readBuffer(device, out, 3 * height * width * 4));
  pre.destroy();
  out.destroy();
  return result;
}

function compare(gpu: Float32Array, cpu: Float32Array): { max: number; mean: number } {
  let max = 0, sum = 0;
  for (let i = 0; i < cpu.length; i++) { const d = Math.abs(gpu[i] - cpu[i]); max = Math.max(max, d); sum += d; }
  return { max, mean: sum / cpu.length };
}

// One 8-bit step is 1/255/0.225 ≈ 0.0174 in normalized units.
const STEP = 1 / 255 / 0.224;

describe('GPU preprocessing (texture → normalized input) vs the CPU transform', () => {
  test('official transform (shorter side 256, center crop 224) of a 320×240 image, downscaling', async () => {
    const img = testImage(320, 240, 1);
    const cpu = officialPreprocess(img, MEAN, STD).data;
    const d = compare(await gpuPreprocess(img, 224, 224), cpu);
    console.log('official 320×240 → 224:', d);
    expect(d.max).toBeLessThan(2.5 * STEP);
    expect(d.mean).toBeLessThan(0.4 * STEP);
  });

  test('upscaling a 61×47 image, non-square 96×160 model input', async () => {
    const img = testImage(61, 47, 2);
    const g = preprocessGeometry(61, 47, { height: 96, width: 160, mean: MEAN, std: STD });
    expect(g.scaleX).toBeCloseTo(g.scaleY, 1);
    const size = Math.floor(160 / 0.875);
    const cpu = normalizeToChw(centerCrop(resizeShorterSide(img, size), 160, 96), MEAN, STD).data;
    const d = compare(await gpuPreprocess(img, 96, 160), cpu);
    console.log('61×47 → 96×160 crop:', d);
    expect(d.max).toBeLessThan(2.5 * STEP);
    expect(d.mean).toBeLessThan(0.4 * STEP);
  });

  test('stretch mode equals resizePreprocess', async () => {
    const img = testImage(200, 90, 3);
    const cpu = resizePreprocess(img, 64, 48, MEAN, STD).data;
    const d = compare(await gpuPreprocess(img, 64, 48, 'stretch'), cpu);
    console.log('stretch 200×90 → 48×64:', d);
    expect(d.max).toBeLessThan(2.5 * STEP);
    expect(resizeBicubic(img, 48, 64).width).toBe(48);
  });
});
