/**
 * `auto` on a software GPU adapter: the engine kept after timing WebGPU against ONNX Runtime Web
 * on the first model (`logic/engineTrial.ts`), and the sentence that says which and why. Without a
 * rival (a hardware adapter, or a backend asked for) the choice passes through untimed.
 *
 * The trial loads the model into both engines itself; the app's own load (`useModelRun`) follows
 * into the engine kept. The engine not kept is disposed (`useEngine` still owns both).
 */
import { useEffect, useRef, useState } from 'react';
import { buildModelGraph } from '../../model/graph.ts';
import type { EngineChoice } from '../engine/createEngine.ts';
import type { AppModel } from '../engine/types.ts';
import { runTrial, trialInput, trialPending } from '../logic/engineTrial.ts';
import type { RunPlan } from '../logic/view.ts';

export interface TrialState {
  /** What runs: the choice itself, or once timed the engine kept; null while the trial runs. */
  choice: EngineChoice | null;
  /** "ONNX Runtime Web (wasm, 2 threads) kept: …", or the trial under way; null without a trial. */
  message: string | null;
}

export function useEngineTrial(choice: EngineChoice | null, model: AppModel | null, plan: RunPlan): TrialState {
  const [verdict, setVerdict] = useState<{ of: EngineChoice; kept: EngineChoice; message: string } | null>(null);
  // Trials run one after another (a model changed mid-trial must not be timed beside the old one).
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const decided = verdict?.of === choice ? verdict : null;
  const { config, inputSize } = plan;

  useEffect(() => {
    const rival = choice?.rival;
    if (!choice || !rival || decided || !model || !config) return;
    let cancelled = false;
    const graph = buildModelGraph(config, inputSize, inputSize);
    const run = {
      model: { ...model, config: graph.config },
      options: { height: graph.inputHeight, width: graph.inputWidth, membranes: [] },
      input: trialInput(graph.inputHeight, graph.inputWidth),
    };
    const adapter = choice.engine.softwareAdapter ?? choice.engine.adapterName;
    const trial = queue.current.then(async () => {
      if (cancelled) return;
      const out = await runTrial(choice.engine, rival, adapter, run);
      if (cancelled) return;
      out.drop?.dispose();
      setVerdict({ of: choice, kept: { engine: out.keep, fallbackReason: null }, message: out.message });
    });
    queue.current = trial.catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [choice, decided, model, config, inputSize]);

  if (!choice?.rival) return { choice, message: null };
  if (!decided) return { choice: null, message: trialPending(choice.engine.backendName, choice.engine.softwareAdapter ?? choice.engine.adapterName) };
  return { choice: decided.kept, message: decided.message };
}
