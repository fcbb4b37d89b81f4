/**
 * Request/reply over a Web Worker: each request carries an `id`, the worker answers with the same
 * `id` (`type: 'error'` with a `message` for a failure; `type: 'progress'` messages report on the
 * way without settling). A crashed worker rejects every pending request and reports once through
 * `onFailure`. A request with an abort signal is rejected as soon as it is aborted, and the worker
 * is told (`{ type: 'cancel', id }`) so it can stop working on it.
 */
import { supersededError } from '../logic/errors.ts';

type Pending<Res> = { resolve(r: Res): void; reject(e: Error): void; progress?: (r: Res) => void };

/** A request without its id, for each member of a union of requests. */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface CallOptions<Res> {
  /** Moved to the worker rather than copied. */
  transfer?: Transferable[];
  /** Called with each `type: 'progress'` message for this request. */
  onProgress?: (message: Res) => void;
  /** Aborting rejects the request (AbortError) and asks the worker to cancel it. */
  signal?: AbortSignal;
}

export class WorkerRpc<Req extends { id: number }, Res extends { id: number; type: string }> {
  private readonly pending = new Map<number, Pending<Res>>();
  private nextId = 1;

  /** `name` appears in errors ("the CPU worker failed: …"). */
  constructor(readonly worker: Worker, name: string, onFailure: (message: string) => void) {
    worker.onmessage = (e: MessageEvent<Res>) => {
      const p = this.pending.get(e.data.id);
      if (!p) return;
      if (e.data.type === 'progress') {
        p.progress?.(e.data);
        return;
      }
      this.pending.delete(e.data.id);
      if (e.data.type === 'error') p.reject(new Error((e.data as unknown as { message: string }).message));
      else p.resolve(e.data);
    };
    worker.onerror = (e) => {
      const err = new Error(`the ${name} worker failed: ${e.message || 'unknown error'}`);
      this.rejectAll(err);
      onFailure(err.message);
    };
  }

  /** Requests not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends `msg` with a fresh id. */
  call(msg: WithoutId<Req>, transferOrOptions: Transferable[] | CallOptions<Res> = {}): Promise<Res> {
    const options = Array.isArray(transferOrOptions) ? { transfer: transferOrOptions } : transferOrOptions;
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason ?? supersededError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        this.worker.postMessage({ type: 'cancel', id });
        reject(signal!.reason ?? supersededError());
      };
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
        progress: options.onProgress,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.worker.postMessage({ ...msg, id }, options.transfer ?? []);
    });
  }

  /** Stops the worker; pending requests are rejected. */
  terminate(): void {
    this.worker.terminate();
    this.rejectAll(new Error('the engine was closed'));
  }

  private rejectAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
