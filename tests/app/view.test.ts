/**
 * What the app shows, derived without a browser (`src/app/logic/view.ts`, `logic/frameLoop.ts`):
 * the address, what runs (tasks, input size), what a frame asks for, and the views' values from a
 * frame the CPU reference computed.
 */
import { describe, expect, test } from 'vitest';
import { TINY_CONFIG } from '../../src/app/engine/builtinModel.ts';
import type { EngineChoice } from '../../src/app/engine/createEngine.ts';
import type { AppModel, EngineFrame, InferenceEngine } from '../../src/app/engine/types.ts';
import { pickJob } from '../../src/app/logic/frameLoop.ts';
import { frameTotals } from '../../src/app/logic/frameTotals.ts';
import type { LibraryState } from '../../src/app/logic/modelLibrary.ts';
import {
  DEFAULT_PICKS, deriveView, isCheckpointFile, layerIndex, membranesToRead, readParams, runPlan, sameRequest, selection, type Picks, type RunPlan, type ViewInput,
} from '../../src/app/logic/view.ts';
import { buildModelGraph, type ModelGraph } from '../../src/model/graph.ts';
import { CpuReferenceRuntime } from '../../src/runtime/cpu/cpuReferenceRuntime.ts';
import { randomModelWeights, randomSmoothImage } from '../../src/runtime/cpu/randomWeights.ts';
import { digitsConfig } from '../helpers/headsModel.ts';

const model = (config = TINY_CONFIG, id = 'm'): AppModel => ({ id, name: id, config, weights: new Map(), trained: true });
const tiny = model();
const heads = model(digitsConfig({ depths: [1, 1] }), 'heads');

function fakeEngine(o: Partial<InferenceEngine> = {}): InferenceEngine {
  return { backendName: 'WebGPU', adapterName: 'test adapter', maxInputSize: 512, hasSpikeMaps: true, membraneLayers: () => new Set(), ...o } as InferenceEngine;
}

describe('the address', () => {
  test('backend, size, random model and task; anything else falls back', () => {
    const rest = { modelUrl: null, layer: null, channel: 'sum', t: 0 };
    expect(readParams('?backend=cpu&size=32&model=random&task=all')).toEqual({ backend: 'cpu', size: 32, randomOnly: true, task: 'all', ...rest });
    expect(readParams('?backend=metal&size=33&task=pose')).toEqual({ backend: 'auto', size: null, randomOnly: false, task: 'classify', ...rest });
    expect(isCheckpointFile('a.PTH') && isCheckpointFile('b.safetensors') && !isCheckpointFile('cat.png')).toBe(true);
  });
});

describe('what runs', () => {
  test('input size: 64 for small classifiers, 224 for ImageNet, 128 for scene tasks, capped by the engine', () => {
    expect(runPlan(tiny, 'classify', null, null, 512).inputSize).toBe(64);
    expect(runPlan(model({ ...TINY_CONFIG, numClasses: 1000 }), 'classify', null, null, 512).inputSize).toBe(224);
    expect(runPlan(heads, 'all', null, null, 512)).toMatchObject({ inputSize: 128, scene: true, tasks: ['classify', 'segment', 'detect'] });
    expect(runPlan(heads, 'all', null, null, 64).inputSize).toBe(64);
    expect(runPlan(tiny, 'classify', null, 32, 512).inputSize).toBe(32);
    expect(runPlan(tiny, 'classify', null, null, 64).inputSizes).toEqual([32, 48, 64]);
  });

  test('the size the model file declares for the task wins over the defaults; a pick or the address over it', () => {
    const declared = { ...heads, inputs: { classify: { height: 96, width: 96, crop: 'centre-square' as const }, detect: { height: 160, width: 160, crop: 'centre-square' as const } } };
    expect(runPlan(declared, 'classify', null, null, 512).inputSize).toBe(96);
    expect(runPlan(declared, 'detect', null, null, 512).inputSize).toBe(160);
    expect(runPlan(declared, 'segment', null, null, 512).inputSize).toBe(128); // none declared for segment
    expect(runPlan(declared, 'classify', null, 32, 512).inputSize).toBe(32);
    expect(runPlan(declared, 'detect', null, null, 128).inputSize).toBe(128);
  });

  test('a size chosen holds for its model and task only; a task the model lacks runs classify', () => {
    const pick = { size: 96, model: heads, task: 'detect' as const };
    expect(runPlan(heads, 'detect', pick, null, 512).inputSize).toBe(96);
    expect(runPlan(heads, 'segment', pick, null, 512).inputSize).toBe(128);
    expect(runPlan(tiny, 'detect', pick, 32, 512)).toMatchObject({ inputSize: 32, task: 'classify', choices: ['classify'], tasks: ['classify'] });
    expect(runPlan(heads, 'detect', null, null, 512).config!.heads).toMatchObject({ segment: null });
  });
});

