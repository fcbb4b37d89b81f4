/**
 * GpuTaskDecoder (shaders/segmentation_mask.wgsl, shaders/detection_decode.wgsl) against the CPU
 * decoders of src/tasks on synthetic head maps: the same detections (class, cell, logit, box) in
 * the same order — including more peaks than the pre-NMS top-k, plateaus and exact ties, a map
 * that is one big plateau, and the threshold's float64/f32 edge — and the same mask.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_DETECTION_DECODE, type DetectionDecodeParams } from '../../src/model/config.ts';
import { seededNormal } from '../../src/runtime/cpu/randomWeights.ts';
import { PipelineCache, storageBuffer } from '../../src/runtime/webgpu/programs.ts';
import { GpuTaskDecoder } from '../../src/runtime/webgpu/taskDecoder.ts';
import type { TaskResults } from '../../src/runtime/types.ts';
import { decodeDetections, decodeSegmentation } from '../../src/tasks/index.ts';
import { testDevice } from './gpu.ts';

let device: GPUDevice;
let cache: PipelineCache;
beforeAll(async () => {
  device = await testDevice();
  cache = new PipelineCache(device);
});

interface Maps { height: number; width: number; classes: number; heat: Float32Array; reg: Float32Array; seg?: Float32Array; segClasses?: number }

async function decodeOnGpu(m: Maps, decode: DetectionDecodeParams): Promise<TaskResults> {
  const heat = storageBuffer(device, m.heat), reg = storageBuffer(device, m.reg);
  const seg = m.seg ? storageBuffer(device, m.seg) : undefined;
  const names = Array.from({ length: m.classes }, (_, i) => `c${i}`);
  const decoder = await GpuTaskDecoder.create(device, cache, {
    height: m.height, width: m.width,
    detect: { numClasses: m.classes, classNames: names, decode },
    segment: seg ? { numClasses: m.segClasses!, stride: 4 } : null,
  }, { det_heatmap: heat, det_boxreg: reg, seg_logits: seg });
  const enc = device.createCommandEncoder();
  decoder!.encode(enc);
  device.queue.submit([enc.finish()]);
  await decoder!.readback.mapAsync(GPUMapMode.READ);
  const r = decoder!.read();
  decoder!.readback.unmap();
  decoder!.destroy();
  for (const b of [heat, reg, seg]) b?.destroy();
  return r;
}

function expectSameDetections(m: Maps, decode: DetectionDecodeParams, got: TaskResults): number {
  const names = Array.from({ length: m.classes }, (_, i) => `c${i}`);
  const want = decodeDetections(m.heat, m.reg, m.height, m.width, { ...decode, classNames: names });
  const strip = (d: typeof want) => d.map(({ score: _s, ...rest }) => rest);
  expect(strip(got.detections!)).toEqual(strip(want));
  got.detections!.forEach((d, i) => expect(d.score).toBeCloseTo(want[i].score, 12));
  return want.length;
}

/** Random maps: heat quantized to steps of 0.25 (many exact ties and plateaus), distances 0..6 cells. */
function randomMaps(seed: number, classes: number, height: number, width: number, spread = 1.5): Maps {
  const normal = seededNormal(seed);
  const h = height / 4, w = width / 4;
  const heat = Float32Array.from({ length: classes * h * w }, () => Math.round(normal() * spread * 4) / 4 - 1);
  const reg = Float32Array.from({ length: 4 * h * w }, () => Math.abs(normal()) * 3 - 0.3);
  return { height, width, classes, heat, reg };
}

