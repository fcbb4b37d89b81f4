/**
 * Talks to `model.worker.ts` over `WorkerRpc`: one worker for the app, started on the first
 * request and started again after a crash (e.g. out of memory on a huge file). A request aborted
 * through its signal is cancelled in the worker too.
 */
import type { ModelInputs } from '../../model/inputSpec.ts';
import type { ModelConfig } from '../../model/config.ts';
import type { CachedModelEntry } from '../logic/modelCacheIndex.ts';
import type { ModelWorkerRequest, ModelWorkerResponse } from './model.worker.ts';
import { WorkerRpc, type WithoutId } from './workerRpc.ts';

export interface WorkerModel {
  config: ModelConfig;
  weights: Map<string, Float32Array>;
  /** The input size and crop the file declares per task; {} if none. */
  inputs?: ModelInputs;
  /** The classifier's class names the file gives (`spikeformer.tasks`), if any. */
  classNames?: string[];
  noDigitBelow?: number;
  entry?: CachedModelEntry;
  cached?: boolean;
  cacheNote?: string;
}

export type ProgressListener = (phase: string, fraction: number | null) => void;

export interface RequestOptions {
  progress?: ProgressListener;
  signal?: AbortSignal;
}

/** What the app needs of the model worker (tests give a fake). */
export interface ModelWorker {
  /** Requests not answered yet. */
  readonly inFlight: number;
  request(msg: WithoutId<Exclude<ModelWorkerRequest, { type: 'cancel' }>>, options?: RequestOptions): Promise<WorkerModel>;
}

export class ModelWorkerClient implements ModelWorker {
  private rpc: WorkerRpc<ModelWorkerRequest, ModelWorkerResponse> | null = null;

  private ensure(): WorkerRpc<ModelWorkerRequest, ModelWorkerResponse> {
    if (this.rpc) return this.rpc;
    const worker = new Worker(new URL('./model.worker.ts', import.meta.url), { type: 'module', name: 'model-loader' });
    const rpc = new WorkerRpc<ModelWorkerRequest, ModelWorkerResponse>(worker, 'model', () => {
      // Pending requests were rejected ("the model worker failed: …"); start a fresh worker next time.
      worker.terminate();
      if (this.rpc === rpc) this.rpc = null;
    });
    this.rpc = rpc;
    return rpc;
  }

  get inFlight(): number {
    return this.rpc?.inFlight ?? 0;
  }

  async request(msg: WithoutId<Exclude<ModelWorkerRequest, { type: 'cancel' }>>, { progress, signal }: RequestOptions = {}): Promise<WorkerModel> {
    const onProgress = progress && ((m: ModelWorkerResponse) => m.type === 'progress' && progress(m.phase, m.fraction));
    const m = await this.ensure().call(msg, { onProgress, signal });
    if (m.type !== 'model') throw new Error(`unexpected reply from the model worker: ${m.type}`);
    return { config: m.config, weights: new Map(m.weights), inputs: m.inputs ?? {}, classNames: m.classNames, noDigitBelow: m.noDigitBelow, entry: m.entry, cached: m.cached, cacheNote: m.cacheNote };
  }

  dispose(): void {
    this.rpc?.terminate();
    this.rpc = null;
  }
}
