/** Frames per second over a sliding window, and the latency of the last frames. */
export class RateMeter {
  private readonly times: number[] = [];
  private readonly latencies: number[] = [];

  constructor(private readonly windowMs = 2000, private readonly latencySamples = 10) {}

  /** Records a frame finished at `now` (ms) that took `latencyMs`. */
  record(now: number, latencyMs: number): void {
    this.times.push(now);
    while (this.times.length > 1 && now - this.times[0] > this.windowMs) this.times.shift();
    this.latencies.push(latencyMs);
    if (this.latencies.length > this.latencySamples) this.latencies.shift();
  }

  /** Frames per second over the window ending at `now`; 0 until two frames are in it. */
  fps(now: number): number {
    const recent = this.times.filter((t) => now - t <= this.windowMs);
    if (recent.length < 2) return 0;
    const span = recent[recent.length - 1] - recent[0];
    return span > 0 ? ((recent.length - 1) * 1000) / span : 0;
  }

  /** Mean latency of the last frames, ms (0 when none). */
  latency(): number {
    if (!this.latencies.length) return 0;
    return this.latencies.reduce((a, b) => a + b, 0) / this.latencies.length;
  }

  reset(): void {
    this.times.length = 0;
    this.latencies.length = 0;
  }
}

/** "12.3 fps" (one decimal below 100, none above). */
export function formatFps(fps: number): string {
  return `${fps >= 100 ? Math.round(fps) : fps.toFixed(1)} fps`;
}
