/**
 * The ONNX path in a browser (headless Chromium): the export itself runs there (protobuf.js through
 * Vite), and onnxruntime-web's `wasm` and `webgpu` execution providers reproduce the official
 * outputs bit for bit. WebGPU runs on SwiftShader here (seconds per frame), so it gets one case.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../../src/export/onnx.ts';
import { bytesSource } from '../../src/io/byteSource.ts';
import { readNpy } from '../../src/io/npy.ts';
import { buildModelGraph } from '../../src/model/graph.ts';
import { loadModel } from '../../src/model/loadModel.ts';
import { OnnxRuntimeBackend, type OnnxExecutionProvider } from '../../src/runtime/onnx/onnxRuntimeBackend.ts';
import { buildSpikeReport } from '../../src/runtime/spikeReport.ts';
import { modelWeightsFromTensors } from '../../src/model/weights.ts';
import { fetchReferenceBytes as fetchBytes } from '../helpers/referenceInBrowser.ts';

const fetchJson = async (path: string) => JSON.parse(new TextDecoder().decode(await fetchBytes(path)));

// The dev server (rooted at the project) serves node_modules; onnxruntime-web loads its .wasm and
// .mjs glue from there. (Not `new URL(…, import.meta.url)`: Vite rewrites that pattern.)
ort.env.wasm.wasmPaths = `${location.origin}/node_modules/onnxruntime-web/dist/`;

const RUNS: { provider: OnnxExecutionProvider; model: string; cases?: string[] }[] = [
  { provider: 'wasm', model: 'metaspikformer-tiny-t1' },
  { provider: 'wasm', model: 'metaspikformer-tiny-t4-kd' },
  { provider: 'webgpu', model: 'metaspikformer-tiny-t4-kd', cases: ['baboon'] },
];

describe('ONNX export in the browser, onnxruntime-web', () => {
  for (const { provider, model, cases } of RUNS) {
    it(`${provider}, ${model}: spike maps bit for bit, counts = spikes.json, logits to 1e-4`, async () => {
      if (provider === 'webgpu') expect(await navigator.gpu?.requestAdapter(), 'no WebGPU adapter').toBeTruthy();
      const cfg = await fetchJson(`${model}/config.json`);
      const loaded = await loadModel(bytesSource(await fetchBytes(`${model}/checkpoint.pth`)));
      const graph = buildModelGraph(loaded.config, cfg.input_height, cfg.input_width);
      const onnx = exportOnnx(graph, modelWeightsFromTensors(loaded.tensors), { spikeMaps: true });
      const backend = await OnnxRuntimeBackend.create(ort, onnx, graph, { executionProvider: provider });
      try {
        for (const caseName of cases ?? cfg.cases as string[]) {
          const input = readNpy(await fetchBytes(`${model}/${caseName}/input.npy`)).data as Float32Array;
          const logits = readNpy(await fetchBytes(`${model}/${caseName}/logits.npy`)).data as Float32Array;
          const spikes = await fetchJson(`${model}/${caseName}/spikes.json`);
          const bin = await fetchBytes(`${model}/${caseName}/spikes.bin`);
          const result = await backend.run(input, { spikeMaps: 'all' });
          const { report } = buildSpikeReport(graph, result, false);
          expect(report.top1, caseName).toBe(spikes.top1);
          expect(report.layers.map((l) => l.ones), caseName).toEqual(spikes.layers.map((l: { ones: number }) => l.ones));
          const differing = spikes.layers.filter((l: { name: string; offset: number; total: number }) => {
            const map = result.spikeMaps.get(l.name)!;
            if (map.length !== l.total) return true;
            for (let i = 0; i < map.length; i++) if (map[i] !== ((bin[l.offset + (i >> 3)] >> (i & 7)) & 1)) return true;
            return false;
          }).map((l: { name: string }) => l.name);
          expect(differing, caseName).toEqual([]);
          let maxDiff = 0;
          result.logits.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - logits[i])); });
          expect(maxDiff, caseName).toBeLessThan(1e-4);
        }
      } finally {
        await backend.release();
      }
    });
  }
});
