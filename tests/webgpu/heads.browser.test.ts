/**
 * The task heads on the WebGPU runtime against the CPU reference: the upsampling kernels bit for
 * bit, then the whole network with FPN, segmentation and detection heads (one backbone pass):
 * every spike map equal (backbone and head neurons), the head outputs to 1e-4, and the boxes and
 * mask decoded on the GPU equal to the CPU decoding of the reference's maps. On the digits
 * model and a fixture scene when `public/models/digits-tiny.safetensors` is there, else on random
 * calibrated weights with the same head layout.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { bytesSource } from '../../src/io/byteSource.ts';
import { readNpy } from '../../src/io/npy.ts';
import { DEFAULT_DETECTION_DECODE, defaultConfig, type ModelConfig } from '../../src/model/config.ts';
import { buildModelGraph } from '../../src/model/graph.ts';
import { loadModel } from '../../src/model/loadModel.ts';
import { randomModelWeights, randomSmoothImage, seededNormal } from '../../src/runtime/cpu/randomWeights.ts';
import { CpuReferenceRuntime } from '../../src/runtime/cpu/cpuReferenceRuntime.ts';
import { upsample } from '../../src/runtime/cpu/ops.ts';
import { upsampleKernel } from '../../src/runtime/webgpu/kernels.ts';
import { PipelineCache, readBuffer, runKernel, storageBuffer } from '../../src/runtime/webgpu/programs.ts';
import { WebGpuRuntime } from '../../src/runtime/webgpu/webGpuRuntime.ts';
import { modelWeightsFromTensors, type ModelWeights } from '../../src/model/weights.ts';
import { decodeDetections, decodeSegmentation, iou } from '../../src/tasks/index.ts';
import { expectSameFrame, testDevice } from './gpu.ts';

let device: GPUDevice;
beforeAll(async () => { device = await testDevice(); });

describe('upsample.wgsl vs the CPU reference', () => {
  test('nearest and bilinear x2, bit for bit (odd sizes, 2 steps, broadcast step)', async () => {
    const cache = new PipelineCache(device);
    const normal = seededNormal(77);
    for (const [C, H, W] of [[3, 5, 7], [2, 1, 1], [5, 4, 9]]) {
      const x = Float32Array.from({ length: 2 * C * H * W }, () => normal() * 3);
      for (let i = 0; i < x.length; i += 11) x[i] = Math.fround(1 / 3) * (i + 1); // values whose 0.75× products round
      const xBuf = storageBuffer(device, x);
      for (const mode of ['nearest', 'bilinear'] as const) {
        for (const steps of [2, 1]) {
          const out = storageBuffer(device, steps * C * 4 * H * W * 4);
          await runKernel(device, cache, upsampleKernel({ channels: C, height: H, width: W, steps, xStepStride: C * H * W, mode }), { X: xBuf, O: out });
          const got = new Float32Array(await readBuffer(device, out, steps * C * 4 * H * W * 4));
          const want = new Float32Array(steps * C * 4 * H * W);
          for (let t = 0; t < steps; t++) want.set(upsample(x.subarray(t * C * H * W, (t + 1) * C * H * W), C, H, W, mode), t * C * 4 * H * W);
          let diff = 0;
          for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i]) && got[i] !== want[i]) diff++;
          expect(diff, `${mode} ${C}x${H}x${W} steps ${steps}`).toBe(0);
          out.destroy();
        }
      }
      xBuf.destroy();
    }
  });
});

async function fetchBytes(path: string): Promise<Uint8Array | null> {
  const res = await fetch(path);
  if (!res.ok) return null;
  const bytes = new Uint8Array(await res.arrayBuffer());
  // The dev server answers unknown paths with index.html.
  return bytes[0] === 0x3c ? null : bytes;
}

interface Case { name: string; config: ModelConfig; weights: ModelWeights; input: Float32Array; height: number; width: number; ref: Record<string, Float32Array> | null }

/** The digits model on fixture scene-a (when present), and random weights with other widths and class counts. */
async function headsCases(): Promise<Case[]> {
  const cases: Case[] = [];
  const model = await fetchBytes('/models/digits-tiny.safetensors');
  const inputBytes = model && await fetchBytes('/tests/fixtures/digits/scene-a/input.npy');
  if (model && inputBytes) {
    const { config, tensors } = await loadModel(bytesSource(model, 'digits-tiny.safetensors'));
    const ref: Record<string, Float32Array> = {};
    for (const k of ['seg_logits', 'det_heatmap', 'det_boxreg']) ref[k] = readNpy((await fetchBytes(`/tests/fixtures/digits/scene-a/${k}.npy`))!).data as Float32Array;
    cases.push({ name: 'digits model, scene-a 128x128', config, weights: modelWeightsFromTensors(tensors), input: readNpy(inputBytes).data as Float32Array, height: 128, width: 128, ref });
  }
  const dims: ModelConfig['embedDims'] = [16, 32, 64, 96];
  const cls = (n: number) => Array.from({ length: n }, (_, i) => String(i));
  const config = defaultConfig({
    embedDims: dims, numClasses: 10, timeSteps: 2, depths: [2, 1],
    heads: {
      fpn: { channels: 24, levels: [{ stage: 1, inChannels: 16, stride: 4 }, { stage: 2, inChannels: 32, stride: 8 }, { stage: 4, inChannels: 96, stride: 16 }] },
      segment: { channels: 20, numClasses: 6, classNames: cls(6), stride: 4 },
      detect: { channels: 28, numClasses: 5, classNames: cls(5), decode: { ...DEFAULT_DETECTION_DECODE } },
    },
  });
  cases.push({ name: 'random weights (FPN 24, seg 20/6 classes, det 28/5 classes), 64x80', config, weights: randomModelWeights(config, { seed: 3, kvRate: 0.35 }), input: randomSmoothImage(3, 64, 80, 5), height: 64, width: 80, ref: null });
  return cases;
}

