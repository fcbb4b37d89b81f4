/**
 * Keys for the whole page: space pauses and resumes, the right arrow steps one frame. Keys typed
 * into a control (a button, a menu, a field, the firing-rate chart, which takes the arrows to pick
 * a layer) are left to it.
 */
import { useEffect, useRef } from 'react';

export interface KeyActions {
  /** Pauses when running, resumes when paused. */
  onToggle(): void;
  onStep(): void;
}

/** What a key pressed on `target` does here: 'toggle', 'step' or nothing. */
export function pageKey(key: string, target: EventTarget | null, modifiers: boolean): 'toggle' | 'step' | null {
  if (modifiers) return null;
  const el = target as { closest?: (selector: string) => unknown } | null;
  if (el?.closest?.('input, select, textarea, button, a[href], [contenteditable], [tabindex], [role="slider"]')) return null;
  if (key === ' ' || key === 'Spacebar') return 'toggle';
  if (key === 'ArrowRight') return 'step';
  return null;
}

export function useKeyboard(actions: KeyActions): void {
  const ref = useRef(actions);
  ref.current = actions;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const what = pageKey(e.key, e.target, e.ctrlKey || e.metaKey || e.altKey);
      if (!what) return;
      e.preventDefault();
      if (what === 'toggle') ref.current.onToggle();
      else ref.current.onStep();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
