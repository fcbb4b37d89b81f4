/**
 * The ONNX export run by ONNX Runtime reproduces the official outputs: on both reference models and
 * every case, under onnxruntime-node (native CPU) and onnxruntime-web's wasm build (in Node), every
 * spike map bit for bit, spike counts per layer equal to `spikes.json`, logits to 1e-4, same top-1.
 * And the export of every published size builds a graph ONNX Runtime accepts and runs.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import protobuf from 'protobufjs/minimal.js';
import { afterAll, describe, expect, it } from 'vitest';
import { exportOnnx, ONNX_LOGITS, spikeCountOutput } from '../../src/export/onnx.ts';
import { openFileSource } from '../../src/io/nodeFileSource.ts';
import { defaultConfig, PUBLISHED_EMBED_DIMS, type ModelConfig } from '../../src/model/config.ts';
import { buildModelGraph, expectedParameters, lifOps } from '../../src/model/graph.ts';
import { loadModel } from '../../src/model/loadModel.ts';
import {
  onnxSessionOptions, OnnxRuntimeBackend, type OnnxExecutionProvider, type OrtModule,
} from '../../src/runtime/onnx/onnxRuntimeBackend.ts';
import { buildSpikeReport } from '../../src/runtime/spikeReport.ts';
import { modelWeightsFromTensors, type ModelWeights } from '../../src/model/weights.ts';
import {
  countBitDifferences, maxAbsDiff, REFERENCE_MODELS, referenceCase, referenceConfig, referencePath,
} from '../helpers/reference.ts';

const RUNTIMES: { label: string; ort: OrtModule; provider: OnnxExecutionProvider }[] = [
  { label: 'onnxruntime-node', ort: ortNode as unknown as OrtModule, provider: 'cpu' },
  { label: 'onnxruntime-web wasm', ort: ortWeb, provider: 'wasm' },
];

for (const modelName of REFERENCE_MODELS) {
  describe(`ONNX export vs official code: ${modelName}`, async () => {
    const cfg = referenceConfig(modelName);
    const src = await openFileSource(referencePath(modelName, 'checkpoint.pth'));
    const model = await loadModel(src);
    await src.close();
    const graph = buildModelGraph(model.config, cfg.input_height, cfg.input_width);
    // With every spike map as an extra output, to compare them bit for bit.
    const onnx = exportOnnx(graph, modelWeightsFromTensors(model.tensors), { spikeMaps: true });

    for (const { label, ort, provider } of RUNTIMES) {
      it(`${label}: every case, spike maps bit for bit, counts = spikes.json, logits to 1e-4`, async () => {
        const backend = await OnnxRuntimeBackend.create(ort, onnx, graph, { executionProvider: provider });
        try {
          expect(backend.backendUsed).toBe(`onnx-${provider}`);
          for (const caseName of cfg.cases) {
            const ref = referenceCase(modelName, caseName);
            const result = await backend.run(ref.input, { spikeMaps: 'all' });
            const { report } = buildSpikeReport(graph, result, false);
            expect(report.top1, caseName).toBe(ref.spikes.top1);
            // Names, official shapes, counts, totals and rates: spikes.json without the .bin offsets.
            expect(report.layers, caseName).toEqual(ref.spikes.layers.map(({ offset: _o, bytes: _b, ...rest }) => rest));
            for (const l of result.layers) expect(l.onesPerStep).toHaveLength(model.config.timeSteps);
            const differing = ref.spikes.layers
              .map((layer) => ({ name: layer.name, diff: countBitDifferences(result.spikeMaps.get(layer.name)!, ref.spikesBin, layer) }))
              .filter((d) => d.diff > 0);
            expect(differing, caseName).toEqual([]);
            expect(maxAbsDiff(result.logits, ref.logits), caseName).toBeLessThan(1e-4);
          }
        } finally {
          await backend.release();
        }
      });
    }
  });
}

describe('ONNX runtime backend', () => {
  it('refuses spike maps on a counts-only export and says where to get them', async () => {
    const model = 'metaspikformer-tiny-t1';
    const cfg = referenceConfig(model);
    const src = await openFileSource(referencePath(model, 'checkpoint.pth'));
    const loaded = await loadModel(src);
    await src.close();
    const graph = buildModelGraph(loaded.config, cfg.input_height, cfg.input_width);
    const backend = await OnnxRuntimeBackend.create(ortNode as unknown as OrtModule,
      exportOnnx(graph, modelWeightsFromTensors(loaded.tensors)), graph, { executionProvider: 'cpu' });
    try {
      expect(backend.hasSpikeMaps).toBe(false);
      const input = referenceCase(model, 'cat').input;
      await expect(backend.run(input, { spikeMaps: ['lif'] })).rejects.toThrow(/spike counts only.*cpu or webgpu/);
      const result = await backend.run(input);
      expect(result.spikeMaps.size).toBe(0);
      expect(result.layers).toHaveLength(77);
    } finally {
      await backend.release();
    }
  });
});

/** `[name, op_type]` of every node of a serialized ModelProto (graph = field 7, node = 1, name = 3, op_type = 4). */
function nodesOf(model: Uint8Array): [string, string][] {
  const fields = (bytes: Uint8Array, visit: (field: number, r: protobuf.Reader) => boolean) => {
    const r = protobuf.Reader.create(bytes);
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (!visit(tag >>> 3, r)) r.skipType(tag & 7);
    }
  };
  const nodes: [string, string][] = [];
  fields(model, (f, r) => f === 7 && (fields(r.bytes(), (g, rg) => g === 1 && (() => {
    const node: [string, string] = ['', ''];
    fields(rg.bytes(), (n, rn) => (n === 3 || n === 4) && ((node[n - 3] = rn.string()), true));
    nodes.push(node);
    return true;
  })()), true));
  return nodes;
}

