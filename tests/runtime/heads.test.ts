/**
 * The task heads of the built-in digits model on the CPU reference against the PyTorch reference
 * fixtures (tests/fixtures/digits, training/export.py): head outputs to 1e-4, every spike map of
 * the backbone and the head neurons bit for bit, decoded boxes (same classes, IoU ≥ 0.99) and
 * masks (≥ 99.5 % of pixels; 100 % expected).
 */
import { describe, expect, it } from 'vitest';
import { openFileSource } from '../../src/io/nodeFileSource.ts';
import { buildModelGraph } from '../../src/model/graph.ts';
import { loadModel, type LoadedModel } from '../../src/model/loadModel.ts';
import { CpuReferenceRuntime } from '../../src/runtime/cpu/cpuReferenceRuntime.ts';
import { modelWeightsFromTensors } from '../../src/model/weights.ts';
import { decodeDetections, decodeSegmentation, iou } from '../../src/tasks/index.ts';
import { digitsCase, digitsCases, digitsFixturesPresent, DIGITS_MODEL } from '../helpers/digitsFixtures.ts';
import { countBitDifferences, maxAbsDiff } from '../helpers/reference.ts';

describe('digits model task heads vs the PyTorch reference', async () => {
  const src = await openFileSource(DIGITS_MODEL);
  const model: LoadedModel = await loadModel(src);
  await src.close();

  it('has the committed fixtures: three scenes and two digits', () => {
    expect(digitsFixturesPresent()).toBe(true);
    expect(digitsCases('scene')).toHaveLength(3);
    expect(digitsCases('digit')).toHaveLength(2);
  });

  it('describes the heads from the file (shapes and spikeformer.tasks metadata)', () => {
    const h = model.config.heads!;
    expect(model.config.timeSteps).toBe(2);
    expect(h.fpn.channels).toBe(32);
    expect(h.fpn.levels.map((l) => [l.stage, l.stride])).toEqual([[1, 4], [2, 8], [4, 16]]);
    expect(h.segment).toMatchObject({ numClasses: 11, classNames: ['background', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
    expect(h.detect).toMatchObject({ numClasses: 10, classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
    expect(h.detect!.decode.logitThreshold).toBe(-0.8472978603872037);
  });

  for (const name of digitsCases('scene')) {
    it(`${name}: head outputs, spikes, boxes and mask`, () => {
      const ref = digitsCase(name);
      const [, H, W] = ref.shape;
      const graph = buildModelGraph(model.config, H, W);
      const result = new CpuReferenceRuntime(graph, modelWeightsFromTensors(model.tensors)).run(ref.input, { spikeMaps: 'all' });
      // Every neuron (backbone, lif, fpn, seg_head, det_head) in the reference's order, bit for bit.
      expect(result.layers.map((l) => l.name)).toEqual(ref.spikes.layers.map((l) => l.name));
      result.layers.forEach((l, i) => expect(l.onesPerStep.reduce((a, b) => a + b, 0), l.name).toBe(ref.spikes.layers[i].ones));
      if (ref.spikesBin) {
        const differing = ref.spikes.layers.map((l) => [l.name, countBitDifferences(result.spikeMaps.get(l.name)!, ref.spikesBin!, l)] as const).filter(([, d]) => d > 0);
        expect(differing).toEqual([]);
      }
      const seg = result.outputs.get('seg_logits')!;
      const heat = result.outputs.get('det_heatmap')!;
      const reg = result.outputs.get('det_boxreg')!;
      const diffs = { logits: maxAbsDiff(result.logits, ref.logits), seg: maxAbsDiff(seg, ref.segLogits!), heat: maxAbsDiff(heat, ref.detHeatmap!), reg: maxAbsDiff(reg, ref.detBoxreg!) };
      for (const d of Object.values(diffs)) expect(d).toBeLessThan(1e-4);

      const boxes = decodeDetections(heat, reg, H, W, { ...model.config.heads!.detect!.decode, classNames: model.config.heads!.detect!.classNames });
      expect(boxes.map((b) => b.class)).toEqual(ref.boxes!.map((b) => b.class));
      const minIou = Math.min(1, ...boxes.map((b, i) => iou(b, ref.boxes![i])));
      expect(minIou).toBeGreaterThanOrEqual(0.99);
      boxes.forEach((b, i) => {
        expect(b.label).toBe(ref.boxes![i].label);
        expect(b.cell).toEqual(ref.boxes![i].cell);
        expect(Math.abs(b.score - ref.boxes![i].score)).toBeLessThan(1e-4);
      });

      const mask = decodeSegmentation(seg, H, W, model.config.heads!.segment!.stride);
      let agree = 0;
      mask.forEach((v, i) => { if (v === ref.mask![i]) agree++; });
      const agreement = agree / mask.length;
      console.log(`${name}: max diff ${Object.entries(diffs).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}; ${boxes.length} boxes (min IoU ${minIou}), mask agreement ${(100 * agreement).toFixed(3)} %`);
      expect(agreement).toBeGreaterThanOrEqual(0.995);
    });
  }

  for (const name of digitsCases('digit')) {
    it(`${name}: classification only (64x64): spikes and logits`, () => {
      const ref = digitsCase(name);
      const [, H, W] = ref.shape;
      const graph = buildModelGraph(model.config, H, W, { tasks: ['classify'] });
      const result = new CpuReferenceRuntime(graph, modelWeightsFromTensors(model.tensors)).run(ref.input);
      expect(result.layers.map((l) => l.name)).toEqual(ref.spikes.layers.map((l) => l.name));
      result.layers.forEach((l, i) => expect(l.onesPerStep.reduce((a, b) => a + b, 0), l.name).toBe(ref.spikes.layers[i].ones));
      expect(maxAbsDiff(result.logits, ref.logits)).toBeLessThan(1e-4);
      expect(result.outputs.size).toBe(0);
    });
  }
});