describe('task heads on the WebGPU runtime vs CpuReferenceRuntime', () => {
  test('one backbone pass, FPN + segmentation + detection: spikes bit for bit, outputs to 1e-4 (spike and dense modes)', async () => {
    for (const c of await headsCases()) await checkCase(c);
  });
});

describe('the digits model on WebGPU vs the PyTorch reference of the three fixture scenes', () => {
  test('GPU-decoded boxes (same classes and cells, IoU ≥ 0.99), mask (≥ 99.5 % of pixels) and every layer\'s spike count', async () => {
    const model = await fetchBytes('/models/digits-tiny.safetensors');
    expect(model, 'public/models/digits-tiny.safetensors is committed').not.toBeNull();
    const { config, tensors } = await loadModel(bytesSource(model!, 'digits-tiny.safetensors'));
    const rt = await WebGpuRuntime.create(device, buildModelGraph(config, 128, 128), modelWeightsFromTensors(tensors));
    let scenes = 0;
    for (const scene of ['scene-a', 'scene-b', 'scene-c']) {
      const dir = `/tests/fixtures/digits/${scene}`;
      const input = readNpy((await fetchBytes(`${dir}/input.npy`))!).data as Float32Array;
      const ref = JSON.parse(new TextDecoder().decode((await fetchBytes(`${dir}/boxes.json`))!)) as { boxes: { class: number; x0: number; y0: number; x1: number; y1: number; cell: number[] }[] };
      const refSpikes = JSON.parse(new TextDecoder().decode((await fetchBytes(`${dir}/spikes.json`))!)) as { layers: { name: string; ones: number }[] };
      const refMask = await greyPng(`${dir}/mask.png`);
      const r = await rt.run(input);
      expect(r.layers.map((l) => [l.name, l.onesPerStep.reduce((a, b) => a + b, 0)])).toEqual(refSpikes.layers.map((l) => [l.name, l.ones]));
      const boxes = r.tasks!.detections!;
      expect(boxes.map((b) => [b.class, ...b.cell])).toEqual(ref.boxes.map((b) => [b.class, ...b.cell]));
      boxes.forEach((b, i) => expect(iou(b, ref.boxes[i])).toBeGreaterThanOrEqual(0.99));
      const mask = r.tasks!.mask!;
      let same = 0;
      mask.forEach((v, i) => { if (v === refMask[i]) same++; });
      expect(same / mask.length, scene).toBeGreaterThanOrEqual(0.995);
      console.log(`${scene}: ${boxes.length} boxes as the reference, mask agreement ${(100 * same / mask.length).toFixed(2)} %`);
      scenes++;
    }
    rt.destroy();
    expect(scenes).toBe(3);
  });
});

