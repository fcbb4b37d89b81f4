/**
 * Request/reply over a Web Worker: each request carries an `id`, the worker answers with the same
 * `id` (`type: 'error'` with a `message` for a failure). A crashed worker rejects every pending
 * request and reports once through `onFailure`.
 */
type Pending<Res> = { resolve(r: Res): void; reject(e: Error): void };

/** A request without its id, for each member of a union of requests. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class WorkerRpc<Req extends { id: number }, Res extends { id: number; type: string }> {
  private readonly pending = new Map<number, Pending<Res>>();
  private nextId = 1;

  /** `name` appears in errors ("the CPU worker failed: …"). */
  constructor(readonly worker: Worker, name: string, onFailure: (message: string) => void) {
    worker.onmessage = (e: MessageEvent<Res>) => {
      const p = this.pending.get(e.data.id);
      if (!p) return;
      this.pending.delete(e.data.id);
      if (e.data.type === 'error') p.reject(new Error((e.data as unknown as { message: string }).message));
      else p.resolve(e.data);
    };
    worker.onerror = (e) => {
      const err = new Error(`the ${name} worker failed: ${e.message}`);
      this.rejectAll(err);
      onFailure(err.message);
    };
  }

  /** Sends `msg` with a fresh id; `transfer` lists what moves to the worker. */
  call(msg: WithoutId<Req>, transfer: Transferable[] = []): Promise<Res> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  /** Stops the worker; pending requests are rejected. */
  terminate(): void {
    this.worker.terminate();
    this.rejectAll(new Error('the engine was closed'));
  }

  private rejectAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
