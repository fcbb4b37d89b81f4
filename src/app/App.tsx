/**
 * SpikeFormer Web: Meta-SpikeFormer classifying the webcam live, with every spike visible.
 *
 * The app wires sources (webcam, files, samples), a model (built-in, random, or an opened
 * checkpoint converted and cached in the browser) and an inference engine (WebGPU, else ONNX
 * Runtime Web on wasm, else the CPU reference; the last two in workers) into a frame loop with one
 * frame in flight, and hands each frame's result to the views.
 *
 * Address options (for demos and tests): `?backend=auto|webgpu|onnx-wasm|cpu`, `?size=N` (input N×N),
 * `?model=random` (skip the built-in model), `?task=classify|detect|segment|all` (the task switch's start).
 */
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { availableTasks, configForTasks } from '../model/config.ts';
import { buildModelGraph, lifOps, type LifOp, type ModelGraph } from '../model/graph.ts';
import { maskHistogram, taskResults } from '../tasks/index.ts';
import { AttentionView } from './components/AttentionView.tsx';
import { BackendStatus } from './components/BackendStatus.tsx';
import { EnergyPanel } from './components/EnergyPanel.tsx';
import { FiringRatePanel } from './components/FiringRatePanel.tsx';
import { FrameControls } from './components/FrameControls.tsx';
import { MembranePlot } from './components/MembranePlot.tsx';
import { ModelPicker, type ModelProgress } from './components/ModelPicker.tsx';
import { SourcePicker } from './components/SourcePicker.tsx';
import { SpikeMapView, type NeuronRef } from './components/SpikeMapView.tsx';
import { TaskOverlay } from './components/TaskOverlay.tsx';
import { TaskPanel } from './components/TaskPanel.tsx';
import { TopPredictions } from './components/TopPredictions.tsx';
import { loadBuiltinModel, randomTinyModel } from './engine/builtinModel.ts';
import { BACKEND_PREFERENCES, createEngine, fallbackMessage, requestedMessage, type BackendPreference, type EngineChoice } from './engine/createEngine.ts';
import { modelSizeBitmap } from './engine/frames.ts';
import { ModelStore } from './engine/modelStore.ts';
import { ModelWorkerClient } from './engine/modelWorkerClient.ts';
import type { AppModel, EngineFrame, EngineRequest } from './engine/types.ts';
import { WebGpuEngine } from './engine/webGpuEngine.ts';
import { FrameScheduler } from './logic/frameScheduler.ts';
import { frameTotals, type FrameTotals } from './logic/frameTotals.ts';
import { labelSetFor } from './logic/labels.ts';
import type { CachedModelEntry } from './logic/modelCacheIndex.ts';
import { softmax, topK } from './logic/predictions.ts';
import { RateMeter } from './logic/rateMeter.ts';
import { channelAt, membraneTrace, type ChannelChoice } from './logic/spikeGrid.ts';
import { attentionBlocks } from '../model/stages.ts';
import { SCENE_INPUT_SIZE, taskChoices, tasksFor, type TaskChoice } from './logic/taskOverlay.ts';
import { TimeSeriesBuffer } from './logic/timeSeries.ts';
import { useFrameSource, type FrameSource } from './useFrameSource.ts';

const INPUT_SIZES = [32, 48, 64, 96, 128, 160, 192, 224];
/** Membrane read-back for every layer only while it stays this small (bytes per frame). */
const MEMBRANE_BUDGET = 48 * 1024 * 1024;
const SPARKLINE_MS = 10_000;
const DEFAULT_LAYER = 'ConvBlock1_1.0.Conv.lif1';
const CHECKPOINT_EXT = /\.(pth|pt|safetensors|bin|tar)$/i;
/** Shown by the views that need spike maps or membranes when the engine returns counts only. */
const NEEDS_MAPS = 'needs the WebGPU or CPU backend';

interface ShownFrame {
  result: EngineFrame;
  input: ImageBitmap;
  graph: ModelGraph;
  totals: FrameTotals;
}

interface Stats {
  fps: number;
  latency: number;
  dropped: number;
  frames: number;
}

/** Test and console hook: `window.__spikeformer`. */
export interface SpikeformerHook {
  loseDevice(): void;
  /** `frames` counts the frames of the current source; `source` names the source of the frame shown last. */
  state(): { backend: string | null; adapter: string | null; frames: number; recoveries: number; model: string | null; inputSize: number; source: string | null };
}

