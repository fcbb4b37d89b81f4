/**
 * What the app shows, derived in one place from the state its hooks hold (the engine, the model
 * library, the task and size chosen, the picks in the views, the frame loop): plain functions, so
 * they are tested in Node. The components only draw what these return.
 *
 * The stages follow the flow of a frame: the address → what runs (`runPlan`) → the neuron layers
 * of its graph (`layerIndex`) → what each frame asks for (`selection`) → the views (`deriveView`).
 */
import type { ModelConfig } from '../../model/config.ts';
import { lifOps, type LifOp, type ModelGraph } from '../../model/graph.ts';
import { inputForTasks } from '../../model/inputSpec.ts';
import { attentionBlocks } from '../../model/stages.ts';
import { availableTasks, configForTasks, hasSceneTask, isTaskChoice, taskChoices, tasksFor, type Task, type TaskChoice } from '../../model/tasks.ts';
import { maskHistogram, taskResults } from '../../tasks/index.ts';
import type { TaskResults } from '../../runtime/types.ts';
import { BACKEND_PREFERENCES, fallbackMessage, requestedMessage, type BackendPreference, type EngineChoice } from '../engine/createEngine.ts';
import type { AppModel, EngineFrame, EngineRequest } from '../engine/types.ts';
import type { FrameTotals } from './frameTotals.ts';
import { labelSetFor } from './labels.ts';
import { comparisonView } from './modeComparison.ts';
import type { LibraryState } from './modelLibrary.ts';
import { softmax, topK, verdict, type Prediction } from './predictions.ts';
import { activityView, EMPTY_HISTORY, rasterView, type SpikeHistory } from './spikeHistory.ts';
import { channelAt, membraneTrace, type ChannelChoice, type NeuronRef } from './spikeGrid.ts';
import { SCENE_INPUT_SIZE } from './taskOverlay.ts';

export const INPUT_SIZES = [32, 48, 64, 96, 128, 160, 192, 224];
/** Membrane read-back for every layer only while it stays this small (bytes per frame). */
export const MEMBRANE_BUDGET = 48 * 1024 * 1024;
export const SPARKLINE_MS = 10_000;
export const DEFAULT_LAYER = 'ConvBlock1_1.0.Conv.lif1';
const CHECKPOINT_EXT = /\.(pth|pt|safetensors|bin|tar)$/i;
/** Shown by the views that need spike maps or membranes when the engine returns counts only. */
const NEEDS_MAPS = 'needs the WebGPU or CPU backend';

// ---- the address ------------------------------------------------------------------------------

export interface AppParams {
  backend: BackendPreference;
  /** `?size=N`: the input size asked for (a multiple of 16 from 16), else null. */
  size: number | null;
  /** `?model=random`: skip the built-in model. */
  randomOnly: boolean;
  /** `?model=https://…`: the checkpoint to download and run first ("Load from URL"). */
  modelUrl: string | null;
  task: TaskChoice;
  /** `?layer=…&channel=sum|N&t=N`: the spike map's layer, channel and time step (null: the default layer). */
  layer: string | null;
  channel: ChannelChoice;
  t: number;
}

const wholeNumber = (v: string | null): number | null => (v !== null && /^\d+$/.test(v) ? Number(v) : null);

/**
 * `?backend=auto|webgpu|onnx-wasm|cpu&size=N&model=random|<http(s) URL>&task=classify|detect|segment|all`
 * `&layer=<neuron layer>&channel=sum|N&t=N`: what `addressFor` writes, so a link restores the view.
 */
export function readParams(search: string): AppParams {
  const p = new URLSearchParams(search);
  const b = p.get('backend');
  const size = Number(p.get('size'));
  const task = p.get('task');
  const model = p.get('model');
  const channel = wholeNumber(p.get('channel'));
  return {
    backend: BACKEND_PREFERENCES.includes(b as BackendPreference) ? (b as BackendPreference) : 'auto',
    size: Number.isInteger(size) && size >= 16 && size % 16 === 0 ? size : null,
    randomOnly: model === 'random',
    modelUrl: model && /^https?:\/\//i.test(model) ? model : null,
    task: isTaskChoice(task) ? task : 'classify',
    layer: p.get('layer') || null,
    channel: channel ?? 'sum',
    t: wholeNumber(p.get('t')) ?? 0,
  };
}

