/**
 * Activity over time as React state: each new frame of the running graph is added to the history
 * (`logic/spikeHistory.ts`: per-layer firing rates, the raster of the chosen layer, the recent
 * event-driven vs dense comparisons). Updated while rendering the frame that brought it, so a
 * frame costs no extra render.
 */
import { useState } from 'react';
import type { ModelGraph } from '../../model/graph.ts';
import type { EngineFrame } from '../engine/types.ts';
import { appendFrame, EMPTY_HISTORY, type SpikeHistory } from '../logic/spikeHistory.ts';

interface Frame {
  result: EngineFrame;
  graph: ModelGraph;
}

/** `graph`: the graph that should run (frames of another are not added); `layer`, `shape`: the raster's layer. */
export function useSpikeHistory(frame: Frame | null, graph: ModelGraph | null, layer: string, shape: readonly [number, number, number] | undefined): SpikeHistory {
  const [state, setState] = useState<{ seen: Frame | null; history: SpikeHistory }>({ seen: null, history: EMPTY_HISTORY });
  if (frame !== state.seen) {
    const history = frame && frame.graph === graph ? appendFrame(state.history, frame, layer, shape) : state.history;
    setState({ seen: frame, history });
  }
  return state.history;
}
