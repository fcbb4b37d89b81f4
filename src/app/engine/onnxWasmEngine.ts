/**
 * The ONNX Runtime Web engine: the model exported to ONNX in the browser and run on ORT's `wasm`
 * execution provider in a Web Worker (`onnxEngine.worker.ts`), with as many threads as the page
 * allows (more than one needs cross-origin isolation: COOP/COEP headers, see vite.config.ts).
 *
 * The app's backend where WebGPU is missing. Much faster than the CPU reference and with the same
 * spikes, but it returns per-layer spike counts only: no spike maps and no membranes.
 */
import type { OnnxWorkerRequest, OnnxWorkerResponse } from './onnxEngine.worker.ts';
import { wantedThreads } from '../../runtime/onnx/onnxRuntimeBackend.ts';
import { WorkerRpc } from './workerRpc.ts';
import { EngineEvents, type AppModel, type EngineFrame, type EngineRequest, type FrameInput, type InferenceEngine, type LoadOptions } from './types.ts';

/** How long ORT may take to fetch and compile its wasm and start its threads. */
const START_TIMEOUT_MS = 60_000;


/** The largest input the app gives ONNX Runtime Web (wasm on the CPU). */
export const ONNX_MAX_INPUT_SIZE = 224;

/** "ONNX Runtime Web (wasm, 2 threads)". */
export function onnxWasmBackendName(threads: number): string {
  return `ONNX Runtime Web (wasm, ${threads} thread${threads === 1 ? '' : 's'})`;
}

export class OnnxWasmEngine implements InferenceEngine {
  readonly backendName: string;
  readonly adapterName: string;
  readonly maxInputSize = ONNX_MAX_INPUT_SIZE;
  readonly hasSpikeMaps = false;
  private readonly events = new EngineEvents();
  private readonly rpc: WorkerRpc<OnnxWorkerRequest, OnnxWorkerResponse>;

  private constructor(worker: Worker, threads: number, version: string, isolated: boolean) {
    this.rpc = new WorkerRpc(worker, 'ONNX Runtime', (message) => this.events.emit({ kind: 'error', message }));
    this.backendName = onnxWasmBackendName(threads);
    // Isolated: a thread per two cores (`wantedThreads`), so one on one or two cores.
    const why = isolated ? 'cross-origin isolated' : 'not cross-origin isolated, so no wasm threads';
    this.adapterName = `onnxruntime-web ${version}, WebAssembly on the CPU (${why})`;
  }

  /** Starts the worker and ORT in it (wasm fetched and compiled, threads started, a tiny model run). */
  static async create(): Promise<OnnxWasmEngine> {
    const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
    const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
    const worker = new Worker(new URL('./onnxEngine.worker.ts', import.meta.url), { type: 'module', name: 'onnx-runtime' });
    const ready = await new Promise<Extract<OnnxWorkerResponse, { type: 'ready' }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ONNX Runtime did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      worker.onmessage = (e: MessageEvent<OnnxWorkerResponse>) => {
        clearTimeout(timer);
        if (e.data.type === 'ready') resolve(e.data);
        else reject(new Error(e.data.type === 'error' ? e.data.message : `unexpected reply ${e.data.type}`));
      };
      worker.onerror = (e) => {
        clearTimeout(timer);
        reject(new Error(`the ONNX Runtime worker failed to start: ${e.message || 'script error'}`));
      };
      worker.postMessage({ type: 'init', id: 0, threads: wantedThreads(isolated, cores) } satisfies OnnxWorkerRequest);
    }).catch((e: unknown) => {
      worker.terminate();
      throw e;
    });
    return new OnnxWasmEngine(worker, ready.threads, ready.version, isolated);
  }

  subscribe(listener: Parameters<InferenceEngine['subscribe']>[0]): () => void {
    return this.events.subscribe(listener);
  }

  async load(model: AppModel, options: LoadOptions): Promise<void> {
    // Weights are copied (structured clone): the app keeps its own for other engines.
    await this.rpc.call({ type: 'load', config: model.config, weights: [...model.weights], height: options.height, width: options.width });
  }

  /** None: the ONNX model returns spike counts, not membranes. */
  membraneLayers(): ReadonlySet<string> {
    return new Set();
  }

  async runFrame(frame: FrameInput, _request: EngineRequest): Promise<EngineFrame> {
    const t0 = performance.now();
    // The bitmap is transferred to the worker, so send a copy: the caller keeps (and closes) its own.
    const payload = frame instanceof Float32Array ? frame.slice() : await createImageBitmap(frame);
    const r = await this.rpc.call({ type: 'run', frame: payload }, [payload instanceof Float32Array ? payload.buffer : payload]);
    if (r.type !== 'result') throw new Error('unexpected reply from the ONNX Runtime worker');
    return { logits: r.logits, layers: r.layers, spikeMaps: new Map(), membranes: new Map(), outputs: new Map(r.outputs), ms: performance.now() - t0 };
  }

  dispose(): void {
    this.rpc.terminate();
  }
}