/** The picks a link asks for (the rest as by default). */
export function initialPicks(params: AppParams): Picks {
  return { ...DEFAULT_PICKS, layer: params.layer ?? DEFAULT_LAYER, channel: params.channel, t: params.t };
}

/** What the address records: the choices a link should restore. */
export interface AddressState {
  params: AppParams;
  /** The model that runs (null while the first one loads: the address keeps its own). */
  model: AppModel | null;
  task: TaskChoice;
  picks: Picks;
}

/**
 * The address (`?…`, or '' when everything is as by default) that restores this view: the backend,
 * the size asked for, the model (random weights, or the URL it was downloaded from; the built-in
 * model, and files opened from disk, which a link cannot carry, are left out), the task, and the
 * spike map's layer, channel and time step.
 */
export function addressFor({ params, model, task, picks }: AddressState): string {
  const q = new URLSearchParams();
  if (params.backend !== 'auto') q.set('backend', params.backend);
  if (params.size !== null) q.set('size', String(params.size));
  const modelParam = model ? model.url ?? (model.id.startsWith('random:') ? 'random' : null) : params.modelUrl ?? (params.randomOnly ? 'random' : null);
  if (modelParam) q.set('model', modelParam);
  if (task !== 'classify') q.set('task', task);
  if (picks.layer !== DEFAULT_LAYER) q.set('layer', picks.layer);
  if (picks.channel !== 'sum') q.set('channel', String(picks.channel));
  if (picks.t !== 0) q.set('t', String(picks.t));
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** A file given to the page: a checkpoint to open, or something for the source (picture, video). */
export function isCheckpointFile(name: string): boolean {
  return CHECKPOINT_EXT.test(name);
}

// ---- what runs --------------------------------------------------------------------------------

/** An input size the visitor chose; it holds for the model and task it was chosen with. */
export interface SizePick {
  size: number;
  model: AppModel | null;
  task: TaskChoice;
}

export interface RunPlan {
  /** The tasks the model has. */
  modelTasks: Task[];
  /** What the task switch offers, and the choice in force (a choice the model lacks: classify). */
  choices: TaskChoice[];
  task: TaskChoice;
  /** The tasks run, and whether one is drawn over the scene (detection, segmentation). */
  tasks: Task[];
  scene: boolean;
  /** The model's config restricted to those tasks (null without a model). */
  config: ModelConfig | null;
  inputSize: number;
  inputSizes: number[];
}

/**
 * The tasks and input size that run: scene tasks at the scene size, 1000-class models at 224,
 * others at 64, unless the address or the visitor chose a size; never above what the engine takes.
 */
export function runPlan(model: AppModel | null, taskChoice: TaskChoice, pick: SizePick | null, addressSize: number | null, maxSize: number): RunPlan {
  const modelTasks = model ? availableTasks(model.config) : (['classify'] as Task[]);
  const choices = taskChoices(modelTasks);
  const task = choices.includes(taskChoice) ? taskChoice : 'classify';
  const tasks = tasksFor(task, modelTasks);
  const scene = hasSceneTask(tasks);
  const chosen = pick && pick.model === model && pick.task === task ? pick.size : addressSize;
  // The size the model file declares for these tasks, else 128 for scenes, 224 for ImageNet, 64.
  const declared = model?.inputs ? inputForTasks(model.inputs, tasks)?.height : undefined;
  const defaultSize = declared ?? (scene ? SCENE_INPUT_SIZE : model?.config.numClasses === 1000 ? 224 : 64);
  return {
    modelTasks, choices, task, tasks, scene,
    config: model ? configForTasks(model.config, tasks) : null,
    inputSize: Math.min(chosen ?? defaultSize, maxSize),
    inputSizes: INPUT_SIZES.filter((s) => s <= maxSize),
  };
}

// ---- the neuron layers ------------------------------------------------------------------------

export interface LayerIndex {
  lifs: LifOp[];
  /** `[C, H, W]` of every neuron layer. */
  shapes: Map<string, [number, number, number]>;
  /** The attention blocks (`block3.0`, …). */
  blocks: string[];
}

export function layerIndex(graph: ModelGraph | null): LayerIndex {
  const lifs = graph ? lifOps(graph) : [];
  const shapes = new Map(lifs.map((l) => [l.name, graph!.shapes.get(l.output)! as [number, number, number]]));
  return { lifs, shapes, blocks: attentionBlocks(lifs.map((l) => l.name)) };
}

/** The layers whose membranes the engine should keep readable: all of them while they fit the budget. */
export function membranesToRead(index: LayerIndex, timeSteps: number): string[] {
  const neurons = index.lifs.reduce((a, l) => a + index.shapes.get(l.name)!.reduce((x, y) => x * y, 1), 0);
  return neurons * timeSteps * 4 <= MEMBRANE_BUDGET ? index.lifs.map((l) => l.name) : [];
}

// ---- what each frame asks for -----------------------------------------------------------------

/** What the visitor picked in the views (kept even while a model without it runs). */
export interface Picks {
  layer: string;
  channel: ChannelChoice;
  t: number;
  /** A clicked neuron; null follows the centre of the chosen layer. */
  neuron: NeuronRef | null;
  block: string;
  maskOpacity: number;
  /** Also run frames through the dense kernels and time both (the comparison view's switch). */
  compare: boolean;
}

export const DEFAULT_PICKS: Picks = { layer: DEFAULT_LAYER, channel: 'sum', t: 0, neuron: null, block: 'block3.0', maskOpacity: 0.5, compare: false };

export interface Selection {
  layer: string;
  block: string;
  neuron: NeuronRef | null;
  request: EngineRequest;
}

/** The picks that hold for this graph, and the spike maps and membranes a frame should return. */
export function selection(picks: Picks, index: LayerIndex, hasSpikeMaps: boolean, membraneLayers: ReadonlySet<string>): Selection {
  const { shapes, lifs, blocks } = index;
  const layer = shapes.has(picks.layer) ? picks.layer : (lifs.find((l) => l.name === DEFAULT_LAYER) ?? lifs[0])?.name ?? '';
  const block = blocks.includes(picks.block) ? picks.block : blocks[0] ?? '';
  const neuron = picks.neuron && shapes.has(picks.neuron.layer) ? picks.neuron : null;
  if (!hasSpikeMaps) return { layer, block, neuron, request: { spikeMaps: [], membranes: [] } };
  const maps = new Set<string>();
  if (layer) maps.add(layer);
  if (block) for (const k of ['q_lif', 'k_lif', 'v_lif', 'attn_lif']) maps.add(`${block}.attn.${k}`);
  const memLayer = neuron?.layer ?? layer;
  const membranes = memLayer && membraneLayers.has(memLayer) ? [memLayer] : [];
  return { layer, block, neuron, request: { spikeMaps: [...maps], membranes, compare: picks.compare || undefined } };
}

/** Two requests ask for the same (so a view change that asks for nothing new re-runs nothing). */
export function sameRequest(a: EngineRequest, b: EngineRequest): boolean {
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.spikeMaps, b.spikeMaps) && same(a.membranes, b.membranes) && !a.compare === !b.compare;
}

