/**
 * SpikeFormer Web: Meta-SpikeFormer classifying the webcam live, with every spike visible.
 *
 * The app wires its hooks together — the source (`useFrameSource`), the engine (`useEngine`, and
 * on a software GPU adapter the faster of WebGPU and ONNX Runtime Web: `useEngineTrial`), the
 * model library (`useModelLibrary`), the loaded graph (`useModelRun`) and the frame loop
 * (`useFrameLoop`) — derives what the views show in one place (`logic/view.ts`) and draws it.
 *
 * Address options (for demos and tests): `?backend=auto|webgpu|onnx-wasm|cpu`, `?size=N` (input N×N),
 * `?model=random|<checkpoint URL>`, `?task=classify|detect|segment|all`, `?layer=…&channel=sum|N&t=N`
 * (the spike map's); the address follows the view (`useAddress`), so a link restores it. Keys: space
 * pauses and resumes, the right arrow steps one frame (`useKeyboard`).
 */
import { useMemo, useState, type DragEvent } from 'react';
import { ActivityStrip } from './components/ActivityStrip.tsx';
import { AttentionView } from './components/AttentionView.tsx';
import { BackendStatus } from './components/BackendStatus.tsx';
import { EnergyPanel } from './components/EnergyPanel.tsx';
import { FiringRatePanel } from './components/FiringRatePanel.tsx';
import { FrameControls } from './components/FrameControls.tsx';
import { FrameDownload } from './components/FrameDownload.tsx';
import { MembranePlot } from './components/MembranePlot.tsx';
import { ModeComparisonPanel } from './components/ModeComparisonPanel.tsx';
import { ModelPicker } from './components/ModelPicker.tsx';
import { SourcePicker } from './components/SourcePicker.tsx';
import { SpikeMapView } from './components/SpikeMapView.tsx';
import { SpikeRaster } from './components/SpikeRaster.tsx';
import { TaskOverlay } from './components/TaskOverlay.tsx';
import { TaskPanel } from './components/TaskPanel.tsx';
import { TopPredictions } from './components/TopPredictions.tsx';
import { largestInput } from './engine/createEngine.ts';
import { useAddress } from './hooks/useAddress.ts';
import { useEngine } from './hooks/useEngine.ts';
import { useEngineTrial } from './hooks/useEngineTrial.ts';
import { useFrameDownload } from './hooks/useFrameDownload.ts';
import { useFrameLoop } from './hooks/useFrameLoop.ts';
import { useKeyboard } from './hooks/useKeyboard.ts';
import { useModelLibrary } from './hooks/useModelLibrary.ts';
import { useModelRun } from './hooks/useModelRun.ts';
import { useSpikeHistory } from './hooks/useSpikeHistory.ts';
import { useTestHook } from './hooks/useTestHook.ts';
import { deriveView, initialPicks, isCheckpointFile, readParams, runPlan, selection, type Picks, type SizePick } from './logic/view.ts';
import type { TaskChoice } from '../model/tasks.ts';
import { useFrameSource } from './useFrameSource.ts';

