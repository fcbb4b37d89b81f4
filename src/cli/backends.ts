/**
 * The inference backends the CLI can run, behind one call. Each builds the graph from the same
 * model description and returns the backend-neutral `FrameResult`.
 */
import { exportOnnx } from '../export/onnx.ts';
import { buildModelGraph, type ModelGraph } from '../model/graph.ts';
import type { LoadedModel } from '../model/loadModel.ts';
import { CpuReferenceRuntime } from '../runtime/cpu/cpuReferenceRuntime.ts';
import { OnnxRuntimeBackend } from '../runtime/onnx/onnxRuntimeBackend.ts';
import type { FrameRequest, FrameResult } from '../runtime/types.ts';
import { modelWeightsFromTensors } from '../model/weights.ts';
import type { ModelInput } from './input.ts';
import { installNodeWebGpu } from '../runtime/webgpu/nodeWebGpu.ts';
import { WebGpuRuntime } from '../runtime/webgpu/webGpuRuntime.ts';

export interface BackendRun {
  graph: ModelGraph;
  result: FrameResult;
  /** What actually ran, e.g. `cpu` or `webgpu (swiftshader)`. */
  backendUsed: string;
}

/** A backend made once for a model at one input size, to run any number of frames. */
export interface OpenBackend {
  graph: ModelGraph;
  /** What runs, e.g. `cpu` or `webgpu (swiftshader)`. */
  backendUsed: string;
  run(input: ModelInput, request: FrameRequest): Promise<FrameResult>;
  close(): Promise<void>;
}

type Opener = (graph: ModelGraph, model: LoadedModel) => Promise<Omit<OpenBackend, 'graph'>>;

/**
 * `SPIKEFORMER_WEBGPU_PLAN=software|hardware` plans the WebGPU runtime for that kind of adapter
 * whatever the adapter is (to check or time one plan on the other's machine); unset, the adapter
 * decides (`adapterInfo.isFallbackAdapter`).
 */
function webGpuPlanOverride(): 'software' | 'hardware' | null {
  const v = process.env.SPIKEFORMER_WEBGPU_PLAN;
  if (v === undefined || v === '') return null;
  if (v !== 'software' && v !== 'hardware') throw new Error(`SPIKEFORMER_WEBGPU_PLAN is "${v}": it takes software or hardware`);
  return v;
}

export const BACKENDS = {
  cpu: async (graph, model) => {
    const runtime = new CpuReferenceRuntime(graph, modelWeightsFromTensors(model.tensors));
    return { backendUsed: 'cpu', run: async (input, request) => runtime.run(input.data, request), close: async () => {} };
  },
  // The model exported to ONNX in memory, run by onnxruntime-web's wasm build (in Node it finds its
  // .wasm next to its own module; no wasmPaths needed). Spike counts only, no spike maps.
  'onnx-wasm': async (graph, model) => {
    const ort = await import('onnxruntime-web');
    const onnx = exportOnnx(graph, modelWeightsFromTensors(model.tensors));
    const backend = await OnnxRuntimeBackend.create(ort, onnx, graph, { executionProvider: 'wasm' });
    return { backendUsed: backend.backendUsed, run: (input, request) => backend.run(input.data, request), close: () => backend.release() };
  },
  // Our WebGPU runtime (event-driven spike kernels) in Node on Dawn, on the adapter nodeWebGpu.ts
  // finds; spike maps and counts come back as from the CPU reference.
  webgpu: async (graph, model) => {
    const { adapter, description } = await installNodeWebGpu();
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
    const plan = webGpuPlanOverride();
    const runtime = await WebGpuRuntime.create(device, graph, modelWeightsFromTensors(model.tensors), plan === null ? {} : { software: plan === 'software' });
    return {
      backendUsed: `webgpu (${description}${plan === null ? '' : `, ${plan} plan`})`,
      run: (input, request) => runtime.run(input.data, request),
      close: async () => {
        runtime.destroy();
        device.destroy();
      },
    };
  },
  // The same model on onnxruntime-web's WebGPU execution provider, in Node on Dawn (npm `webgpu`;
  // see nodeWebGpu.ts): a GPU through Vulkan where there is one, else Chromium's SwiftShader. The
  // adapter that ran is named, e.g. `onnx-webgpu (google · swiftshader, fallback adapter)`.
  'onnx-webgpu': async (graph, model) => {
    const { adapter, description } = await installNodeWebGpu();
    // The dedicated WebGPU build (its `node` export is wasm-only).
    const ort = await import('onnxruntime-web/webgpu');
    ort.env.webgpu.adapter = adapter;
    const onnx = exportOnnx(graph, modelWeightsFromTensors(model.tensors));
    const backend = await OnnxRuntimeBackend.create(ort, onnx, graph, { executionProvider: 'webgpu', label: `onnx-webgpu (${description})` });
    return { backendUsed: backend.backendUsed, run: (input, request) => backend.run(input.data, request), close: () => backend.release() };
  },
} satisfies Record<string, Opener>;

export type BackendName = keyof typeof BACKENDS;

/** Whether a backend can return full spike maps (`--dump-spikes`); the ONNX ones give counts only. */
export function backendHasSpikeMaps(name: BackendName): boolean {
  return !name.startsWith('onnx-');
}

/** Builds the graph for `height`×`width` inputs and makes the backend once. */
export async function openBackend(name: BackendName, model: LoadedModel, height: number, width: number): Promise<OpenBackend> {
  const graph = buildModelGraph(model.config, height, width);
  return { graph, ...(await BACKENDS[name](graph, model)) };
}

/** One frame through a backend made for it and closed after. */
export async function runBackend(name: BackendName, model: LoadedModel, input: ModelInput, request: FrameRequest): Promise<BackendRun> {
  const backend = await openBackend(name, model, input.height, input.width);
  try {
    return { graph: backend.graph, result: await backend.run(input, request), backendUsed: backend.backendUsed };
  } finally {
    await backend.close();
  }
}
