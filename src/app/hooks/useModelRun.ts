/**
 * Loading what runs into the engine: the graph of the planned model, tasks and size, loaded each
 * time one of them changes. A change while a load is under way drops that load (the engine loads
 * one after another; only the last is used). A model the engine cannot run is reported through
 * `onFailed` (the library then goes back to the model before).
 */
import { useEffect, useMemo, useState } from 'react';
import { buildModelGraph, type ModelGraph } from '../../model/graph.ts';
import type { AppModel, InferenceEngine } from '../engine/types.ts';
import { oneLine } from '../logic/errors.ts';
import { layerIndex, membranesToRead, type RunPlan } from '../logic/view.ts';

export function useModelRun(engine: InferenceEngine | null, model: AppModel | null, plan: RunPlan, onFailed: (model: AppModel, message: string) => void) {
  const { config, inputSize } = plan;
  const graph = useMemo(() => (config ? buildModelGraph(config, inputSize, inputSize) : null), [config, inputSize]);
  const index = useMemo(() => layerIndex(graph), [graph]);
  const [loaded, setLoaded] = useState<ModelGraph | null>(null);

  useEffect(() => {
    if (!engine || !model || !graph) return;
    let cancelled = false;
    setLoaded(null);
    const options = { height: graph.inputHeight, width: graph.inputWidth, membranes: membranesToRead(index, graph.config.timeSteps) };
    engine.load({ ...model, config: graph.config }, options).then(
      () => !cancelled && setLoaded(graph),
      (e: unknown) => !cancelled && onFailed(model, `${model.name} could not be run on ${engine.backendName}: ${oneLine(e)}`),
    );
    return () => {
      cancelled = true;
    };
  }, [engine, model, graph, index, onFailed]);

  const ready = loaded !== null && loaded === graph;
  const membraneLayers = useMemo(() => (engine && ready ? engine.membraneLayers() : new Set<string>()), [engine, ready, loaded]);
  return { graph, index, loaded: ready, membraneLayers };
}
