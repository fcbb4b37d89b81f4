import { formatFps } from '../logic/rateMeter.ts';

interface Props {
  paused: boolean;
  canRun: boolean;
  fps: number;
  latencyMs: number;
  dropped: number;
  frames: number;
  onPause(): void;
  onResume(): void;
  onStep(): void;
}

/** Pause, single step, and how fast frames go through. */
export function FrameControls({ paused, canRun, fps, latencyMs, dropped, frames, onPause, onResume, onStep }: Props) {
  return (
    <div className="frame-controls">
      {paused ? (
        <button type="button" onClick={onResume} disabled={!canRun}>
          Resume
        </button>
      ) : (
        <button type="button" onClick={onPause} disabled={!canRun}>
          Pause
        </button>
      )}
      <button type="button" onClick={onStep} disabled={!canRun}>
        Step one frame
      </button>
      <span className="fps" data-testid="fps" aria-live="off">
        {formatFps(fps)}
      </span>
      <span className="note">
        {latencyMs > 0 ? `${latencyMs.toFixed(0)} ms per frame` : '— ms per frame'} · {frames} frames · {dropped} dropped (one frame in flight)
      </span>
    </div>
  );
}