declare global {
  interface Window {
    __spikeformer?: SpikeformerHook;
  }
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

const TASK_CHOICES: TaskChoice[] = ['classify', 'detect', 'segment', 'all'];

function readParams(): { backend: BackendPreference; size: number | null; randomOnly: boolean; task: TaskChoice } {
  const p = new URLSearchParams(typeof location !== 'undefined' ? location.search : '');
  const b = p.get('backend');
  const size = Number(p.get('size'));
  return {
    backend: BACKEND_PREFERENCES.includes(b as BackendPreference) ? (b as BackendPreference) : 'auto',
    size: Number.isInteger(size) && size >= 16 && size % 16 === 0 ? size : null,
    randomOnly: p.get('model') === 'random',
    task: TASK_CHOICES.includes(p.get('task') as TaskChoice) ? (p.get('task') as TaskChoice) : 'classify',
  };
}

export function App() {
  const params = useMemo(readParams, []);
  const src = useFrameSource();
  const source = src.source;

  // ---- engine ---------------------------------------------------------------------------------
  const [choice, setChoice] = useState<EngineChoice | null>(null);
  const [engineError, setEngineError] = useState<string | null>(null);
  const [events, setEvents] = useState<string[]>([]);
  const engine = choice?.engine ?? null;

  useEffect(() => {
    let cancelled = false;
    let made: EngineChoice | null = null;
    createEngine(params.backend).then(
      (c) => {
        if (cancelled) {
          c.engine.dispose();
          return;
        }
        made = c;
        setChoice(c);
      },
      (e: unknown) => !cancelled && setEngineError(`No inference engine could be started: ${oneLine(e)}`),
    );
    return () => {
      cancelled = true;
      made?.engine.dispose();
    };
  }, [params.backend]);

  useEffect(() => {
    if (!engine) return;
    return engine.subscribe((e) => setEvents((list) => [...list.slice(-2), e.message]));
  }, [engine]);

  // ---- model ----------------------------------------------------------------------------------
  const [worker] = useState(() => new ModelWorkerClient());
  const [store] = useState(() => new ModelStore());
  const [model, setModelState] = useState<AppModel | null>(null);
  const [modelNote, setModelNote] = useState<string | null>(null);
  const [progress, setProgress] = useState<ModelProgress | null>(null);
  const [modelError, setModelError] = useState<string | null>(null);
  const [cached, setCached] = useState<CachedModelEntry[]>([]);
  const [cacheAvailable, setCacheAvailable] = useState(true);
  const [sizeChoice, setSizeChoice] = useState<number | null>(params.size);
  const previousModel = useRef<AppModel | null>(null);

  const setModel = useCallback((m: AppModel, note: string | null = null) => {
    setModelState((old) => {
      previousModel.current = old;
      return m;
    });
    setModelNote(note);
    setSizeChoice(params.size);
  }, [params.size]);

  const loadBuiltin = useCallback(async (randomOnly: boolean, isCancelled: () => boolean = () => false) => {
    setModelError(null);
    setProgress({ file: randomOnly ? 'random weights' : 'built-in model', phase: 'loading', fraction: null });
    try {
      const { model: m, note } = randomOnly
        ? { model: await randomTinyModel(worker), note: null }
        : await loadBuiltinModel(worker);
      if (!isCancelled()) setModel(m, note);
    } catch (e) {
      if (!isCancelled()) setModelError(`Could not make the built-in model: ${oneLine(e)}`);
    } finally {
      if (!isCancelled()) setProgress(null);
    }
  }, [setModel, worker]);

  useEffect(() => {
    let cancelled = false;
    void loadBuiltin(params.randomOnly, () => cancelled);
    store.list().then((list) => {
      if (cancelled) return;
      setCached(list);
      setCacheAvailable(store.available);
    }, () => setCacheAvailable(false));
    return () => {
      cancelled = true;
    };
  }, [params.randomOnly, store, loadBuiltin]);

  const openCheckpoint = useCallback(async (file: File) => {
    setModelError(null);
    setProgress({ file: file.name, phase: 'reading checkpoint', fraction: 0 });
    try {
      const m = await worker.request({ type: 'convert', file, name: file.name }, (phase, fraction) => setProgress({ file: file.name, phase, fraction }));
      let note = m.cacheNote ?? null;
      if (m.entry && m.cached) {
        // The model runs even when the list of kept models cannot be updated.
        try {
          setCached(await store.add(m.entry));
        } catch (e) {
          note = `not listed among the kept models: ${oneLine(e)}`;
        }
      }
      setModel({ id: m.entry ? `cache:${m.entry.id}` : `file:${file.name}`, name: file.name, config: m.config, weights: m.weights, trained: true }, note);
    } catch (e) {
      // The reader's own line already names the file (the CLI prints the same line).
      const reason = oneLine(e);
      setModelError(`Could not open ${reason.startsWith(`${file.name}: `) ? reason : `${file.name}: ${reason}`}`);
    } finally {
      setProgress(null);
    }
  }, [setModel, store, worker]);

  const loadCached = useCallback(async (id: string) => {
    const entry = cached.find((e) => e.id === id);
    setModelError(null);
    setProgress({ file: entry?.name ?? id, phase: 'loading from browser storage', fraction: null });
    try {
      const file = await store.file(id);
      const m = await worker.request({ type: 'parse', blob: file, name: entry?.name ?? id });
      setModel({ id: `cache:${id}`, name: entry?.name ?? id, config: m.config, weights: m.weights, trained: true });
    } catch (e) {
      setModelError(`Could not load the cached model: ${oneLine(e)}`);
    } finally {
      setProgress(null);
    }
  }, [cached, setModel, store, worker]);

  const deleteCached = useCallback(async (id: string) => {
    try {
      setCached(await store.remove(id));
    } catch (e) {
      setModelError(`Could not delete the cached model: ${oneLine(e)}`);
    }
  }, [store]);

  // ---- graph and engine load ------------------------------------------------------------------
  const [taskChoice, setTaskChoice] = useState<TaskChoice>(params.task);
  const modelTasks = useMemo(() => (model ? availableTasks(model.config) : ['classify' as const]), [model]);
  const choices = useMemo(() => taskChoices(modelTasks), [modelTasks]);
  const task = choices.includes(taskChoice) ? taskChoice : 'classify';
  const tasks = useMemo(() => tasksFor(task, modelTasks), [task, modelTasks]);
  const scene = tasks.length > 1;
  /** The model restricted to the chosen tasks: the engines build graphs for what the config has. */
  const runModel = useMemo(() => (model ? { ...model, config: configForTasks(model.config, tasks) } : null), [model, tasks]);
  const maxSize = engine?.maxInputSize ?? 64;
  // Scene tasks (detect, segment) run at the scene size; classification at the crop size.
  const defaultSize = scene ? SCENE_INPUT_SIZE : model?.config.numClasses === 1000 ? 224 : 64;
  const inputSize = Math.min(sizeChoice ?? defaultSize, maxSize);
  const inputSizes = INPUT_SIZES.filter((s) => s <= maxSize);
  const graph = useMemo(() => (runModel ? buildModelGraph(runModel.config, inputSize, inputSize) : null), [runModel, inputSize]);
  const lifs = useMemo<LifOp[]>(() => (graph ? lifOps(graph) : []), [graph]);
  const shapes = useMemo(() => new Map(lifs.map((l) => [l.name, graph!.shapes.get(l.output)! as [number, number, number]])), [lifs, graph]);
  const [loadedGraph, setLoadedGraph] = useState<ModelGraph | null>(null);

  useEffect(() => {
    if (!engine || !model || !runModel || !graph) return;
    let cancelled = false;
    setLoadedGraph(null);
    const T = model.config.timeSteps;
    const membraneBytes = lifs.reduce((a, l) => a + shapes.get(l.name)!.reduce((x, y) => x * y, 1), 0) * T * 4;
    const membranes = membraneBytes <= MEMBRANE_BUDGET ? lifs.map((l) => l.name) : [];
    engine.load(runModel, { height: inputSize, width: inputSize, membranes }).then(
      () => {
        if (!cancelled) {
          setEngineError(null);
          setLoadedGraph(graph);
        }
      },
      (e: unknown) => {
        if (cancelled) return;
        setModelError(`${model.name} could not be run on ${engine.backendName}: ${oneLine(e)}`);
        // Keep the app working: go back to the model that ran before.
        const prev = previousModel.current;
        if (prev && prev !== model) {
          previousModel.current = null;
          setModelState(prev);
        }
      },
    );
    return () => {
      cancelled = true;
    };
  }, [engine, model, runModel, graph, inputSize, lifs, shapes]);

  // ---- selection ------------------------------------------------------------------------------
  const [layerChoice, setLayer] = useState(DEFAULT_LAYER);
  const [channel, setChannel] = useState<ChannelChoice>('sum');
  const [t, setT] = useState(0);
  const [neuronChoice, setNeuron] = useState<NeuronRef | null>(null);
  const [blockChoice, setBlock] = useState('block3.0');
  const layer = shapes.has(layerChoice) ? layerChoice : (lifs.find((l) => l.name === DEFAULT_LAYER) ?? lifs[0])?.name ?? '';
  const blocks = useMemo(() => attentionBlocks(lifs.map((l) => l.name)), [lifs]);
  const block = blocks.includes(blockChoice) ? blockChoice : blocks[0] ?? '';
  const T = model?.config.timeSteps ?? 1;
  const membraneLayers = useMemo(() => (engine && loadedGraph ? engine.membraneLayers() : new Set<string>()), [engine, loadedGraph]);
  const neuron = neuronChoice && shapes.has(neuronChoice.layer) ? neuronChoice : null;

  const hasSpikeMaps = engine?.hasSpikeMaps ?? true;
  const request: EngineRequest = useMemo(() => {
    if (!hasSpikeMaps) return { spikeMaps: [], membranes: [] };
    const maps = new Set<string>();
    if (layer) maps.add(layer);
    if (block) for (const k of ['q_lif', 'k_lif', 'v_lif', 'attn_lif']) maps.add(`${block}.attn.${k}`);
    const memLayer = neuron?.layer ?? layer;
    return { spikeMaps: [...maps], membranes: memLayer && membraneLayers.has(memLayer) ? [memLayer] : [] };
  }, [layer, block, neuron, membraneLayers, hasSpikeMaps]);
  const requestRef = useRef(request);
  requestRef.current = request;

  // ---- frame loop -----------------------------------------------------------------------------
  const [frame, setFrame] = useState<ShownFrame | null>(null);
  const [stats, setStats] = useState<Stats>({ fps: 0, latency: 0, dropped: 0, frames: 0 });
  const [runError, setRunError] = useState<string | null>(null);
  const [paused, setPaused] = useState(false);
  const control = useRef({ paused: false, step: false, dirty: true });
  const meter = useRef(new RateMeter());
  const sparsity = useRef(new TimeSeriesBuffer(1200, SPARKLINE_MS));
  const [history, setHistory] = useState<{ t: number; v: number }[]>([]);
  /** The name of the source whose frame was shown last (for the test hook). */
  const shownSource = useRef<string | null>(null);

  useEffect(() => {
    control.current.dirty = true;
  }, [request, source]);

  useEffect(() => {
    if (!engine || !loadedGraph || !source || loadedGraph !== graph) return;
    let stopped = false;
    let raf = 0;
    let lastVideoFrames = -1;
    const g = loadedGraph;
    const size = inputSize;
    meter.current.reset();
    /** The model-size picture of the last processed frame: re-run when the view changes while paused. */
    let last: ImageBitmap | null = null;
    const scheduler = new FrameScheduler<{ source: FrameSource; reuse: ImageBitmap | null }>(async ({ source: from, reuse }) => {
      const t0 = performance.now();
      const bitmap = reuse ?? (await modelSizeBitmap(from.element, size, size));
      const result = await engine.runFrame(bitmap, requestRef.current);
      if (stopped) return;
      last = bitmap;
      shownSource.current = from.name;
      const now = performance.now();
      meter.current.record(now, now - t0);
      const totals = frameTotals(g, result.layers);
      sparsity.current.push(now, totals.sparsity);
      setFrame({ result, input: bitmap, graph: g, totals });
      setHistory(sparsity.current.samples());
      setRunError(null);
      setStats({ fps: meter.current.fps(now), latency: meter.current.latency(), dropped: scheduler.stats.dropped, frames: scheduler.stats.completed + 1 });
    }, (e) => {
      if (!stopped) setRunError(`A frame failed: ${oneLine(e)}`);
    });
    const ready = () => {
      const el = s.element;
      if (el instanceof HTMLVideoElement) return el.readyState >= 2 && el.videoWidth > 0;
      return el.complete && el.naturalWidth > 0;
    };
    const s = source;
    /** A new picture to process: a new video frame, or (for images) a changed request. */
    const newPicture = (): boolean => {
      const el = s.element;
      if (!(el instanceof HTMLVideoElement)) return false;
      const q = el.getVideoPlaybackQuality?.();
      if (!q) return true;
      const n = q.totalVideoFrames;
      if (n === lastVideoFrames) return false;
      lastVideoFrames = n;
      return true;
    };
    const tick = () => {
      if (stopped) return;
      const c = control.current;
      if (ready()) {
        const fresh = s.live ? newPicture() : false;
        let job: { source: FrameSource; reuse: ImageBitmap | null } | null = null;
        if (c.step || (s.live && !c.paused && fresh)) job = { source: s, reuse: null };
        // A still picture, or a paused video whose view changed: run the same picture again.
        else if (c.dirty && (!s.live || c.paused)) job = { source: s, reuse: s.live ? last : null };
        if (job && scheduler.offer(job)) {
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
  }, [engine, loadedGraph, graph, source, inputSize]);

  // Test and console hook.
  const hookState = useRef({ backend: null as string | null, adapter: null as string | null, frames: 0, model: null as string | null, inputSize });
  hookState.current = { backend: engine?.backendName ?? null, adapter: engine?.adapterName ?? null, frames: stats.frames, model: model?.id ?? null, inputSize };
  useEffect(() => {
    window.__spikeformer = {
      loseDevice: () => {
        if (!(engine instanceof WebGpuEngine)) throw new Error('the engine is not WebGPU: there is no device to lose');
        engine.loseDevice();
      },
      state: () => ({ ...hookState.current, source: shownSource.current, recoveries: engine instanceof WebGpuEngine ? engine.recoveries : 0 }),
    };
  }, [engine]);

  // ---- what the views show --------------------------------------------------------------------
  const shown = frame && frame.graph === graph ? frame : null;
  const labels = useMemo(() => (model ? labelSetFor(model.config.labels, model.config.numClasses) : null), [model]);
  const predictions = useMemo(
    () => (shown && labels ? topK(softmax(shown.result.logits), 5, labels) : []),
    [shown, labels],
  );
  const heads = runModel?.config.heads ?? null;
  // Boxes and mask: decoded on the GPU by the WebGPU runtime, else on the CPU from the head maps.
  const decoded = useMemo(() => (shown && graph ? taskResults(shown.result, graph) : null), [shown, graph]);
  const detections = heads?.detect ? decoded?.detections ?? null : null;
  const mask = heads?.segment ? decoded?.mask ?? null : null;
  const segHistogram = useMemo(() => (mask && heads?.segment ? maskHistogram(mask, heads.segment.numClasses) : null), [mask, heads]);
  const [maskOpacity, setMaskOpacity] = useState(0.5);
  const headsMissing = shown && heads && (heads.detect || heads.segment) && !detections && !mask
    ? `${engine?.backendName ?? 'This backend'} returned no task-head outputs: detection and segmentation need the WebGPU or CPU backend.`
    : undefined;
  const layerMap = shown?.result.spikeMaps.get(layer);
  const layerShape = shapes.get(layer);
  const tShown = Math.min(t, T - 1);
  // Until a neuron is clicked, follow one at the centre of the chosen layer.
  const followed: NeuronRef | null = neuron ?? (layerShape
    ? {
      layer,
      channel: layerMap ? channelAt(layerMap, layerShape, tShown, layerShape[1] >> 1, layerShape[2] >> 1) : 0,
      y: layerShape[1] >> 1,
      x: layerShape[2] >> 1,
    }
    : null);
  const followedShape = followed ? shapes.get(followed.layer) : undefined;
  const membrane = followed ? shown?.result.membranes.get(followed.layer) : undefined;
  const trace = followed && membrane && followedShape ? membraneTrace(membrane, followedShape, T, followed.channel, followed.y, followed.x) : null;
  const threshold = lifs.find((l) => l.name === followed?.layer)?.threshold ?? 1;
  // ONNX Runtime returns per-layer counts only: the map views say so rather than show old maps.
  const mapsMissing = hasSpikeMaps ? undefined : `${NEEDS_MAPS} (${engine?.backendName ?? 'this backend'} returns per-layer spike counts only)`;
  const membraneMissing = mapsMissing ? NEEDS_MAPS : followed && !membraneLayers.has(followed.layer) && loadedGraph
    ? 'membrane read-back is off for a model this large'
    : undefined;

  const fallback = choice?.fallbackReason && engine
    ? params.backend === 'cpu' || params.backend === 'onnx-wasm'
      ? requestedMessage(engine, inputSize, params.backend)
      : fallbackMessage(choice.fallbackReason, engine, inputSize)
    : null;

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (!file) return;
    if (CHECKPOINT_EXT.test(file.name)) void openCheckpoint(file);
    else if (!src.openFile(file)) setModelError(`${file.name}: not an image, a video or a checkpoint (.pth, .safetensors)`);
  };

  const canRun = !!source && !!loadedGraph;
  // Picking a layer (firing-rate chart or spike-map menu) follows that layer's centre neuron again.
  const pickLayer = (l: string) => {
    setLayer(l);
    setNeuron(null);
  };

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
        <BackendStatus backend={engine?.backendName ?? null} adapter={engine?.adapterName ?? null} fallback={fallback} events={events} error={engineError ?? runError} />
        <FrameControls
          paused={paused}
          canRun={canRun}
          fps={stats.fps}
          latencyMs={stats.latency}
          dropped={stats.dropped}
          frames={stats.frames}
          onPause={() => {
            control.current.paused = true;
            setPaused(true);
          }}
          onResume={() => {
            control.current.paused = false;
            setPaused(false);
          }}
          onStep={() => {
            control.current.step = true;
          }}
        />
      </header>

      <div className="grid top-grid">
        <SourcePicker
          src={src}
          onUnsupportedFile={(f) => (CHECKPOINT_EXT.test(f.name) ? void openCheckpoint(f) : setModelError(`${f.name}: not an image or a video`))}
          overlay={scene ? <TaskOverlay inputSize={inputSize} detections={detections} mask={mask} maskOpacity={maskOpacity} mirrored={source?.mirrored ?? false} /> : null}
        />
        <TopPredictions predictions={predictions} labelsNote={labels?.description ?? '…'} trained={model?.trained ?? true} />
        <EnergyPanel totals={shown?.totals ?? null} history={history} windowMs={SPARKLINE_MS} />
        <TaskPanel
          choices={choices}
          choice={task}
          onChoice={(c) => {
            setTaskChoice(c);
            setSizeChoice(params.size);
          }}
          inputSize={inputSize}
          detections={detections}
          segClasses={mask ? heads?.segment?.classNames ?? null : null}
          segHistogram={segHistogram}
          maskOpacity={maskOpacity}
          onMaskOpacity={setMaskOpacity}
          unavailable={headsMissing}
        />
      </div>

      <FiringRatePanel
        layers={shown?.result.layers ?? []}
        selected={layer}
        onSelect={pickLayer}
      />

      <div className="grid two-grid">
        <SpikeMapView
          lifs={lifs}
          shapes={shapes}
          timeSteps={T}
          layer={layer}
          channel={channel}
          t={tShown}
          map={layerMap}
          unavailable={mapsMissing}
          input={shown?.input ?? null}
          mirrored={source?.mirrored ?? false}
          neuron={followed}
          onLayer={pickLayer}
          onChannel={setChannel}
          onTime={setT}
          onNeuron={setNeuron}
        />
        <MembranePlot
          neuron={followed}
          trace={trace}
          threshold={threshold}
          unavailable={membraneMissing}
          note={mapsMissing && `The membrane plot ${mapsMissing}.`}
        />
      </div>

      <AttentionView
        blocks={blocks}
        block={block}
        onBlock={setBlock}
        shapes={shapes}
        maps={shown?.result.spikeMaps ?? new Map()}
        unavailable={mapsMissing}
        timeSteps={T}
        t={tShown}
        mirrored={source?.mirrored ?? false}
      />

      <ModelPicker
        model={model}
        modelNote={modelNote}
        loading={progress}
        error={modelError}
        cached={cached}
        cacheAvailable={cacheAvailable}
        inputSize={inputSize}
        inputSizes={inputSizes}
        onInputSize={setSizeChoice}
        onOpen={(f) => void openCheckpoint(f)}
        onUseCached={(id) => void loadCached(id)}
        onDeleteCached={(id) => void deleteCached(id)}
        onUseBuiltin={() => void loadBuiltin(false)}
        onUseRandom={() => void loadBuiltin(true)}
      />

      <footer className="app-footer note">
        Model: Meta-SpikeFormer (Yao et al., “Spike-driven Transformer V2”, ICLR 2024). Energy: the paper's 45 nm estimate.
        ImageNet class names from @tensorflow-models/mobilenet (Apache-2.0).
      </footer>
    </main>
  );
}
