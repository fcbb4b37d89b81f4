/** A bounded buffer of (time, value) samples covering the last few seconds: feeds the sparklines. */
export class TimeSeriesBuffer {
  private readonly t: Float64Array;
  private readonly v: Float64Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number, readonly maxAgeMs: number) {
    if (!(capacity > 0)) throw new Error('TimeSeriesBuffer: capacity must be positive');
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Adds a sample at time `now` (ms), dropping the oldest when full and those older than `maxAgeMs`. */
  push(now: number, value: number): void {
    if (this.count === this.capacity) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    const i = (this.start + this.count) % this.capacity;
    this.t[i] = now;
    this.v[i] = value;
    this.count++;
    this.prune(now);
  }

  /** Drops samples older than `maxAgeMs` before `now`. */
  prune(now: number): void {
    while (this.count > 0 && now - this.t[this.start] > this.maxAgeMs) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  /** Samples, oldest first. */
  samples(): { t: number; v: number }[] {
    const out: { t: number; v: number }[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.start + k) % this.capacity;
      out.push({ t: this.t[i], v: this.v[i] });
    }
    return out;
  }

  clear(): void {
    this.start = 0;
    this.count = 0;
  }
}