// ---- the views --------------------------------------------------------------------------------

/** A frame as the views get it: the engine's result, the picture it saw, the graph it ran. */
export interface ShownFrame {
  result: EngineFrame;
  input: ImageBitmap;
  graph: ModelGraph;
  totals: FrameTotals;
}

export interface LoopStats {
  fps: number;
  latency: number;
  dropped: number;
  frames: number;
}

export interface ViewInput {
  params: AppParams;
  /** What runs; `trial`: on a software adapter, which engine was kept and why (`useEngineTrial`). */
  engine: { choice: EngineChoice | null; error: string | null; events: string[]; trial?: string | null };
  library: LibraryState;
  plan: RunPlan;
  /** The graph of what should run, and whether the engine has it loaded. */
  graph: ModelGraph | null;
  loaded: boolean;
  index: LayerIndex;
  picks: Picks;
  sel: Selection;
  membraneLayers: ReadonlySet<string>;
  loop: { frame: ShownFrame | null; stats: LoopStats; history: { t: number; v: number }[]; error: string | null; paused: boolean };
  source: { mirrored: boolean } | null;
  /** Activity over the last frames (`useSpikeHistory`). */
  history?: SpikeHistory;
}

/** Boxes and masks of a frame, decoded once per frame (frames are shown many times). */
const decodedFrames = new WeakMap<EngineFrame, TaskResults>();
function decoded(frame: ShownFrame): TaskResults {
  let d = decodedFrames.get(frame.result);
  if (!d) decodedFrames.set(frame.result, (d = taskResults(frame.result, frame.graph)));
  return d;
}