describe('ONNX Runtime session options', () => {
  it('keep every BatchNorm as its own Mul/Add (no folding into the conv before it)', async () => {
    const model = 'metaspikformer-tiny-t1';
    const src = await openFileSource(referencePath(model, 'checkpoint.pth'));
    const loaded = await loadModel(src);
    await src.close();
    const graph = buildModelGraph(loaded.config, 32, 32);
    const onnx = exportOnnx(graph, modelWeightsFromTensors(loaded.tensors));
    const bnScales = graph.ops.filter((op) => op.kind === 'batchnorm').map((op) => `node:${op.name}/scale`);
    const dir = mkdtempSync(join(tmpdir(), 'spikeformer-onnx-opt-'));
    const optimizedScales = async (foldBatchNorm: boolean) => {
      const optimizedModelFilePath = join(dir, `folded-${foldBatchNorm}.onnx`);
      const session = await ortNode.InferenceSession.create(onnx, {
        ...onnxSessionOptions({ executionProvider: 'cpu', graphOptimizationLevel: 'extended', foldBatchNorm }), optimizedModelFilePath,
      });
      await session.release();
      const names = new Set(nodesOf(readFileSync(optimizedModelFilePath)).map(([name]) => name));
      return bnScales.filter((n) => names.has(n)).length;
    };
    expect(nodesOf(onnx).filter(([name, op]) => bnScales.includes(name) && op === 'Mul')).toHaveLength(bnScales.length);
    expect(await optimizedScales(false)).toBe(bnScales.length);
    // The check has teeth: with folding allowed, ONNX Runtime does fold most of them.
    expect(await optimizedScales(true)).toBeLessThan(bnScales.length / 2);
  });
});

/** Weights for a config without the cost of random numbers: zeros, BN running_var 1. */
function zeroWeights(config: ModelConfig): ModelWeights {
  const weights: ModelWeights = new Map();
  for (const p of expectedParameters(config)) {
    if (!p.used) continue;
    const w = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
    if (p.key.endsWith('running_var')) w.fill(1);
    weights.set(p.key, w);
  }
  return weights;
}

describe('ONNX export of the published sizes', () => {
  const sizes: { name: string; config: ModelConfig }[] = [
    ...Object.entries(PUBLISHED_EMBED_DIMS).map(([name, embedDims]) => ({ name, config: defaultConfig({ embedDims, numClasses: 1000 }) })),
    { name: '55M kd, T=4', config: defaultConfig({ embedDims: PUBLISHED_EMBED_DIMS['55M'], numClasses: 1000, kd: true, timeSteps: 4 }) },
  ];
  const sessions: { release(): Promise<void> }[] = [];
  afterAll(async () => { for (const s of sessions) await s.release(); });

  for (const { name, config } of sizes) {
    it(`${name}: a valid model that onnxruntime-node loads and runs at 32x32`, async () => {
      const graph = buildModelGraph(config, 32, 32);
      const onnx = exportOnnx(graph, zeroWeights(config));
      const session = await ortNode.InferenceSession.create(onnx, { graphOptimizationLevel: 'disabled' });
      sessions.push(session);
      const layers = lifOps(graph);
      expect(layers).toHaveLength(77);
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual([ONNX_LOGITS, ...layers.map((l) => spikeCountOutput(l.name))]);
      const out = await session.run({ input: new ortNode.Tensor('float32', new Float32Array(3 * 32 * 32), [1, 3, 32, 32]) });
      expect(out[ONNX_LOGITS].dims).toEqual([1, 1000]);
      expect(out[spikeCountOutput('block4.1.attn.attn_lif')].dims).toEqual([config.timeSteps]);
      // Zero weights, zero-input BN: nothing reaches a threshold.
      expect([...(out[spikeCountOutput('lif')].data as Float32Array)].every((v) => v === 0)).toBe(true);
      for (const t of Object.values(out)) t.dispose();
    });
  }
});
