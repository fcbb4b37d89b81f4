interface Props {
  canDownload: boolean;
  busy: boolean;
  error: string | null;
  /** The last zip saved ("spikeformer-frame-12.zip: 14 files"). */
  saved: string | null;
  /** What the zip lacks on this backend (spike maps on ONNX Runtime Web). */
  note: string | null;
  onDownload(): void;
}

/** "Download this frame": the input, the logits, the spikes in the CLI's format, and the views, as one zip. */
export function FrameDownload({ canDownload, busy, error, saved, note, onDownload }: Props) {
  return (
    <div className="frame-download">
      <button type="button" onClick={onDownload} disabled={!canDownload} aria-describedby="frame-download-note">
        {busy ? 'Packing this frame…' : 'Download this frame'}
      </button>
      <span id="frame-download-note" className="note" data-testid="frame-download-note">
        {note ?? 'A zip: the input as the model saw it, its logits and every spike (the CLI\'s files), and a PNG of each view.'}
      </span>
      {saved && !error && <span className="note" aria-live="polite">Saved {saved}.</span>}
      {error && (
        <span className="status status-bad" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
