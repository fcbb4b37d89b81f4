/**
 * The models the app can run and which one runs: the built-in model (or random weights), opened
 * checkpoints (converted in the model worker, kept in OPFS) and the kept ones, with the progress
 * and the error of loading. The last choice wins: every load cancels the one still running, so
 * neither its progress, nor its model, nor its failure shows once the visitor has chosen again.
 *
 * Plain TypeScript (no React): `useModelLibrary` subscribes to it; tests drive it with a fake
 * worker and store.
 */
import type { ModelWorker, RequestOptions, WorkerModel } from '../engine/modelWorkerClient.ts';
import type { AppModel } from '../engine/types.ts';
import { isAbort, oneLine } from './errors.ts';
import { Latest } from './latest.ts';
import type { CachedModelEntry } from './modelCacheIndex.ts';
import { downloadModel, fileNameOfUrl, type DownloadOptions, type DownloadResult } from './modelDownload.ts';

export interface ModelProgress {
  phase: string;
  fraction: number | null;
  file: string;
  /** A download the visitor may cancel ("Load from URL"). */
  cancellable?: boolean;
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
  /** Downloads a checkpoint ("Load from URL"); `downloadModel` with the page's fetch unless given. */
  download?(url: string, options: DownloadOptions): Promise<DownloadResult>;
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

  /**
   * The first model (built-in or random, or the checkpoint at `url` when the address names one: the
   * built-in model runs if that cannot be loaded) and the list of kept ones.
   */
  start(randomOnly: boolean, url?: string | null): void {
    if (url) void this.openUrl(url).then(async () => {
      if (this.state.model || this.state.progress) return;
      // The address's model could not be loaded: its error stays said while the built-in one runs.
      const error = this.state.error;
      await this.useBuiltin(randomOnly);
      if (error && !this.state.error) this.set({ error });
    });
    else void this.useBuiltin(randomOnly);
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
      this.set({ progress: { file, phase, fraction: shown, ...(start.cancellable ? { cancellable: true } : {}) } });
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
    return this.load(file.name, { phase: 'reading checkpoint', fraction: 0 }, (options) => this.convert(file, file.name, options),
      (e) => `Could not open ${named(file.name, e)}`);
  }

  /**
   * Downloads the checkpoint at `url` (progress, cancel, resumed when the body breaks off), then
   * converts and keeps it like an opened file; the model remembers its address (for links).
   */
  openUrl(url: string): Promise<void> {
    const name = fileNameOfUrl(url);
    const download = this.deps.download ?? downloadModel;
    return this.load(name, { phase: 'downloading', fraction: 0, cancellable: true }, async (options) => {
      const { blob } = await download(url, {
        signal: options.signal,
        progress: (done, total) => options.progress?.('downloading', total ? Math.min(1, done / total) : null),
      });
      const loaded = await this.convert(blob, name, options);
      return { ...loaded, model: { ...loaded.model, url } };
    }, (e) => `Could not load ${named(name, e)}`);
  }

  /** Converts `blob` in the worker (which keeps it in OPFS), lists it among the kept models. */
  private async convert(blob: Blob, name: string, options: RequestOptions): Promise<Loaded> {
    const m: WorkerModel = await this.deps.worker.request({ type: 'convert', file: blob, name }, options);
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
    const id = m.entry ? `cache:${m.entry.id}` : `file:${name}`;
    return { model: { id, name, config: m.config, weights: m.weights, inputs: m.inputs, classNames: m.classNames, noDigitBelow: m.noDigitBelow, trained: true }, note };
  }

  /** Runs a kept model. */
  loadCached(id: string): Promise<void> {
    const name = this.state.cached.find((e) => e.id === id)?.name ?? id;
    return this.load(name, { phase: 'loading from browser storage', fraction: null }, async (options) => {
      const blob = await this.deps.store.file(id);
      const m = await this.deps.worker.request({ type: 'parse', blob, name }, options);
      return { model: { id: `cache:${id}`, name, config: m.config, weights: m.weights, inputs: m.inputs, classNames: m.classNames, noDigitBelow: m.noDigitBelow, trained: true }, note: null };
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

/** `e`'s line naming `name` once (the reader's and the download's own lines already name it). */
function named(name: string, e: unknown): string {
  const reason = oneLine(e);
  return reason.startsWith(`${name}: `) || reason.startsWith('http') ? reason : `${name}: ${reason}`;
}
