import { useRef, useState } from 'react';
import { describeEntry, type CachedModelEntry } from '../logic/modelCacheIndex.ts';
import type { AppModel } from '../engine/types.ts';
import type { ModelProgress } from '../logic/modelLibrary.ts';


interface Props {
  model: AppModel | null;
  modelNote: string | null;
  loading: ModelProgress | null;
  error: string | null;
  cached: CachedModelEntry[];
  cacheAvailable: boolean;
  inputSize: number;
  inputSizes: number[];
  onInputSize(size: number): void;
  onOpen(file: File): void;
  /** "Load from URL": download, convert and keep the checkpoint at this address. */
  onOpenUrl(url: string): void;
  /** Stops the download under way. */
  onCancel(): void;
  onUseCached(id: string): void;
  onDeleteCached(id: string): void;
  onUseBuiltin(): void;
  onUseRandom(): void;
}

/**
 * The model that runs, checkpoints to open, and the converted ones kept in this browser. Nothing is
 * disabled while a model loads: choosing another cancels that load (the last choice wins).
 */
export function ModelPicker(props: Props) {
  const { model, loading, error, cached } = props;
  const fileRef = useRef<HTMLInputElement>(null);
  const [url, setUrl] = useState('');
  const c = model?.config;
  return (
    <section className="panel" aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      {model && c ? (
        <div className="model-current">
          <p>
            <strong>{model.name}</strong>
            {model.note && <span className="badge">{model.note}</span>}
          </p>
          <p className="note">
            Meta-SpikeFormer, dims {c.embedDims.join('·')}, {c.depths[0] + c.depths[1]} transformer blocks, {c.numClasses} classes,
            T = {c.timeSteps} time step{c.timeSteps > 1 ? 's' : ''}
            {c.kd ? ', distillation head' : ''}.
          </p>
        </div>
      ) : (
        <p className="note">Loading the model…</p>
      )}
      {props.modelNote && <p className="note">{props.modelNote}</p>}
      <div className="controls">
        <button type="button" onClick={() => fileRef.current?.click()}>
          Open checkpoint…
        </button>
        <input
          ref={fileRef}
          type="file"
          accept=".pth,.pt,.safetensors"
          hidden
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) props.onOpen(file);
            e.target.value = '';
          }}
          data-testid="checkpoint-input"
        />
        <button type="button" onClick={props.onUseBuiltin}>
          Built-in model
        </button>
        <button type="button" onClick={props.onUseRandom}>
          Random weights
        </button>
        <label>
          Input size{' '}
          <select value={props.inputSize} onChange={(e) => props.onInputSize(Number(e.target.value))}>
            {props.inputSizes.map((s) => (
              <option key={s} value={s}>
                {s}×{s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p className="note">Official Meta-SpikeFormer .pth checkpoints or our .safetensors; you can also drop a file anywhere on the page.</p>
      <form
        className="controls url-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (url.trim()) props.onOpenUrl(url.trim());
        }}
      >
        <label>
          Checkpoint URL{' '}
          <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://…/model.safetensors" required />
        </label>
        <button type="submit">Load from URL</button>
      </form>
      <p className="note">The server must allow this page to read the file (CORS); a broken download resumes where the server allows it.</p>
      {loading && (
        <div className="progress" role="status">
          <label>
            {loading.file}: {loading.phase}
            {loading.fraction !== null ? ` ${Math.round(loading.fraction * 100)} %` : '…'}
            <progress value={loading.fraction ?? undefined} max={1} />
          </label>
          {loading.cancellable && (
            <button type="button" onClick={props.onCancel}>
              Cancel download
            </button>
          )}
        </div>
      )}
      {error && (
        <p className="status status-bad" role="alert">
          {error}
        </p>
      )}
      <h3 className="small-heading">Kept in this browser</h3>
      {!props.cacheAvailable ? (
        <p className="note">This browser has no origin-private file system: opened checkpoints are not kept.</p>
      ) : cached.length === 0 ? (
        <p className="note">None yet: opened checkpoints are converted once and kept here.</p>
      ) : (
        <ul className="cached-models" aria-label="Cached models">
          {cached.map((e) => (
            <li key={e.id} className={model?.id === `cache:${e.id}` ? 'current' : undefined}>
              <span>
                <strong>{e.name}</strong>
                <br />
                <span className="note">{describeEntry(e)}</span>
              </span>
              <span className="row-buttons">
                <button type="button" onClick={() => props.onUseCached(e.id)} disabled={model?.id === `cache:${e.id}`} aria-label={`Use ${e.name}`}>
                  Use
                </button>
                <button type="button" onClick={() => props.onDeleteCached(e.id)} disabled={!!loading} aria-label={`Delete ${e.name}`}>
                  Delete
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