const histograms = new WeakMap<Uint8Array, number[]>();
function histogram(mask: Uint8Array, classes: number): number[] {
  let h = histograms.get(mask);
  if (!h) histograms.set(mask, (h = maskHistogram(mask, classes)));
  return h;
}

/** Everything the components draw, as their props (without the handlers). */
export function deriveView(v: ViewInput) {
  const { engine: e, library: lib, plan, index, sel } = v;
  const engine = e.choice?.engine ?? null;
  const backendName = engine?.backendName ?? null;
  const model = lib.model;
  const T = model?.config.timeSteps ?? 1;
  const mirrored = v.source?.mirrored ?? false;
  // A frame of an earlier graph (another model, task or size) is not shown.
  const shown = v.loop.frame && v.loop.frame.graph === v.graph ? v.loop.frame : null;
  const hist = v.history && v.history.graph === v.graph ? v.history : EMPTY_HISTORY;
  const labels = model ? labelSetFor(model.config.labels, model.config.numClasses, model.classNames) : null;
  const heads = plan.config?.heads ?? null;
  // Boxes and mask: decoded on the GPU by the WebGPU runtime, else on the CPU from the head maps.
  const dec = shown ? decoded(shown) : null;
  const detections = heads?.detect ? dec?.detections ?? null : null;
  const mask = heads?.segment ? dec?.mask ?? null : null;
  const hasSpikeMaps = engine?.hasSpikeMaps ?? true;
  const tShown = Math.min(v.picks.t, T - 1);
  const layerShape = index.shapes.get(sel.layer);
  const layerMap = shown?.result.spikeMaps.get(sel.layer);
  // Until a neuron is clicked, follow one at the centre of the chosen layer.
  const followed: NeuronRef | null = sel.neuron ?? (layerShape
    ? {
      layer: sel.layer,
      channel: layerMap ? channelAt(layerMap, layerShape, tShown, layerShape[1] >> 1, layerShape[2] >> 1) : 0,
      y: layerShape[1] >> 1,
      x: layerShape[2] >> 1,
    }
    : null);
  const followedShape = followed ? index.shapes.get(followed.layer) : undefined;
  const membrane = followed ? shown?.result.membranes.get(followed.layer) : undefined;
  // ONNX Runtime returns per-layer counts only: the map views say so rather than show old maps.
  const mapsMissing = hasSpikeMaps ? undefined : `${NEEDS_MAPS} (${backendName ?? 'this backend'} returns per-layer spike counts only)`;
  const membraneMissing = mapsMissing ? NEEDS_MAPS : followed && !v.membraneLayers.has(followed.layer) && v.loaded
    ? 'membrane read-back is off for a model this large'
    : undefined;
  const asked = v.params.backend === 'cpu' || v.params.backend === 'onnx-wasm';
  const fallback = e.choice?.fallbackReason && engine
    ? asked ? requestedMessage(engine, plan.inputSize, v.params.backend) : fallbackMessage(e.choice.fallbackReason, engine, plan.inputSize)
    : null;
  const inputSize = plan.inputSize;
  // Detect and segment modes: the whole frame's top 5 is not shown ("all" keeps it, with the scene).
  const sceneOnly = plan.task === 'detect' || plan.task === 'segment';
  return {
    backend: { backend: backendName, adapter: engine?.adapterName ?? null, fallback, trial: e.trial ?? null, events: e.events, error: e.error ?? v.loop.error },
    controls: { paused: v.loop.paused, canRun: !!v.source && v.loaded, fps: v.loop.stats.fps, latencyMs: v.loop.stats.latency, dropped: v.loop.stats.dropped, frames: v.loop.stats.frames },
    overlay: plan.scene ? { inputSize, detections, mask, maskOpacity: v.picks.maskOpacity, mirrored } : null,
    predictions: {
      ...predictionsOf(shown && labels && !sceneOnly ? topK(softmax(shown.result.logits), 5, labels) : [], model?.noDigitBelow),
      // A scene's digits are read from the boxes and the mask: one class for the whole frame would mislead.
      hidden: sceneOnly ? `Hidden in ${plan.task} mode: one class for the whole frame says little about a scene; the ${plan.task === 'detect' ? 'boxes say' : 'mask says'} what is where.` : undefined,
      labelsNote: labels?.description ?? '…',
      trained: model?.trained ?? true,
    },
    energy: { totals: shown?.totals ?? null, history: v.loop.history, windowMs: SPARKLINE_MS },
    tasks: {
      choices: plan.choices, choice: plan.task, inputSize, detections,
      segClasses: mask ? heads?.segment?.classNames ?? null : null,
      segHistogram: mask && heads?.segment ? histogram(mask, heads.segment.numClasses) : null,
      maskOpacity: v.picks.maskOpacity,
      unavailable: shown && heads && (heads.detect || heads.segment) && !detections && !mask
        ? `${backendName ?? 'This backend'} returned no task-head outputs: detection and segmentation need the WebGPU or CPU backend.`
        : undefined,
    },
    firing: { layers: shown?.result.layers ?? [], selected: sel.layer },
    spikeMap: {
      lifs: index.lifs, shapes: index.shapes, timeSteps: T, layer: sel.layer, channel: v.picks.channel, t: tShown, map: layerMap,
      unavailable: mapsMissing, input: shown?.input ?? null, mirrored, neuron: followed,
    },
    membrane: {
      neuron: followed,
      trace: followed && membrane && followedShape ? membraneTrace(membrane, followedShape, T, followed.channel, followed.y, followed.x) : null,
      threshold: index.lifs.find((l) => l.name === followed?.layer)?.threshold ?? 1,
      unavailable: membraneMissing,
      note: mapsMissing && `The membrane plot ${mapsMissing}.`,
    },
    attention: {
      blocks: index.blocks, block: sel.block, shapes: index.shapes, maps: shown?.result.spikeMaps ?? new Map<string, Uint8Array>(),
      unavailable: mapsMissing, timeSteps: T, t: tShown, mirrored,
    },
    comparison: comparisonView(engine, v.picks.compare, v.graph, hist.comparisons, hist.comparisonError),
    raster: rasterView(hist, sel.layer, layerShape, mapsMissing),
    activity: activityView(hist, sel.layer),
    model: {
      model, modelNote: lib.note, loading: lib.progress, error: lib.error, cached: lib.cached, cacheAvailable: lib.cacheAvailable,
      inputSize, inputSizes: plan.inputSizes,
    },
  };
}

export type AppView = ReturnType<typeof deriveView>;

function predictionsOf(predictions: Prediction[], noDigitBelow?: number) {
  return { predictions, ...verdict(predictions, noDigitBelow) };
}
