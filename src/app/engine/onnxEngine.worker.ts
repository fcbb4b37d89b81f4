/**
 * The ONNX Runtime Web engine's worker: exports the loaded model to ONNX here in the browser
 * (`export/onnx.ts`, at the app's input size and T) and runs it on ORT's `wasm` execution provider
 * (`runtime/onnx/onnxRuntimeBackend.ts`: BN folding off, so the spikes are the reference's). Frames
 * are preprocessed on an OffscreenCanvas as in the CPU engine. Keeps the UI thread free.
 *
 * ORT's files: the wasm binary and its Emscripten glue (`ort-wasm-simd-threaded.{wasm,mjs}`) are
 * imported with `?url`, so Vite serves them in dev and emits them as assets in the build; the glue
 * must be its own file because ORT's wasm threads are workers started from it.
 */
import * as ort from 'onnxruntime-web/wasm';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import { exportOnnx } from '../../export/onnx.ts';
import { DataType, encodeModel } from '../../export/protobuf.ts';
import type { ModelConfig } from '../../model/config.ts';
import { buildModelGraph } from '../../model/graph.ts';
import { OnnxRuntimeBackend } from '../../runtime/onnx/onnxRuntimeBackend.ts';
import { frameToInput } from './frames.ts';

export type OnnxWorkerRequest =
  | { type: 'init'; id: number; threads: number }
  | { type: 'load'; id: number; config: ModelConfig; weights: [string, Float32Array][]; height: number; width: number }
  | { type: 'run'; id: number; frame: ImageBitmap | Float32Array };

export type OnnxWorkerResponse =
  /** ORT started; `threads` is what it runs with (1 where the page is not cross-origin isolated). */
  | { type: 'ready'; id: number; threads: number; version: string }
  | { type: 'loaded'; id: number; onnxBytes: number }
  | { type: 'result'; id: number; logits: Float32Array; layers: { name: string; onesPerStep: number[]; neuronsPerStep: number }[]; outputs: [string, Float32Array][]; ms: number }
  | { type: 'error'; id: number; message: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<OnnxWorkerRequest>) => void) | null;
  postMessage(message: OnnxWorkerResponse, transfer?: Transferable[]): void;
  location: Location;
};

let state: { backend: OnnxRuntimeBackend; config: ModelConfig; height: number; width: number } | null = null;

/** y = x + x on a [1] float: the smallest model that makes ORT load its wasm and start its threads. */
function probeModel(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'spikeformer',
    producerVersion: '',
    docString: 'ONNX Runtime start-up check',
    graph: {
      name: 'probe',
      nodes: [{ opType: 'Add', name: 'add', inputs: ['x', 'x'], outputs: ['y'] }],
      initializers: [],
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [1] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1] }],
    },
    metadata: {},
  });
}

async function init(threads: number): Promise<{ threads: number; version: string }> {
  const base = scope.location.href;
  ort.env.wasm.wasmPaths = { wasm: new URL(ortWasmUrl, base).href, mjs: new URL(ortMjsUrl, base).href };
  ort.env.wasm.numThreads = threads;
  // Already in a worker: no proxy worker of ORT's own.
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(probeModel(), { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1.5]), [1]) });
    const y = (out.y.data as Float32Array)[0];
    if (y !== 3) throw new Error(`ONNX Runtime's start-up check computed 1.5 + 1.5 = ${y}`);
  } finally {
    await session.release();
  }
  // ORT drops to 1 thread (and says so on the console) where SharedArrayBuffer is unavailable.
  return { threads: ort.env.wasm.numThreads ?? threads, version: ort.env.versions.web ?? '' };
}

async function handle(msg: OnnxWorkerRequest): Promise<void> {
  try {
    if (msg.type === 'init') {
      const r = await init(msg.threads);
      scope.postMessage({ type: 'ready', id: msg.id, ...r });
      return;
    }
    if (msg.type === 'load') {
      const graph = buildModelGraph(msg.config, msg.height, msg.width);
      const onnx = exportOnnx(graph, new Map(msg.weights));
      const backend = await OnnxRuntimeBackend.create(ort, onnx, graph, { executionProvider: 'wasm' });
      // The previous model is released only once the new one runs: a model that fails keeps the old.
      const old = state;
      state = { backend, config: msg.config, height: msg.height, width: msg.width };
      await old?.backend.release();
      scope.postMessage({ type: 'loaded', id: msg.id, onnxBytes: onnx.byteLength });
      return;
    }
    if (!state) throw new Error('no model is loaded');
    const t0 = performance.now();
    const input = frameToInput(msg.frame, state.width, state.height, state.config.mean, state.config.std);
    const r = await state.backend.run(input);
    const outputs = [...(r.outputs ?? new Map<string, Float32Array>())];
    scope.postMessage({ type: 'result', id: msg.id, logits: r.logits, layers: r.layers, outputs, ms: performance.now() - t0 }, [r.logits.buffer, ...outputs.map(([, m]) => m.buffer)]);
  } catch (err) {
    if (msg.type === 'run' && msg.frame instanceof ImageBitmap) msg.frame.close();
    scope.postMessage({ type: 'error', id: msg.id, message: (err as Error).message ?? String(err) });
  }
}

// One message at a time: a session runs one frame at a time, and a load waits for the frame before it.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (e) => {
  queue = queue.then(() => handle(e.data));
};
