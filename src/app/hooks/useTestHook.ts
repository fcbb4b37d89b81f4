/**
 * The test and console hook, `window.__spikeformer`: what runs and how far it got, and a way to
 * lose the GPU device (on engines that have one: `InferenceEngine.loseDevice`).
 */
import { useEffect, useRef } from 'react';
import type { InferenceEngine } from '../engine/types.ts';

export interface HookState {
  backend: string | null;
  adapter: string | null;
  /** Frames done on the current source. */
  frames: number;
  /** Times a lost GPU device was recreated. */
  recoveries: number;
  model: string | null;
  inputSize: number;
  /** The source whose frame was shown last. */
  source: string | null;
  /** Model-worker requests (conversions, parses) not answered yet. */
  modelRequests: number;
}

export interface SpikeformerHook {
  loseDevice(): void;
  state(): HookState;
}

declare global {
  interface Window {
    __spikeformer?: SpikeformerHook;
  }
}

/** Installs the hook; `state` is read when the hook is asked (so it is always current). */
export function useTestHook(engine: InferenceEngine | null, state: () => Omit<HookState, 'backend' | 'adapter' | 'recoveries'>): void {
  const read = useRef(state);
  read.current = state;
  useEffect(() => {
    window.__spikeformer = {
      loseDevice: () => {
        if (!engine?.loseDevice) throw new Error(`${engine?.backendName ?? 'no engine'}: there is no GPU device to lose`);
        engine.loseDevice();
      },
      state: () => ({ backend: engine?.backendName ?? null, adapter: engine?.adapterName ?? null, recoveries: engine?.recoveries ?? 0, ...read.current() }),
    };
  }, [engine]);
}
