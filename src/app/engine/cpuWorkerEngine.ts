/**
 * The CPU reference engine: `CpuReferenceRuntime` (the spec every backend is tested against) in a
 * Web Worker. Slow — the app keeps its input small — but it runs everywhere, with every spike map
 * and membrane available.
 */
import { lifOps, buildModelGraph } from '../../model/graph.ts';
import type { CpuWorkerRequest, CpuWorkerResponse } from './cpuEngine.worker.ts';
import { WorkerRpc } from './workerRpc.ts';
import { EngineEvents, type AppModel, type EngineFrame, type EngineRequest, type FrameInput, type InferenceEngine, type LoadOptions } from './types.ts';

export class CpuWorkerEngine implements InferenceEngine {
  readonly backendName = 'CPU reference (Web Worker)';
  readonly adapterName: string;
  readonly maxInputSize = 64;
  readonly hasSpikeMaps = true;
  private readonly rpc: WorkerRpc<CpuWorkerRequest, CpuWorkerResponse>;
  private layers = new Set<string>();
  private readonly events = new EngineEvents();

  constructor() {
    const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
    this.adapterName = `JavaScript on the CPU, 1 worker thread${cores ? ` (${cores} cores here)` : ''}`;
    const worker = new Worker(new URL('./cpuEngine.worker.ts', import.meta.url), { type: 'module', name: 'cpu-reference' });
    this.rpc = new WorkerRpc(worker, 'CPU', (message) => this.events.emit({ kind: 'error', message }));
  }

  subscribe(listener: Parameters<InferenceEngine['subscribe']>[0]): () => void {
    return this.events.subscribe(listener);
  }

  async load(model: AppModel, options: LoadOptions): Promise<void> {
    // Weights are copied (structured clone): the app keeps its own for other engines.
    await this.rpc.call({ type: 'load', config: model.config, weights: [...model.weights], height: options.height, width: options.width });
    this.layers = new Set(lifOps(buildModelGraph(model.config, options.height, options.width)).map((op) => op.name));
  }

  membraneLayers(): ReadonlySet<string> {
    return this.layers;
  }

  async runFrame(frame: FrameInput, request: EngineRequest): Promise<EngineFrame> {
    const t0 = performance.now();
    // The bitmap is transferred to the worker, so send a copy: the caller keeps (and closes) its own.
    const payload = frame instanceof Float32Array ? frame.slice() : await createImageBitmap(frame);
    const r = await this.rpc.call({ type: 'run', frame: payload, spikeMaps: request.spikeMaps, membranes: request.membranes }, [payload instanceof Float32Array ? payload.buffer : payload]);
    if (r.type !== 'result') throw new Error('unexpected reply from the CPU worker');
    return { logits: r.logits, layers: r.layers, spikeMaps: new Map(r.spikeMaps), membranes: new Map(r.membranes), outputs: new Map(r.outputs), ms: performance.now() - t0 };
  }

  dispose(): void {
    this.rpc.terminate();
  }
}
