/**
 * At most one frame in flight: a frame offered while another is being processed is dropped, never
 * queued, so the display never lags behind the camera.
 */
export interface SchedulerStats {
  offered: number;
  started: number;
  dropped: number;
  completed: number;
  failed: number;
}

export class FrameScheduler<F> {
  private busy = false;
  readonly stats: SchedulerStats = { offered: 0, started: 0, dropped: 0, completed: 0, failed: 0 };

  /**
   * @param process handles one frame; the next frame is accepted once its promise settles.
   * @param onError called with a failure of `process` (the scheduler carries on).
   */
  constructor(private readonly process: (frame: F) => Promise<void>, private readonly onError: (error: unknown) => void = () => {}) {}

  get inFlight(): boolean {
    return this.busy;
  }

  /** Starts `frame` when idle and returns true; drops it (returns false) while a frame is in flight. */
  offer(frame: F | (() => F)): boolean {
    this.stats.offered++;
    if (this.busy) {
      this.stats.dropped++;
      return false;
    }
    this.busy = true;
    this.stats.started++;
    let run: Promise<void>;
    try {
      run = this.process(typeof frame === 'function' ? (frame as () => F)() : frame);
    } catch (e) {
      run = Promise.reject(e);
    }
    run.then(
      () => {
        this.stats.completed++;
      },
      (e: unknown) => {
        this.stats.failed++;
        this.onError(e);
      },
    ).finally(() => {
      this.busy = false;
    });
    return true;
  }
}
