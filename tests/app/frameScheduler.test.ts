import { describe, expect, test } from 'vitest';
import { FrameScheduler } from '../../src/app/logic/frameScheduler.ts';
import { formatFps, RateMeter } from '../../src/app/logic/rateMeter.ts';

/** A promise with its resolve/reject exposed. */
function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('FrameScheduler', () => {
  test('one frame in flight: frames offered meanwhile are dropped, not queued', async () => {
    const started: number[] = [];
    const pending: ReturnType<typeof deferred>[] = [];
    const s = new FrameScheduler<number>((f) => {
      started.push(f);
      const d = deferred();
      pending.push(d);
      return d.promise;
    });
    expect(s.offer(1)).toBe(true);
    expect(s.inFlight).toBe(true);
    expect(s.offer(2)).toBe(false);
    expect(s.offer(3)).toBe(false);
    expect(started).toEqual([1]);
    pending[0].resolve();
    await tick();
    expect(s.inFlight).toBe(false);
    // The next offer starts the newest frame; 2 and 3 are gone.
    expect(s.offer(4)).toBe(true);
    expect(started).toEqual([1, 4]);
    pending[1].resolve();
    await tick();
    expect(s.stats).toEqual({ offered: 4, started: 2, dropped: 2, completed: 2, failed: 0 });
  });

  test('a failing frame is reported and the scheduler carries on', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const s = new FrameScheduler<string>(async () => {
      if (fail) throw new Error('device lost');
    }, (e) => errors.push(e));
    expect(s.offer('a')).toBe(true);
    await tick();
    expect(errors.map((e) => (e as Error).message)).toEqual(['device lost']);
    expect(s.inFlight).toBe(false);
    fail = false;
    expect(s.offer('b')).toBe(true);
    await tick();
    expect(s.stats.completed).toBe(1);
    expect(s.stats.failed).toBe(1);
  });

  test('a frame given as a function is only made when it will run', async () => {
    let made = 0;
    const d = deferred();
    const s = new FrameScheduler<number>(() => d.promise);
    s.offer(() => ++made);
    s.offer(() => ++made);
    expect(made).toBe(1);
    d.resolve();
    await tick();
  });

  test('a process that throws synchronously does not wedge the scheduler', async () => {
    const errors: unknown[] = [];
    const s = new FrameScheduler<number>(() => {
      throw new Error('boom');
    }, (e) => errors.push(e));
    expect(s.offer(1)).toBe(true);
    await tick();
    expect(errors).toHaveLength(1);
    expect(s.inFlight).toBe(false);
  });
});

describe('RateMeter', () => {
  test('frames per second over the window, mean latency of the last frames', () => {
    const m = new RateMeter(2000, 3);
    expect(m.fps(0)).toBe(0);
    for (let i = 0; i <= 10; i++) m.record(i * 100, 40 + i);
    expect(m.fps(1000)).toBeCloseTo(10, 10);
    expect(m.latency()).toBeCloseTo((48 + 49 + 50) / 3, 10);
    // Long after the last frame the window is empty.
    expect(m.fps(10_000)).toBe(0);
    m.reset();
    expect(m.latency()).toBe(0);
  });

  test('formatFps', () => {
    expect(formatFps(12.345)).toBe('12.3 fps');
    expect(formatFps(0)).toBe('0.0 fps');
    expect(formatFps(143.6)).toBe('144 fps');
  });
});
