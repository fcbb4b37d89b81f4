/**
 * The inference engine's life: created once for the backend the address asks for (WebGPU, else
 * ONNX Runtime Web, else the CPU reference, with the reason for any fallback; on a software GPU
 * adapter WebGPU and ONNX Runtime Web both, for `useEngineTrial` to keep one), disposed with the
 * app, and its events (a lost GPU device, its recreation by the engine) kept for the status line.
 */
import { useEffect, useState } from 'react';
import { createEngine, type BackendPreference, type EngineChoice } from '../engine/createEngine.ts';
import type { InferenceEngine } from '../engine/types.ts';
import { oneLine } from '../logic/errors.ts';

export interface EngineState {
  choice: EngineChoice | null;
  /** Why no engine could be started. */
  error: string | null;
  /** The last few engine events ("The GPU device was lost …"). */
  events: string[];
}

/** Disposes the engine and its rival (disposing the one a trial dropped again is harmless). */
function dispose(choice: EngineChoice): void {
  choice.engine.dispose();
  choice.rival?.then((r) => r.dispose(), () => {});
}

export function useEngine(preference: BackendPreference): EngineState {
  const [state, setState] = useState<Omit<EngineState, 'events'>>({ choice: null, error: null });
  const [events, setEvents] = useState<string[]>([]);

  useEffect(() => {
    let cancelled = false;
    let made: EngineChoice | null = null;
    createEngine(preference).then(
      (choice) => {
        if (cancelled) return dispose(choice);
        made = choice;
        setState({ choice, error: null });
      },
      (e: unknown) => !cancelled && setState({ choice: null, error: `No inference engine could be started: ${oneLine(e)}` }),
    );
    return () => {
      cancelled = true;
      if (made) dispose(made);
    };
  }, [preference]);

  const choice = state.choice;
  useEffect(() => {
    if (!choice) return;
    const listen = (engine: InferenceEngine) => engine.subscribe((e) => setEvents((list) => [...list.slice(-2), e.message]));
    const stops = [listen(choice.engine)];
    let done = false;
    choice.rival?.then((r) => !done && stops.push(listen(r)), () => {});
    return () => {
      done = true;
      for (const stop of stops) stop();
    };
  }, [choice]);

  return { ...state, events };
}
