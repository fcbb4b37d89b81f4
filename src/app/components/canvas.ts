/** Canvas helpers shared by the views: crisp drawing at the device pixel ratio, and sizes that follow the layout. */
import { useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';

/** The scope-like background every view draws on (spikes read best on dark). */
export const CANVAS_BG = '#0b1020';
export const CANVAS_GRID = 'rgba(255,255,255,0.12)';
export const CANVAS_TEXT = 'rgba(255,255,255,0.78)';
export const SPIKE_COLOR = '#5eead4';

/**
 * Sizes `canvas` for `width`×`height` CSS pixels at the device pixel ratio and returns a context
 * whose units are CSS pixels.
 */
export function prepareCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D | null {
  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;
  const w = Math.max(1, Math.round(width * dpr));
  const h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

/** Redraws the canvas whenever `deps` change. */
export function useCanvasDraw(
  width: number,
  height: number,
  draw: (ctx: CanvasRenderingContext2D, width: number, height: number) => void,
  deps: unknown[],
): RefObject<HTMLCanvasElement | null> {
  const ref = useRef<HTMLCanvasElement | null>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas || width <= 0 || height <= 0) return;
    const ctx = prepareCanvas(canvas, width, height);
    if (ctx) draw(ctx, width, height);
  }, [width, height, ...deps]);
  return ref;
}

/** The content width of an element, following resizes. */
export function useElementWidth<T extends HTMLElement>(fallback: number): [RefObject<T | null>, number] {
  const ref = useRef<T | null>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(120, Math.floor(el.clientWidth)));
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

/** A value that changes at most once per `ms` (for screen-reader tables that should not churn every frame). */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    const now = Date.now();
    const wait = last.current + ms - now;
    if (wait <= 0) {
      last.current = now;
      setShown(value);
      return;
    }
    if (pending.current) clearTimeout(pending.current);
    pending.current = setTimeout(() => {
      last.current = Date.now();
      setShown(value);
    }, wait);
    return () => {
      if (pending.current) clearTimeout(pending.current);
    };
  }, [value, ms]);
  return shown;
}