describe('what a frame asks for', () => {
  const index = layerIndex(buildModelGraph(TINY_CONFIG, 32, 32));

  test('the chosen layer and attention block; membranes only where the engine keeps them', () => {
    const sel = selection(DEFAULT_PICKS, index, true, new Set(['ConvBlock1_1.0.Conv.lif1']));
    expect(sel.layer).toBe('ConvBlock1_1.0.Conv.lif1');
    expect(sel.request).toEqual({
      spikeMaps: ['ConvBlock1_1.0.Conv.lif1', 'block3.0.attn.q_lif', 'block3.0.attn.k_lif', 'block3.0.attn.v_lif', 'block3.0.attn.attn_lif'],
      membranes: ['ConvBlock1_1.0.Conv.lif1'],
    });
    expect(selection(DEFAULT_PICKS, index, true, new Set()).request.membranes).toEqual([]);
    expect(selection(DEFAULT_PICKS, index, false, new Set()).request).toEqual({ spikeMaps: [], membranes: [] });
    // Picks of another model fall back to what this one has.
    const stale: Picks = { ...DEFAULT_PICKS, layer: 'fpn.lateral.0.lif', block: 'block3.9', neuron: { layer: 'seg_head.cls_lif', channel: 0, y: 0, x: 0 } };
    expect(selection(stale, index, true, new Set())).toMatchObject({ layer: 'ConvBlock1_1.0.Conv.lif1', block: 'block3.0', neuron: null });
    expect(sameRequest(sel.request, selection({ ...DEFAULT_PICKS, channel: 3, t: 1 }, index, true, new Set(['ConvBlock1_1.0.Conv.lif1'])).request)).toBe(true);
    expect(sameRequest(sel.request, selection({ ...DEFAULT_PICKS, block: 'block4.0' }, index, true, new Set()).request)).toBe(false);
    expect(membranesToRead(index, 2)).toHaveLength(77);
    expect(membranesToRead(layerIndex(buildModelGraph({ ...TINY_CONFIG, embedDims: [256, 512, 1024, 1024] }, 512, 512)), 4)).toEqual([]);
  });

  test('the loop: a step or a new video picture runs a new frame; a changed view re-runs a still or paused picture', () => {
    const c = (paused: boolean, step: boolean, dirty: boolean) => ({ paused, step, dirty });
    expect(pickJob(c(false, false, false), true, true)).toBe('new');
    expect(pickJob(c(false, false, true), true, false)).toBeNull();
    expect(pickJob(c(true, false, false), true, true)).toBeNull();
    expect(pickJob(c(true, true, false), true, false)).toBe('new');
    expect(pickJob(c(true, false, true), true, false)).toBe('again');
    expect(pickJob(c(false, false, true), false, false)).toBe('again');
    expect(pickJob(c(false, false, false), false, false)).toBeNull();
  });
});

