/** Talks to `model.worker.ts`: one worker for the app, one request at a time per caller. */
import type { ModelConfig } from '../../model/config.ts';
import type { CachedModelEntry } from '../logic/modelCacheIndex.ts';
import type { ModelWorkerRequest, ModelWorkerResponse } from './model.worker.ts';

export interface WorkerModel {
  config: ModelConfig;
  weights: Map<string, Float32Array>;
  entry?: CachedModelEntry;
  cached?: boolean;
  cacheNote?: string;
}

export type ProgressListener = (phase: string, fraction: number | null) => void;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class ModelWorkerClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(m: WorkerModel): void; reject(e: Error): void; progress?: ProgressListener }>();

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./model.worker.ts', import.meta.url), { type: 'module', name: 'model-loader' });
    w.onmessage = (e: MessageEvent<ModelWorkerResponse>) => {
      const msg = e.data;
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.type === 'progress') {
        p.progress?.(msg.phase, msg.fraction);
        return;
      }
      this.pending.delete(msg.id);
      if (msg.type === 'error') p.reject(new Error(msg.message));
      else p.resolve({ config: msg.config, weights: new Map(msg.weights), entry: msg.entry, cached: msg.cached, cacheNote: msg.cacheNote });
    };
    w.onerror = (e) => {
      // A crash (e.g. out of memory on a huge file): fail everything and start a fresh worker next time.
      const err = new Error(`the model worker stopped: ${e.message || 'unknown error'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      w.terminate();
      if (this.worker === w) this.worker = null;
    };
    this.worker = w;
    return w;
  }

  request(msg: DistributiveOmit<ModelWorkerRequest, 'id'>, progress?: ProgressListener): Promise<WorkerModel> {
    const worker = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress });
      worker.postMessage({ ...msg, id } as ModelWorkerRequest);
    });
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
  }
}
