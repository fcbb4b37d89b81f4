interface Props {
  backend: string | null;
  adapter: string | null;
  fallback: string | null;
  /** On a software GPU adapter: the engine timed faster and kept, with both times. */
  trial: string | null;
  events: string[];
  error: string | null;
}

/** What actually runs — backend and adapter — and why, whenever it is not WebGPU. Never a silent fallback. */
export function BackendStatus({ backend, adapter, fallback, trial, events, error }: Props) {
  return (
    <div className="backend" aria-live="polite">
      {backend ? (
        <p className="backend-line">
          <span className="backend-name" data-testid="backend-name">
            Backend: {backend}
          </span>{' '}
          <span className="note" data-testid="adapter-name">
            · {adapter}
          </span>
        </p>
      ) : (
        <p className="backend-line">Starting the inference engine…</p>
      )}
      {trial && (
        <p className="status status-info" data-testid="engine-trial">
          {trial}
        </p>
      )}
      {fallback && (
        <p className="status status-warn" role="alert">
          {fallback}
        </p>
      )}
      {events.map((m, i) => (
        <p key={i} className="status status-info">
          {m}
        </p>
      ))}
      {error && (
        <p className="status status-bad" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
