/**
 * The last choice wins (issue #22 point 6): a model, a checkpoint or a camera still starting when
 * the visitor chooses again is dropped — its progress, its model, its error never show — and the
 * model worker is told to stop. Driven here with fake workers, stores and cameras.
 */
import { describe, expect, test } from 'vitest';
import { TINY_CONFIG } from '../../src/app/engine/builtinModel.ts';
import type { ModelWorker, RequestOptions, WorkerModel } from '../../src/app/engine/modelWorkerClient.ts';
import type { AppModel } from '../../src/app/engine/types.ts';
import { WorkerRpc } from '../../src/app/engine/workerRpc.ts';
import { isAbort, supersededError } from '../../src/app/logic/errors.ts';
import { Latest } from '../../src/app/logic/latest.ts';
import type { CachedModelEntry } from '../../src/app/logic/modelCacheIndex.ts';
import { ModelLibrary, type KeptModels } from '../../src/app/logic/modelLibrary.ts';
import { requestStream } from '../../src/app/useFrameSource.ts';

interface Call {
  msg: Parameters<ModelWorker['request']>[0];
  options: RequestOptions;
  resolve(m: WorkerModel): void;
  reject(e: Error): void;
  settled: boolean;
}

/** A model worker that answers when the test says, and (like a slow worker) ignores aborts unless told. */
class FakeWorker implements ModelWorker {
  readonly calls: Call[] = [];
  constructor(private readonly honourAbort = false) {}
  get inFlight(): number {
    return this.calls.filter((c) => !c.settled).length;
  }
  request(msg: Call['msg'], options: RequestOptions = {}): Promise<WorkerModel> {
    return new Promise((resolve, reject) => {
      const call: Call = {
        msg, options, settled: false,
        resolve: (m) => { call.settled = true; resolve(m); },
        reject: (e) => { call.settled = true; reject(e); },
      };
      if (this.honourAbort) options.signal?.addEventListener('abort', () => call.reject(options.signal!.reason as Error));
      this.calls.push(call);
    });
  }
}

class FakeStore implements KeptModels {
  available = true;
  entries: CachedModelEntry[] = [];
  async list() { return this.entries; }
  async add(e: CachedModelEntry) { this.entries = [e, ...this.entries.filter((x) => x.id !== e.id)]; return this.entries; }
  async file(id: string) { return new Blob([id]); }
  async remove(id: string) { this.entries = this.entries.filter((x) => x.id !== id); return this.entries; }
}

const builtinModel: AppModel = { id: 'builtin:test', name: 'Built-in', config: TINY_CONFIG, weights: new Map(), trained: true };

function converted(name: string): WorkerModel {
  const entry: CachedModelEntry = { id: name.replace(/\W/g, '-'), name, bytes: 1, addedAt: name.length, summary: { embedDims: TINY_CONFIG.embedDims, numClasses: 10, timeSteps: 2, kd: false, labels: null } };
  return { config: TINY_CONFIG, weights: new Map(), entry, cached: true };
}

