import * as ortWeb from 'onnxruntime-web';
import * as ortNode from 'onnxruntime-node';
import { openFileSource } from './src/io/nodeFileSource.ts';
import { loadModel } from './src/model/loadModel.ts';
import { buildModelGraph, lifOps, type ModelGraph } from './src/model/graph.ts';
import { modelWeightsFromTensors, type ModelWeights } from './src/runtime/weights.ts';
import { CpuReferenceRuntime } from './src/runtime/cpu/cpuReferenceRuntime.ts';
import { exportOnnx } from './src/export/onnx.ts';
import { loadInput } from './src/cli/input.ts';
import { defaultConfig, PUBLISHED_EMBED_DIMS } from './src/model/config.ts';
import { randomModelWeights } from './src/model/randomWeights.ts';
const NOFOLD = { optimization: { disable_specified_optimizers: 'ConvMulFusion;ConvAddFusion;ConvBNFusion' } };
async function study(label: string, graph: ModelGraph, weights: ModelWeights, input: Float32Array) {
  const lifs = lifOps(graph);
  const cpu = new CpuReferenceRuntime(graph, weights).run(input, { spikeMaps: 'all' });
  const bytes = exportOnnx(graph, weights, { spikeMaps: true });
  const [h, w] = [graph.inputHeight, graph.inputWidth];
  const res: string[] = [];
  for (const [name, ort, opts] of [
    ['wasm-disabled', ortWeb, { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' }],
    ['wasm-all', ortWeb, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }],
    ['wasm-all-nofold', ortWeb, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', extra: NOFOLD }],
    ['node-all-nofold', ortNode, { graphOptimizationLevel: 'all', extra: NOFOLD }],
  ] as const) {
    const s = await (ort as any).InferenceSession.create(bytes, opts);
    const x = new (ort as any).Tensor('float32', input, [1, 3, h, w]);
    await s.run({ input: x });
    const t0 = performance.now();
    const out = await s.run({ input: x });
    const dt = performance.now() - t0;
    let tot = 0;
    for (const l of lifs) { const ref = cpu.spikeMaps.get(l.name)!; const got = out[l.name].data as Float32Array; for (let i = 0; i < ref.length; i++) if (ref[i] !== got[i]) tot++; }
    res.push(`${name} ${tot} flips ${dt.toFixed(0)}ms`);
    await s.release();
  }
  console.log(label, res.join(', '));
}
{
  const src = await openFileSource('/tmp/exp/15m.safetensors'); const m = await loadModel(src); await src.close();
  const graph = buildModelGraph(m.config, 224, 224);
  const input = await loadInput(`/work/shared/reference/metaspikformer-tiny-t1/cat/image.png`, m.config);
  await study('15M uncal 224 T1', graph, modelWeightsFromTensors(m.tensors), input.data);
}
{
  const config = defaultConfig({ embedDims: PUBLISHED_EMBED_DIMS['15M'], numClasses: 1000, timeSteps: 4 });
  const graph = buildModelGraph(config, 112, 112);
  const input = await loadInput(`/work/shared/reference/metaspikformer-tiny-t1/cat/image.png`, config, [112, 112]);
  await study('15M cal seed3 112 T4', graph, randomModelWeights(config, { seed: 3 }), input.data);
}