/** The grey values of an 8-bit greyscale PNG (class indices), decoded by the browser. */
async function greyPng(path: string): Promise<Uint8Array> {
  const bitmap = await createImageBitmap(new Blob([(await fetchBytes(path))! as BlobPart], { type: 'image/png' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return Uint8Array.from({ length: bitmap.width * bitmap.height }, (_, i) => rgba[4 * i]);
}

async function checkCase(c: Case): Promise<void> {
  {
    const graph = buildModelGraph(c.config, c.height, c.width);
    const cpu = new CpuReferenceRuntime(graph, c.weights).run(c.input, { spikeMaps: 'all' });
    const headSpikes = cpu.layers.filter((l) => /^(fpn|seg_head|det_head)\./.test(l.name)).map((l) => l.onesPerStep.reduce((a, b) => a + b, 0));
    expect(headSpikes.length).toBe(13);
    for (const mode of ['spike', 'dense'] as const) {
      const rt = await WebGpuRuntime.create(device, graph, c.weights, { mode });
      const t0 = performance.now();
      const r = await rt.run(c.input, { spikeMaps: 'all', headMaps: true });
      const ms = performance.now() - t0;
      const { spikes } = expectSameFrame(r, cpu);
      const diffs: string[] = [];
      for (const name of ['seg_logits', 'det_heatmap', 'det_boxreg']) {
        const g = r.outputs!.get(name)!, want = cpu.outputs.get(name)!;
        expect(g.length).toBe(want.length);
        let m = 0;
        for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i] - want[i]));
        if (c.ref) for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i] - c.ref[name][i]));
        expect(m, name).toBeLessThanOrEqual(1e-4);
        diffs.push(`${name} ${m.toExponential(1)}`);
      }
      // The GPU's decoding (mask and boxes, read back without the maps) against the CPU
      // decoding of the CPU reference's maps: same boxes (classes, cells, IoU ≥ 0.99), ≥ 99.5 %
      // of mask pixels.
      const det = c.config.heads!.detect!;
      const cpuBoxes = decodeDetections(cpu.outputs.get('det_heatmap')!, cpu.outputs.get('det_boxreg')!, c.height, c.width, det.decode);
      const cpuMask = decodeSegmentation(cpu.outputs.get('seg_logits')!, c.height, c.width);
      const decodedOnly = await rt.run(c.input);
      expect(decodedOnly.outputs!.size).toBe(0); // the raw maps stay on the GPU unless asked for
      for (const tasks of [r.tasks!, decodedOnly.tasks!]) {
        const boxes = tasks.detections!;
        expect(boxes.map((b) => [b.class, ...b.cell])).toEqual(cpuBoxes.map((b) => [b.class, ...b.cell]));
        // IoU ≥ 0.99, or (degenerate boxes of a random model have no area) the same corners to 1e-3 px.
        boxes.forEach((b, i) => {
          const d = cpuBoxes[i];
          const corners = Math.max(Math.abs(b.x0 - d.x0), Math.abs(b.y0 - d.y0), Math.abs(b.x1 - d.x1), Math.abs(b.y1 - d.y1));
          expect(iou(b, d) >= 0.99 || corners <= 1e-3, `box ${i}: IoU ${iou(b, d)}, corners ${corners}`).toBe(true);
        });
      }
      const mask = decodedOnly.tasks!.mask!;
      expect(mask).toEqual(r.tasks!.mask);
      let same = 0;
      mask.forEach((v, i) => { if (v === cpuMask[i]) same++; });
      expect(same / mask.length).toBeGreaterThanOrEqual(0.995);
      const boxes = decodedOnly.tasks!.detections!;
      console.log(`${c.name}, ${mode}: ${spikes} spikes equal (${headSpikes.reduce((a, b) => a + b, 0)} in the heads), max diff ${diffs.join(', ')}, ` +
        `${boxes.length} boxes, mask agreement ${(100 * same / mask.length).toFixed(2)} %, ${ms.toFixed(0)} ms`);
      rt.destroy();
    }
  }
}