export function App() {
  const params = useMemo(() => readParams(typeof location !== 'undefined' ? location.search : ''), []);
  const src = useFrameSource();
  const engine = useEngine(params.backend);
  const lib = useModelLibrary(params.randomOnly, params.modelUrl);
  const { library, model } = lib;
  const [taskChoice, setTaskChoice] = useState<TaskChoice>(params.task);
  const [sizePick, setSizePick] = useState<SizePick | null>(null);
  const [picks, setPicks] = useState<Picks>(() => initialPicks(params));
  const pick = (p: Partial<Picks>) => setPicks((old) => ({ ...old, ...p }));

  const maxSize = largestInput(engine.choice);
  const plan = useMemo(() => runPlan(model, taskChoice, sizePick, params.size, maxSize), [model, taskChoice, sizePick, params.size, maxSize]);
  const trial = useEngineTrial(engine.choice, model, plan);
  const eng = trial.choice?.engine ?? null;
  const run = useModelRun(eng, model, plan, library.engineFailed);
  const hasSpikeMaps = eng?.hasSpikeMaps ?? true;
  const sel = useMemo(() => selection(picks, run.index, hasSpikeMaps, run.membraneLayers), [picks, run.index, hasSpikeMaps, run.membraneLayers]);
  const loop = useFrameLoop(eng, run.loaded ? run.graph : null, src.source, sel.request);
  const history = useSpikeHistory(loop.frame, run.graph, sel.layer, run.index.shapes.get(sel.layer));
  useTestHook(eng, () => ({
    frames: loop.stats.frames, model: model?.id ?? null, inputSize: plan.inputSize, source: loop.shownSource.current, modelRequests: library.requestsInFlight,
  }));

  const view = deriveView({
    params, engine: { ...engine, choice: trial.choice, trial: trial.message }, library: lib, plan, graph: run.graph, loaded: run.loaded, index: run.index, picks, sel,
    membraneLayers: run.membraneLayers, loop, source: src.source, history,
  });
  useAddress({ params, model, task: taskChoice, picks });
  const canRun = view.controls.canRun;
  useKeyboard({ onToggle: () => canRun && (loop.paused ? loop.resume() : loop.pause()), onStep: () => canRun && loop.step() });
  const download = useFrameDownload({
    engine: eng, frame: run.loaded && loop.frame?.graph === run.graph ? loop.frame : null, index: run.index, tasks: plan.tasks,
    modelName: model?.name ?? 'the model', frameNumber: loop.stats.frames,
  });

  /** A file dropped or opened: a checkpoint to run, else a picture or video for the source. */
  const openFile = (file: File, notMedia: string) => {
    if (isCheckpointFile(file.name)) void library.openCheckpoint(file);
    else if (!src.openFile(file)) library.reportError(`${file.name}: ${notMedia}`);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (file) openFile(file, 'not an image, a video or a checkpoint (.pth, .safetensors)');
  };
  // Picking a layer (firing-rate chart or spike-map menu) follows that layer's centre neuron again.
  const pickLayer = (layer: string) => pick({ layer, neuron: null });

  return (
    <main className="app" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
      <header className="app-header">
        <div>
          <h1>SpikeFormer Web</h1>
          <p className="lead">
            Meta-SpikeFormer, a spiking vision transformer, running in your browser. Its neurons talk in spikes — 0 or 1 — and
            only spikes cost work. Watch every layer fire.
          </p>
        </div>
        <BackendStatus {...view.backend} />
        <FrameControls {...view.controls} onPause={loop.pause} onResume={loop.resume} onStep={loop.step} />
        <FrameDownload {...download} />
      </header>

      <div className="grid top-grid">
        <SourcePicker
          src={src}
          onUnsupportedFile={(f) => openFile(f, 'not an image or a video')}
          overlay={view.overlay ? <TaskOverlay {...view.overlay} /> : null}
        />
        <TopPredictions {...view.predictions} />
        <EnergyPanel {...view.energy} />
        <TaskPanel {...view.tasks} onChoice={(c) => (setTaskChoice(c), setSizePick(null))} onMaskOpacity={(maskOpacity) => pick({ maskOpacity })} />
      </div>

      <FiringRatePanel {...view.firing} onSelect={pickLayer} />

      <ModeComparisonPanel {...view.comparison} selected={sel.layer} onToggle={(compare) => pick({ compare })} />

      <div className="grid two-grid">
        <SpikeRaster {...view.raster} />
        <ActivityStrip {...view.activity} onSelect={pickLayer} />
      </div>

      <div className="grid two-grid">
        <SpikeMapView
          {...view.spikeMap}
          onLayer={pickLayer}
          onChannel={(channel) => pick({ channel })}
          onTime={(t) => pick({ t })}
          onNeuron={(neuron) => pick({ neuron })}
        />
        <MembranePlot {...view.membrane} />
      </div>

      <AttentionView {...view.attention} onBlock={(block) => pick({ block })} />

      <ModelPicker
        {...view.model}
        onInputSize={(size) => setSizePick({ size, model, task: plan.task })}
        onOpen={(f) => void library.openCheckpoint(f)}
        onOpenUrl={(url) => void library.openUrl(url)}
        onCancel={() => library.cancel()}
        onUseCached={(id) => void library.loadCached(id)}
        onDeleteCached={(id) => void library.deleteCached(id)}
        onUseBuiltin={() => void library.useBuiltin(false)}
        onUseRandom={() => void library.useBuiltin(true)}
      />

      <footer className="app-footer note">
        Model: Meta-SpikeFormer (Yao et al., “Spike-driven Transformer V2”, ICLR 2024). Energy: the paper's 45 nm estimate.
        ImageNet class names from @tensorflow-models/mobilenet (Apache-2.0).
      </footer>
    </main>
  );
}
