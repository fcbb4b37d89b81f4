/**
 * The frame loop: at each animation frame, offers the source's picture to a `FrameScheduler` (one
 * frame in flight, the rest dropped), runs it on the engine and keeps what the views show (the
 * frame, fps and latency, the sparsity history). Pause, resume and single steps; a still picture
 * runs again when the views ask for other maps. A new source, engine, graph or size starts a new
 * loop: a frame still in flight for the old one is dropped. While the view asks to compare
 * event-driven with dense kernels, one frame in N does (`CompareCadence`: N keeps the dense pass
 * within a quarter of the frame rate).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ModelGraph } from '../../model/graph.ts';
import { modelSizeBitmap } from '../engine/frames.ts';
import type { EngineRequest, InferenceEngine } from '../engine/types.ts';
import { oneLine } from '../logic/errors.ts';
import { FrameScheduler } from '../logic/frameScheduler.ts';
import { pickJob, type LoopControl } from '../logic/frameLoop.ts';
import { frameTotals } from '../logic/frameTotals.ts';
import { CompareCadence } from '../logic/modeComparison.ts';
import { RateMeter } from '../logic/rateMeter.ts';
import { TimeSeriesBuffer } from '../logic/timeSeries.ts';
import { sameRequest, SPARKLINE_MS, type LoopStats, type ShownFrame } from '../logic/view.ts';
import type { FrameSource } from '../useFrameSource.ts';

interface LoopState {
  frame: ShownFrame | null;
  stats: LoopStats;
  history: { t: number; v: number }[];
  error: string | null;
}

const START: LoopState = { frame: null, stats: { fps: 0, latency: 0, dropped: 0, frames: 0 }, history: [], error: null };

/** The element has a picture to read. */
function hasPicture(el: HTMLVideoElement | HTMLImageElement): boolean {
  if (el instanceof HTMLVideoElement) return el.readyState >= 2 && el.videoWidth > 0;
  return el.complete && el.naturalWidth > 0;
}

/** `graph`: the graph the engine has loaded (null while none is, and nothing runs). */
export function useFrameLoop(engine: InferenceEngine | null, graph: ModelGraph | null, source: FrameSource | null, request: EngineRequest) {
  const [state, setState] = useState<LoopState>(START);
  const [paused, setPaused] = useState(false);
  const control = useRef<LoopControl>({ paused: false, step: false, dirty: true });
  const requestRef = useRef(request);
  /** The name of the source whose frame was shown last (for the test hook). */
  const shownSource = useRef<string | null>(null);
  const meter = useRef(new RateMeter());
  const sparsity = useRef(new TimeSeriesBuffer(1200, SPARKLINE_MS));

  // A view asking for other maps runs the picture again (when it does not change by itself).
  useEffect(() => {
    if (!sameRequest(requestRef.current, request)) control.current.dirty = true;
    requestRef.current = request;
  }, [request]);

  useEffect(() => {
    control.current.dirty = true;
    if (!engine || !graph || !source) return;
    let stopped = false;
    let raf = 0;
    let lastVideoFrames = -1;
    /** The model-size picture of the last processed frame: re-run when the view changes while paused. */
    let last: ImageBitmap | null = null;
    const size = graph.inputHeight;
    meter.current.reset();
    const cadence = new CompareCadence();
    const scheduler = new FrameScheduler<ImageBitmap | null>(async (reuse) => {
      const t0 = performance.now();
      const bitmap = reuse ?? (await modelSizeBitmap(source.element, size, size));
      const request = requestRef.current;
      const compare = cadence.due(!!request.compare);
      const result = await engine.runFrame(bitmap, { ...request, compare });
      cadence.record(compare, result.comparison);
      if (stopped) return;
      last = bitmap;
      shownSource.current = source.name;
      const now = performance.now();
      meter.current.record(now, now - t0);
      const totals = frameTotals(graph, result.layers);
      sparsity.current.push(now, totals.sparsity);
      setState({
        frame: { result, input: bitmap, graph, totals },
        history: sparsity.current.samples(),
        error: null,
        stats: { fps: meter.current.fps(now), latency: meter.current.latency(), dropped: scheduler.stats.dropped, frames: scheduler.stats.completed + 1 },
      });
    }, (e) => {
      if (!stopped) setState((s) => ({ ...s, error: `A frame failed: ${oneLine(e)}` }));
    });
    /** A new video frame since the last look (always true where the browser cannot tell). */
    const newPicture = (): boolean => {
      const q = (source.element as HTMLVideoElement).getVideoPlaybackQuality?.();
      if (!q) return true;
      if (q.totalVideoFrames === lastVideoFrames) return false;
      lastVideoFrames = q.totalVideoFrames;
      return true;
    };
    const tick = () => {
      if (stopped) return;
      const c = control.current;
      if (hasPicture(source.element)) {
        const job = pickJob(c, source.live, source.live && source.element instanceof HTMLVideoElement && newPicture());
        if (job && scheduler.offer(job === 'again' && source.live ? last : null)) {
          c.step = false;
          c.dirty = false;
        }
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => {
      stopped = true;
      cancelAnimationFrame(raf);
    };
  }, [engine, graph, source]);

  const setPause = useCallback((p: boolean) => {
    control.current.paused = p;
    setPaused(p);
  }, []);
  const step = useCallback(() => {
    control.current.step = true;
  }, []);

  return { ...state, paused, shownSource, pause: () => setPause(true), resume: () => setPause(false), step };
}
