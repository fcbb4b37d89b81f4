/**
 * The inference engine's life: created once for the backend the address asks for (WebGPU, else
 * ONNX Runtime Web, else the CPU reference, with the reason for any fallback), disposed with the
 * app, and its events (a lost GPU device, its recreation by the engine) kept for the status line.
 */
import { useEffect, useState } from 'react';
import { createEngine, type BackendPreference, type EngineChoice } from '../engine/createEngine.ts';
import { oneLine } from '../logic/errors.ts';

export interface EngineState {
  choice: EngineChoice | null;
  /** Why no engine could be started. */
  error: string | null;
  /** The last few engine events ("The GPU device was lost …"). */
  events: string[];
}

export function useEngine(preference: BackendPreference): EngineState {
  const [state, setState] = useState<Omit<EngineState, 'events'>>({ choice: null, error: null });
  const [events, setEvents] = useState<string[]>([]);

  useEffect(() => {
    let cancelled = false;
    let made: EngineChoice | null = null;
    createEngine(preference).then(
      (choice) => {
        if (cancelled) return choice.engine.dispose();
        made = choice;
        setState({ choice, error: null });
      },
      (e: unknown) => !cancelled && setState({ choice: null, error: `No inference engine could be started: ${oneLine(e)}` }),
    );
    return () => {
      cancelled = true;
      made?.engine.dispose();
    };
  }, [preference]);

  const engine = state.choice?.engine;
  useEffect(() => engine?.subscribe((e) => setEvents((list) => [...list.slice(-2), e.message])), [engine]);

  return { ...state, events };
}