describe('GpuTaskDecoder detection vs decodeDetections', () => {
  test('random quantized maps: more peaks than top-k, ties, plateaus; several decode settings', async () => {
    const settings: DetectionDecodeParams[] = [
      DEFAULT_DETECTION_DECODE,
      { ...DEFAULT_DETECTION_DECODE, preNmsTopK: 7, maxDetections: 3 },
      { ...DEFAULT_DETECTION_DECODE, logitThreshold: 0.25, nmsIou: 0.3, maxDetections: 40, preNmsTopK: 200 },
    ];
    let total = 0;
    for (const [seed, K, H, W] of [[1, 3, 64, 80], [2, 10, 128, 128], [3, 1, 16, 16]] as const) {
      const m = randomMaps(seed, K, H, W);
      for (const s of settings) total += expectSameDetections(m, s, await decodeOnGpu(m, s));
    }
    expect(total).toBeGreaterThan(20); // the cases do produce boxes
  });

  test('a flat map (every cell a plateau peak, all logits equal): order by class, y, x', async () => {
    const m = randomMaps(4, 4, 64, 64);
    m.heat.fill(0.5);
    const n = expectSameDetections(m, DEFAULT_DETECTION_DECODE, await decodeOnGpu(m, DEFAULT_DETECTION_DECODE));
    expect(n).toBeGreaterThan(0);
  });

  test('the threshold: logits one f32 step either side of ln(0.3/0.7)', async () => {
    const thr = DEFAULT_DETECTION_DECODE.logitThreshold;
    const below = Math.fround(thr); // f32 nearest; below or above the float64 threshold
    const m = randomMaps(5, 2, 32, 32);
    m.heat.fill(-5);
    const step = (v: number, d: number) => { const b = new Float32Array([v]); const u = new Uint32Array(b.buffer); u[0] += d; return b[0]; };
    // Two isolated peaks: the f32 neighbours just around the threshold.
    m.heat[2 * 8 + 2] = below;
    m.heat[5 * 8 + 5] = step(below, below < 0 ? -1 : 1);
    m.heat[64 + 2 * 8 + 5] = step(below, below < 0 ? 1 : -1);
    const got = await decodeOnGpu(m, DEFAULT_DETECTION_DECODE);
    expectSameDetections(m, DEFAULT_DETECTION_DECODE, got);
    expect(got.detections!.length).toBeGreaterThanOrEqual(1);
    expect(got.detections!.length).toBeLessThanOrEqual(2);
  });

  test('no candidates: no boxes', async () => {
    const m = randomMaps(6, 3, 32, 32);
    m.heat.fill(-10);
    expect((await decodeOnGpu(m, DEFAULT_DETECTION_DECODE)).detections).toEqual([]);
  });
});

describe('GpuTaskDecoder segmentation vs decodeSegmentation', () => {
  test('random logits, 11 and 3 classes, non-square: ≥ 99.9 % of pixels equal', async () => {
    for (const [seed, K, H, W] of [[7, 11, 128, 128], [8, 3, 48, 80]] as const) {
      const normal = seededNormal(seed);
      const m = randomMaps(seed, 2, H, W);
      m.seg = Float32Array.from({ length: K * (H / 4) * (W / 4) }, () => normal() * 2);
      m.segClasses = K;
      const got = (await decodeOnGpu(m, DEFAULT_DETECTION_DECODE)).mask!;
      const want = decodeSegmentation(m.seg, H, W, 4);
      expect(got.length).toBe(want.length);
      let same = 0;
      want.forEach((v, i) => { if (got[i] === v) same++; });
      expect(same / want.length, `${K} classes ${H}x${W}`).toBeGreaterThanOrEqual(0.999);
      expect(new Set(got).size).toBe(K); // every class shows up: a real arg max, not a constant
    }
  });

  test('exact ties go to the lower class', async () => {
    const m = randomMaps(9, 1, 16, 16);
    m.seg = new Float32Array(3 * 4 * 4).fill(1);
    m.segClasses = 3;
    m.seg.fill(2, 16, 32); // class 1 everywhere above 0 and tied with class 2
    m.seg.fill(2, 32, 48);
    const got = (await decodeOnGpu(m, DEFAULT_DETECTION_DECODE)).mask!;
    expect([...new Set(got)]).toEqual([1]);
  });
});