describe('the views', () => {
  const library = (m: AppModel | null): LibraryState => ({ model: m, note: null, progress: null, error: null, cached: [], cacheAvailable: true });

  function frameOf(graph: ModelGraph, maps: string[], membranes: string[]): EngineFrame {
    const rt = new CpuReferenceRuntime(graph, randomModelWeights(graph.config, { seed: 3, calibration: { height: 32, width: 32 } }));
    return { ...rt.run(randomSmoothImage(3, graph.inputHeight, graph.inputWidth, 1), { spikeMaps: maps, membranes }), ms: 1 } as EngineFrame;
  }

  function input(m: AppModel, plan: RunPlan, engine: InferenceEngine, choice: Partial<EngineChoice> = {}): ViewInput & { graph: ModelGraph } {
    const graph = buildModelGraph(plan.config!, plan.inputSize, plan.inputSize);
    const index = layerIndex(graph);
    const membraneLayers = new Set(index.lifs.map((l) => l.name));
    const sel = selection(DEFAULT_PICKS, index, engine.hasSpikeMaps, membraneLayers);
    const result = frameOf(graph, sel.request.spikeMaps, sel.request.membranes);
    return {
      params: readParams('?size=32'), engine: { choice: { engine, fallbackReason: null, ...choice }, error: null, events: [] }, library: library(m), plan, graph,
      loaded: true, index, picks: DEFAULT_PICKS, sel, membraneLayers,
      loop: { frame: { result, input: {} as ImageBitmap, graph, totals: frameTotals(graph, result.layers) }, stats: { fps: 5, latency: 20, dropped: 1, frames: 9 }, history: [], error: null, paused: false },
      source: { mirrored: true },
    };
  }

  test('a classifier on WebGPU: predictions, maps, the followed neuron\'s membrane; no overlay', () => {
    const v = deriveView(input(tiny, runPlan(tiny, 'classify', null, 32, 512), fakeEngine()));
    expect(v.predictions.predictions).toHaveLength(5);
    expect(v.predictions.labelsNote).toBe('MNIST digits');
    expect(v.backend).toEqual({ backend: 'WebGPU', adapter: 'test adapter', fallback: null, trial: null, events: [], error: null });
    expect(v.controls).toEqual({ paused: false, canRun: true, fps: 5, latencyMs: 20, dropped: 1, frames: 9 });
    expect(v.overlay).toBeNull();
    expect(v.spikeMap.map).toBeInstanceOf(Uint8Array);
    expect(v.spikeMap.unavailable).toBeUndefined();
    expect(v.membrane.neuron).toMatchObject({ layer: 'ConvBlock1_1.0.Conv.lif1', y: 8, x: 8 });
    expect(v.membrane.trace).toHaveLength(2);
    expect(v.attention.maps.size).toBe(5);
    expect(v.tasks.detections).toBeNull();
    expect(v.model.inputSize).toBe(32);
  });

  test('counts only (ONNX Runtime): the map views say what they need; the fallback says what runs and why', () => {
    const engine = fakeEngine({ backendName: 'ONNX Runtime Web (wasm, 2 threads)', hasSpikeMaps: false });
    const v = deriveView(input(tiny, runPlan(tiny, 'classify', null, 32, 224), engine, { fallbackReason: 'no WebGPU adapter was found' }));
    expect(v.spikeMap.unavailable).toBe('needs the WebGPU or CPU backend (ONNX Runtime Web (wasm, 2 threads) returns per-layer spike counts only)');
    expect(v.membrane.unavailable).toBe('needs the WebGPU or CPU backend');
    expect(v.backend.fallback).toBe('WebGPU is not available: running ONNX Runtime Web (wasm, 2 threads) at 32×32 (no WebGPU adapter was found).');
    expect(v.predictions.predictions).toHaveLength(5);
  });

  test('auto on a software adapter: the engine kept after timing both, and why; it is no fallback', () => {
    const engine = fakeEngine({ backendName: 'ONNX Runtime Web (wasm, 2 threads)', hasSpikeMaps: false });
    const base = input(tiny, runPlan(tiny, 'classify', null, 32, 224), engine);
    const trial = 'ONNX Runtime Web (wasm, 2 threads) kept: 143 ms/frame against 574 ms/frame on WebGPU (software adapter google · swiftshader).';
    const v = deriveView({ ...base, engine: { ...base.engine, trial } });
    expect(v.backend).toMatchObject({ backend: 'ONNX Runtime Web (wasm, 2 threads)', trial, fallback: null });
  });

  test('task heads: boxes and the mask decoded from the head maps, the legend, the overlay', () => {
    const plan = runPlan(heads, 'all', null, 32, 512);
    const v = deriveView(input(heads, plan, fakeEngine()));
    expect(v.overlay).toMatchObject({ inputSize: 32, mirrored: true, maskOpacity: 0.5 });
    expect(Array.isArray(v.tasks.detections)).toBe(true);
    expect(v.tasks.segClasses).toHaveLength(11);
    expect(v.tasks.segHistogram!.reduce((a, b) => a + b, 0)).toBe(32 * 32);
    expect(v.tasks.unavailable).toBeUndefined();
    expect(v.tasks.choices).toEqual(['classify', 'detect', 'segment', 'all']);
  });

  test('the whole frame\'s top 5: hidden in detect and segment modes, kept with "all"; an uncertain top is marked', () => {
    for (const task of ['detect', 'segment'] as const) {
      const v = deriveView(input(heads, runPlan(heads, task, null, 32, 512), fakeEngine()));
      expect(v.predictions.predictions).toEqual([]);
      expect(v.predictions.hidden).toMatch(new RegExp(`^Hidden in ${task} mode: `));
    }
    const all = deriveView(input(heads, runPlan(heads, 'all', null, 32, 512), fakeEngine()));
    expect(all.predictions.hidden).toBeUndefined();
    expect(all.predictions.predictions).toHaveLength(5);
    // Random weights: the top class is far from sure.
    expect(all.predictions.uncertain).toBe(all.predictions.predictions[0].probability < 0.5);
    // The file's class names, with a "no digit" class.
    const named = model({ ...TINY_CONFIG, numClasses: 11 }, 'named');
    const v = deriveView(input({ ...named, classNames: [...'0123456789'.split(''), 'no digit'] }, runPlan(named, 'classify', null, 32, 512), fakeEngine()));
    expect(v.predictions.labelsNote).toBe("the model file's class names");
    expect(v.predictions.noDigit).toBe(v.predictions.predictions[0].label === 'no digit');
  });

  test('a frame of an earlier graph is not shown', () => {
    const i = input(tiny, runPlan(tiny, 'classify', null, 32, 512), fakeEngine());
    const v = deriveView({ ...i, graph: buildModelGraph(TINY_CONFIG, 48, 48), loaded: false });
    expect(v.predictions.predictions).toEqual([]);
    expect(v.firing.layers).toEqual([]);
    expect(v.controls.canRun).toBe(false);
  });
});