const file = (name: string) => new File([name], name);
/** Lets pending promise callbacks run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

function library(worker = new FakeWorker(), store = new FakeStore()) {
  const lib = new ModelLibrary({ worker, store, builtin: async () => ({ model: builtinModel, note: null }) });
  return { lib, worker, store };
}

describe('the model library: the last checkpoint chosen is the one that runs', () => {
  test('a second checkpoint 0.2 s after the first: the second runs, whatever order they finish in', async () => {
    const { lib, worker, store } = library();
    await lib.useBuiltin(false);
    void lib.openCheckpoint(file('first.pth'));
    void lib.openCheckpoint(file('second.safetensors'));
    const [first, second] = worker.calls;
    expect(first.options.signal!.aborted).toBe(true);
    expect(second.options.signal!.aborted).toBe(false);
    // The first one's progress does not flip the bar back to its name.
    first.options.progress!('reading checkpoint', 0.5);
    expect(lib.getState().progress?.file).toBe('second.safetensors');
    second.options.progress!('loading weights', null);
    expect(lib.getState().progress).toEqual({ file: 'second.safetensors', phase: 'loading weights', fraction: null });
    second.resolve(converted('second.safetensors'));
    await settle();
    expect(lib.getState().model?.name).toBe('second.safetensors');
    expect(lib.getState().progress).toBeNull();
    // The first answers last (a worker that did not stop): it does not replace the second.
    first.resolve(converted('first.pth'));
    await settle();
    expect(lib.getState().model?.name).toBe('second.safetensors');
    expect(lib.getState().model?.id).toBe('cache:second-safetensors');
    // It was converted and kept, so it is listed among the kept models all the same.
    expect(store.entries.map((e) => e.name).sort()).toEqual(['first.pth', 'second.safetensors']);
  });

  test('progress redraws the page only when the whole percent or the phase changes', async () => {
    const { lib, worker } = library();
    void lib.openCheckpoint(file('big.pth'));
    let redraws = 0;
    lib.subscribe(() => redraws++);
    const report = worker.calls[0].options.progress!;
    for (let done = 0; done < 1000; done++) report('reading checkpoint', done / 1000);
    // 0 % was shown when the load began: 1 % to 99 % are new.
    expect(redraws).toBe(99);
    expect(lib.getState().progress).toEqual({ file: 'big.pth', phase: 'reading checkpoint', fraction: 0.99 });
    report('saving to browser storage', null);
    report('saving to browser storage', null);
    expect(redraws).toBe(100);
  });

  test('a bad second file while the first converts: its error stays, and the first never runs', async () => {
    const { lib, worker } = library();
    await lib.useBuiltin(false);
    void lib.openCheckpoint(file('good.pth'));
    void lib.openCheckpoint(file('bad.pth'));
    const [good, bad] = worker.calls;
    bad.reject(new Error('bad.pth: a Git LFS pointer, not the checkpoint itself'));
    await settle();
    expect(lib.getState().error).toBe('Could not open bad.pth: a Git LFS pointer, not the checkpoint itself');
    expect(lib.getState().progress).toBeNull();
    good.resolve(converted('good.pth'));
    await settle();
    expect(lib.getState().model).toBe(builtinModel);
    expect(lib.getState().error).toBe('Could not open bad.pth: a Git LFS pointer, not the checkpoint itself');
    expect(lib.getState().progress).toBeNull();
  });

  test('a first file failing after a second was chosen shows no error', async () => {
    const { lib, worker } = library();
    void lib.openCheckpoint(file('a.pth'));
    void lib.loadCached('kept');
    await settle();
    const [a, kept] = worker.calls;
    a.reject(new Error('a.pth: not a checkpoint'));
    await settle();
    expect(lib.getState().error).toBeNull();
    expect(lib.getState().progress?.file).toBe('kept');
    kept.resolve(converted('kept'));
    await settle();
    expect(lib.getState().model?.id).toBe('cache:kept');
  });

  test('a worker that honours the abort: the superseded request ends at once, as an abort, with nothing shown', async () => {
    const { lib, worker } = library(new FakeWorker(true));
    void lib.openCheckpoint(file('a.pth'));
    void lib.useBuiltin(true);
    await settle();
    expect(worker.inFlight).toBe(0);
    expect(lib.getState()).toMatchObject({ model: builtinModel, error: null, progress: null });
  });

  test('the built-in model answering after a checkpoint was chosen does not replace it', async () => {
    let answer!: (m: { model: AppModel; note: string | null }) => void;
    const worker = new FakeWorker();
    const lib = new ModelLibrary({ worker, store: new FakeStore(), builtin: () => new Promise((r) => (answer = r)) });
    lib.start(false);
    void lib.openCheckpoint(file('mine.pth'));
    worker.calls[0].resolve(converted('mine.pth'));
    await settle();
    answer({ model: builtinModel, note: 'random weights' });
    await settle();
    expect(lib.getState().model?.name).toBe('mine.pth');
    expect(lib.getState().note).toBeNull();
  });

  test('a model the engine cannot run: the one before runs again; a stale report is ignored', async () => {
    const { lib, worker } = library();
    await lib.useBuiltin(false);
    void lib.openCheckpoint(file('big.pth'));
    worker.calls[0].resolve(converted('big.pth'));
    await settle();
    const big = lib.getState().model!;
    lib.engineFailed(builtinModel, 'stale');
    expect(lib.getState().error).toBeNull();
    lib.engineFailed(big, 'big.pth could not be run on WebGPU: out of memory');
    expect(lib.getState()).toMatchObject({ model: builtinModel, error: 'big.pth could not be run on WebGPU: out of memory' });
  });
});

describe('the camera: a choice made while it starts wins', () => {
  function fakeStream() {
    const track = { stopped: false, stop() { this.stopped = true; } };
    return { track, stream: { getTracks: () => [track] } as unknown as MediaStream };
  }

  test('a stream arriving after a sample was chosen is stopped and not used', async () => {
    const latest = new Latest();
    const { track, stream } = fakeStream();
    let grant!: (s: MediaStream) => void;
    const starting = requestStream(() => new Promise((r) => (grant = r)), { video: true }, latest.begin());
    latest.begin(); // the visitor picks a sample
    grant(stream);
    expect(await starting).toBeNull();
    expect(track.stopped).toBe(true);
  });

  test('a stream for the current choice is used', async () => {
    const { track, stream } = fakeStream();
    expect(await requestStream(async () => stream, { video: true }, new Latest().begin())).toBe(stream);
    expect(track.stopped).toBe(false);
  });
});

describe('WorkerRpc: progress, cancelling, crashes', () => {
  function fakeWorker() {
    const posted: { type: string; id: number }[] = [];
    const w = { onmessage: null as ((e: { data: unknown }) => void) | null, onerror: null as ((e: { message: string }) => void) | null, postMessage: (m: { type: string; id: number }) => posted.push(m), terminate() {} };
    return { w, posted, answer: (data: unknown) => w.onmessage!({ data }) };
  }
  type Req = { type: 'work'; id: number } | { type: 'cancel'; id: number };
  type Res = { type: 'progress' | 'done' | 'error'; id: number; message?: string };

  test('progress reports do not settle; an aborted call rejects at once, tells the worker, and ignores the late answer', async () => {
    const { w, posted, answer } = fakeWorker();
    const failures: string[] = [];
    const rpc = new WorkerRpc<Req, Res>(w as unknown as Worker, 'test', (m) => failures.push(m));
    const seen: Res[] = [];
    const control = new AbortController();
    const call = rpc.call({ type: 'work' }, { onProgress: (m) => seen.push(m), signal: control.signal });
    answer({ type: 'progress', id: 1 });
    expect(seen).toEqual([{ type: 'progress', id: 1 }]);
    expect(rpc.inFlight).toBe(1);
    control.abort(supersededError());
    await expect(call).rejects.toSatisfy(isAbort);
    expect(posted).toEqual([{ type: 'work', id: 1 }, { type: 'cancel', id: 1 }]);
    expect(rpc.inFlight).toBe(0);
    answer({ type: 'done', id: 1 });
    const next = rpc.call({ type: 'work' });
    answer({ type: 'done', id: 2 });
    await expect(next).resolves.toEqual({ type: 'done', id: 2 });
    const crashed = rpc.call({ type: 'work' });
    w.onerror!({ message: 'out of memory' });
    await expect(crashed).rejects.toThrowError('the test worker failed: out of memory');
    expect(failures).toEqual(['the test worker failed: out of memory']);
  });
});
