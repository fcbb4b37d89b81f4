/**
 * The WebGPU runtime against the official code's outputs in tests/fixtures/official: every spike map
 * bit for bit and the logits to 1e-4, both reference models, every case, both modes, with the
 * plan for a software adapter and the one for a hardware adapter (RepConv's depthwise 3×3 inside
 * its 1×1: dense_conv DW = 1), both run here on SwiftShader.
 */
import { describe, expect, test } from 'vitest';
import { readCheckpoint } from '../../src/checkpoint/index.ts';
import { bytesSource } from '../../src/io/byteSource.ts';
import { readNpy } from '../../src/io/npy.ts';
import { describeModel } from '../../src/model/describe.ts';
import { buildModelGraph } from '../../src/model/graph.ts';
import { modelWeightsFromTensors } from '../../src/model/weights.ts';
import { WebGpuRuntime } from '../../src/runtime/webgpu/webGpuRuntime.ts';
import { testDevice } from './gpu.ts';
import { fetchReferenceBytes as fetchBytes } from '../helpers/referenceInBrowser.ts';


interface RefLayer { name: string; shape: number[]; ones: number; total: number; offset: number }

const MODELS = ['metaspikformer-tiny-t1', 'metaspikformer-tiny-t4-kd'];

describe('WebGPU runtime vs the official code (tests/fixtures/official)', () => {
  for (const model of MODELS) {
    test(`${model}: every case, spike and dense modes, software and hardware plans`, async () => {
      const device = await testDevice();
      const cfg = JSON.parse(new TextDecoder().decode(await fetchBytes(`${model}/config.json`)));
      const ckpt = await readCheckpoint(bytesSource(await fetchBytes(`${model}/checkpoint.pth`), 'checkpoint.pth'));
      const shapes = new Map([...ckpt.tensors].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }]));
      const config = describeModel(shapes, { timeSteps: cfg.time_steps });
      expect(config.kd).toBe(cfg.kd);
      const graph = buildModelGraph(config, cfg.input_height, cfg.input_width);
      const weights = modelWeightsFromTensors(ckpt.tensors);
      for (const [mode, software] of [['spike', true], ['spike', false], ['dense', true], ['dense', false]] as const) {
        const rt = await WebGpuRuntime.create(device, graph, weights, { mode, software });
        expect(rt.plan.steps.some((s) => s.program.defines.DW === 1)).toBe(!software);
        for (const name of cfg.cases as string[]) {
          const input = readNpy(await fetchBytes(`${model}/${name}/input.npy`)).data as Float32Array;
          const logits = readNpy(await fetchBytes(`${model}/${name}/logits.npy`)).data as Float32Array;
          const ref = JSON.parse(new TextDecoder().decode(await fetchBytes(`${model}/${name}/spikes.json`))) as { top1: number; layers: RefLayer[] };
          const bin = await fetchBytes(`${model}/${name}/spikes.bin`);
          const r = await rt.run(input, { spikeMaps: 'all' });
          expect(r.layers.map((l) => l.name)).toEqual(ref.layers.map((l) => l.name));
          let differing = 0;
          const bad: string[] = [];
          ref.layers.forEach((l) => {
            const map = r.spikeMaps.get(l.name)!;
            expect(map.length).toBe(l.total);
            let diff = 0;
            for (let i = 0; i < map.length; i++) if (map[i] !== ((bin[l.offset + (i >> 3)] >> (i & 7)) & 1)) diff++;
            differing += diff;
            if (diff) bad.push(`${l.name}: ${diff}`);
          });
          ref.layers.forEach((l, i) => expect(r.layers[i].onesPerStep.reduce((a, b) => a + b, 0), l.name).toBe(l.ones));
          let maxDiff = 0;
          logits.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - r.logits[i])); });
          const top1 = r.logits.indexOf(Math.max(...r.logits));
          console.log(`${model} ${name} ${mode} (${software ? 'software' : 'hardware'} plan, ${rt.plan.steps.length} dispatches): ${differing} spike differences, max logit diff ${maxDiff.toExponential(2)}, top1 ${top1}/${ref.top1}`);
          expect(bad).toEqual([]);
          expect(maxDiff).toBeLessThanOrEqual(1e-4);
          expect(top1).toBe(ref.top1);
        }
        rt.destroy();
      }
    });
  }
});
