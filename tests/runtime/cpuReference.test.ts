/**
 * Parity of the CPU reference with the official code: every spike map bit for bit, logits and the
 * last block's features to 1e-4, on both reference models and every case.
 */
import { describe, expect, it } from 'vitest';
import { openFileSource } from '../../src/io/nodeFileSource.ts';
import { buildModelGraph } from '../../src/model/graph.ts';
import { loadModel } from '../../src/model/loadModel.ts';
import { CpuReferenceRuntime } from '../../src/runtime/cpu/cpuReferenceRuntime.ts';
import { modelWeightsFromTensors } from '../../src/model/weights.ts';
import {
  countBitDifferences, maxAbsDiff, REFERENCE_MODELS, referenceCase, referenceConfig, referencePath,
} from '../helpers/reference.ts';

for (const modelName of REFERENCE_MODELS) {
  describe(`CPU reference vs official code: ${modelName}`, async () => {
    const cfg = referenceConfig(modelName);
    const src = await openFileSource(referencePath(modelName, 'checkpoint.pth'));
    const model = await loadModel(src);
    await src.close();

    it('reads the architecture and T from the checkpoint', () => {
      expect(model.config.embedDims).toEqual(cfg.embed_dim);
      expect(model.config.numClasses).toBe(cfg.num_classes);
      expect(model.config.kd).toBe(cfg.kd);
      expect(model.config.timeSteps).toBe(cfg.time_steps);
    });

    const graph = buildModelGraph(model.config, cfg.input_height, cfg.input_width);
    const runtime = new CpuReferenceRuntime(graph, modelWeightsFromTensors(model.tensors));

    for (const caseName of cfg.cases) {
      it(`${caseName}: 77 spike maps bit for bit, logits and features to 1e-4`, () => {
        const ref = referenceCase(modelName, caseName);
        const result = runtime.run(ref.input, { spikeMaps: 'all', keepValues: true });
        expect(result.layers.map((l) => l.name)).toEqual(ref.spikes.layers.map((l) => l.name));
        const differing = ref.spikes.layers
          .map((layer) => ({ name: layer.name, diff: countBitDifferences(result.spikeMaps.get(layer.name)!, ref.spikesBin, layer) }))
          .filter((d) => d.diff > 0);
        expect(differing).toEqual([]);
        result.layers.forEach((l, i) => expect(l.onesPerStep.reduce((a, b) => a + b, 0)).toBe(ref.spikes.layers[i].ones));
        expect(maxAbsDiff(result.logits, ref.logits)).toBeLessThan(1e-4);
        const features = result.values.get('block4.1.mlp.residual')!;
        const flat = new Float32Array(features.length * features[0].length);
        features.forEach((f, t) => flat.set(f, t * f.length));
        expect(maxAbsDiff(flat, ref.features)).toBeLessThan(1e-4);
      });
    }
  });
}

describe('CPU reference membrane potentials', () => {
  it('returns h before reset; spikes are exactly where h crosses the threshold', async () => {
    const cfg = referenceConfig('metaspikformer-tiny-t4-kd');
    const src = await openFileSource(referencePath('metaspikformer-tiny-t4-kd', 'checkpoint.pth'));
    const model = await loadModel(src);
    await src.close();
    const runtime = new CpuReferenceRuntime(buildModelGraph(model.config, cfg.input_height, cfg.input_width), modelWeightsFromTensors(model.tensors));
    const name = 'block3.0.attn.attn_lif';
    const r = runtime.run(referenceCase('metaspikformer-tiny-t4-kd', 'cat').input, { spikeMaps: [name], membranes: [name] });
    const h = r.membranes.get(name)!;
    const s = r.spikeMaps.get(name)!;
    expect(h.length).toBe(s.length);
    let fired = 0;
    for (let i = 0; i < h.length; i++) {
      expect(s[i]).toBe(h[i] >= 0.5 ? 1 : 0);
      fired += s[i];
    }
    expect(fired).toBeGreaterThan(0);
  });
});
