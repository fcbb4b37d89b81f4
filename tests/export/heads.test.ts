/**
 * ONNX export of a model with task heads (FPN, segmentation, detection; HEADS.md) under
 * onnxruntime-node and onnxruntime-web wasm: head outputs to 1e-4 of the CPU reference and spike
 * counts per layer, on random calibrated weights in the digits head layout; and on the digits
 * model's fixtures when present (vs PyTorch).
 */
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../../src/export/onnx.ts';
import { openFileSource } from '../../src/io/nodeFileSource.ts';
import { buildModelGraph, lifOps } from '../../src/model/graph.ts';
import { loadModel } from '../../src/model/loadModel.ts';
import { randomModelWeights, randomSmoothImage } from '../../src/runtime/cpu/randomWeights.ts';
import { CpuReferenceRuntime } from '../../src/runtime/cpu/cpuReferenceRuntime.ts';
import { OnnxRuntimeBackend, type OnnxExecutionProvider, type OrtModule } from '../../src/runtime/onnx/onnxRuntimeBackend.ts';
import { modelWeightsFromTensors } from '../../src/model/weights.ts';
import { digitsCase, digitsCases, DIGITS_MODEL } from '../helpers/digitsFixtures.ts';
import { digitsConfig } from '../helpers/headsModel.ts';
import { maxAbsDiff } from '../helpers/reference.ts';

const RUNTIMES: { label: string; ort: OrtModule; provider: OnnxExecutionProvider }[] = [
  { label: 'onnxruntime-node', ort: ortNode as unknown as OrtModule, provider: 'cpu' },
  { label: 'onnxruntime-web wasm', ort: ortWeb, provider: 'wasm' },
];

const HEAD_OUTPUTS = ['seg_logits', 'det_heatmap', 'det_boxreg'];

describe('ONNX export with task heads', () => {
  const config = digitsConfig({ depths: [1, 1], fpn: 24, segClasses: 5, detClasses: 3 });
  const weights = randomModelWeights(config, { seed: 9, kvRate: 0.35 });
  const graph = buildModelGraph(config, 32, 48);
  const input = randomSmoothImage(3, 32, 48, 2);
  const cpu = new CpuReferenceRuntime(graph, weights).run(input, { spikeMaps: 'all' });
  const onnx = exportOnnx(graph, weights, { spikeMaps: true });

  for (const { label, ort, provider } of RUNTIMES) {
    it(`${label}: head outputs to 1e-4, every spike map equal (random weights)`, async () => {
      const backend = await OnnxRuntimeBackend.create(ort, onnx, graph, { executionProvider: provider });
      try {
        const r = await backend.run(input, { spikeMaps: 'all' });
        expect(r.layers.map((l) => l.name)).toEqual(lifOps(graph).map((op) => op.name));
        const bad = cpu.layers.filter((l) => {
          const a = cpu.spikeMaps.get(l.name)!, b = r.spikeMaps.get(l.name)!;
          return a.some((v, i) => v !== b[i]);
        }).map((l) => l.name);
        expect(bad).toEqual([]);
        for (const name of HEAD_OUTPUTS) expect(maxAbsDiff(r.outputs!.get(name)!, cpu.outputs.get(name)!), name).toBeLessThan(1e-4);
        expect(maxAbsDiff(r.logits, cpu.logits)).toBeLessThan(1e-4);
      } finally {
        await backend.release();
      }
    });
  }

  it('digits model, one scene, onnxruntime-node: head outputs vs PyTorch to 1e-4, spike counts equal', async () => {
    const src = await openFileSource(DIGITS_MODEL);
    const model = await loadModel(src);
    await src.close();
    const ref = digitsCase(digitsCases('scene')[0]);
    const g = buildModelGraph(model.config, ref.shape[1], ref.shape[2]);
    const backend = await OnnxRuntimeBackend.create(ortNode as unknown as OrtModule, exportOnnx(g, modelWeightsFromTensors(model.tensors)), g, { executionProvider: 'cpu' });
    try {
      const r = await backend.run(ref.input);
      expect(r.layers.map((l) => l.onesPerStep.reduce((a, b) => a + b, 0))).toEqual(ref.spikes.layers.map((l) => l.ones));
      expect(maxAbsDiff(r.outputs!.get('seg_logits')!, ref.segLogits!)).toBeLessThan(1e-4);
      expect(maxAbsDiff(r.outputs!.get('det_heatmap')!, ref.detHeatmap!)).toBeLessThan(1e-4);
      expect(maxAbsDiff(r.outputs!.get('det_boxreg')!, ref.detBoxreg!)).toBeLessThan(1e-4);
    } finally {
      await backend.release();
    }
  });
});
