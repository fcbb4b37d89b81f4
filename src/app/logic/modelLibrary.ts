/**
 * The models the app can run and which one runs: the built-in model (or random weights), opened
 * checkpoints (converted in the model worker, kept in OPFS) and the kept ones, with the progress
 * and the error of loading. The last choice wins: every load cancels the one still running, so
 * neither its progress, nor its model, nor its failure shows once the visitor has chosen again.
 *
 * Plain TypeScript (no React): `useModelLibrary` subscribes to it; tests drive it with a fake
 * worker and store.
 */
import type { ModelWorker, RequestOptions } from '../engine/modelWorkerClient.ts';
import type { AppModel } from '../engine/types.ts';
import { isAbort, oneLine } from './errors.ts';
import { Latest } from './latest.ts';
import type { CachedModelEntry } from './modelCacheIndex.ts';

export interface ModelProgress {
  phase: string;
  fraction: number | null;
  file: string;
}

export interface LibraryState {
  model: AppModel | null;
  /** Said with the model (why random weights run, why it is not kept). */
  note: string | null;
  /** The load under way, if any. */
  progress: ModelProgress | null;
  error: string | null;
  cached: CachedModelEntry[];
  /** False when this browser has no OPFS (nothing is kept). */
  cacheAvailable: boolean;
}

/** The converted checkpoints kept in the browser (`ModelStore`). */
export interface KeptModels {
  readonly available: boolean;
  list(): Promise<CachedModelEntry[]>;
  add(entry: CachedModelEntry): Promise<CachedModelEntry[]>;
  file(id: string): Promise<Blob>;
  remove(id: string): Promise<CachedModelEntry[]>;
}

export interface LibraryDeps {
  worker: ModelWorker;
  store: KeptModels;
  /** The built-in model (with a note when random weights stand in), or random weights. */
  builtin(randomOnly: boolean, options: RequestOptions): Promise<{ model: AppModel; note: string | null }>;
}

type Loaded = { model: AppModel; note: string | null };

export class ModelLibrary {
  private state: LibraryState = { model: null, note: null, progress: null, error: null, cached: [], cacheAvailable: true };
  /** The model that ran before the current one: it runs again if the current one cannot. */
  private previous: AppModel | null = null;
  private readonly latest = new Latest();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly deps: LibraryDeps) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): LibraryState => this.state;

  /** Model-worker requests not answered yet. */
  get requestsInFlight(): number {
    return this.deps.worker.inFlight;
  }

  private set(patch: Partial<LibraryState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  /** The first model (built-in or random) and the list of kept ones. */
  start(randomOnly: boolean): void {
    void this.useBuiltin(randomOnly);
    this.deps.store.list().then(
      (cached) => this.set({ cached, cacheAvailable: this.deps.store.available }),
      () => this.set({ cacheAvailable: false }),
    );
  }

  /** Drops whatever is still loading. */
  cancel(): void {
    this.latest.cancel();
    if (this.state.progress) this.set({ progress: null });
  }

  /**
   * One load: cancels the previous one, shows progress for `file`, and uses the model `work` makes
   * unless a later load began meanwhile; a failure shows as `failure(e)`, and only if still current.
   */
  private async load(file: string, start: Omit<ModelProgress, 'file'>, work: (options: RequestOptions) => Promise<Loaded>, failure: (e: unknown) => string): Promise<void> {
    const signal = this.latest.begin();
    this.set({ error: null, progress: { file, ...start } });
    const progress = (phase: string, fraction: number | null) => {
      if (signal.aborted) return;
      // Whole percents only: a checkpoint reports every tensor, and each report redraws the page.
      const shown = fraction === null ? null : Math.floor(fraction * 100) / 100;
      const now = this.state.progress;
      if (now?.file === file && now.phase === phase && now.fraction === shown) return;
      this.set({ progress: { file, phase, fraction: shown } });
    };
    try {
      const { model, note } = await work({ progress, signal });
      if (signal.aborted) return;
      this.previous = this.state.model;
      this.set({ model, note, progress: null });
    } catch (e) {
      if (signal.aborted || isAbort(e)) return;
      this.set({ error: failure(e), progress: null });
    }
  }

  useBuiltin(randomOnly: boolean): Promise<void> {
    return this.load(randomOnly ? 'random weights' : 'built-in model', { phase: 'loading', fraction: null },
      (options) => this.deps.builtin(randomOnly, options),
      (e) => `Could not make the built-in model: ${oneLine(e)}`);
  }

  /** Converts a checkpoint in the worker (which keeps it in OPFS) and runs it. */
  openCheckpoint(file: File): Promise<void> {
    return this.load(file.name, { phase: 'reading checkpoint', fraction: 0 }, async (options) => {
      const m = await this.deps.worker.request({ type: 'convert', file, name: file.name }, options);
      let note = m.cacheNote ?? null;
      if (m.entry && m.cached) {
        // The file is kept, so it is listed even when a later choice means it does not run; and the
        // model runs even when the list cannot be updated.
        try {
          this.set({ cached: await this.deps.store.add(m.entry) });
        } catch (e) {
          note = `not listed among the kept models: ${oneLine(e)}`;
        }
      }
      const id = m.entry ? `cache:${m.entry.id}` : `file:${file.name}`;
      return { model: { id, name: file.name, config: m.config, weights: m.weights, inputs: m.inputs, trained: true }, note };
    }, (e) => {
      // The reader's own line already names the file (the CLI prints the same line).
      const reason = oneLine(e);
      return `Could not open ${reason.startsWith(`${file.name}: `) ? reason : `${file.name}: ${reason}`}`;
    });
  }

  /** Runs a kept model. */
  loadCached(id: string): Promise<void> {
    const name = this.state.cached.find((e) => e.id === id)?.name ?? id;
    return this.load(name, { phase: 'loading from browser storage', fraction: null }, async (options) => {
      const blob = await this.deps.store.file(id);
      const m = await this.deps.worker.request({ type: 'parse', blob, name }, options);
      return { model: { id: `cache:${id}`, name, config: m.config, weights: m.weights, inputs: m.inputs, trained: true }, note: null };
    }, (e) => `Could not load the cached model: ${oneLine(e)}`);
  }

  async deleteCached(id: string): Promise<void> {
    try {
      this.set({ cached: await this.deps.store.remove(id) });
    } catch (e) {
      this.set({ error: `Could not delete the cached model: ${oneLine(e)}` });
    }
  }

  /** Shows a problem with a file the visitor gave (not a model load: nothing is cancelled). */
  reportError(message: string): void {
    this.set({ error: message });
  }

  /** `model` could not be run by the engine: says so, and goes back to the model that ran before. */
  readonly engineFailed = (model: AppModel, message: string): void => {
    if (this.state.model !== model) return;
    const prev = this.previous;
    this.previous = null;
    this.set(prev && prev !== model ? { error: message, model: prev } : { error: message });
  };
}
