import { describe, expect, test } from 'vitest';
import { looksLikeSafetensors, TINY_CONFIG } from '../../src/app/engine/builtinModel.ts';
import { createEngine, fallbackMessage, type BackendPreference, type EngineMakers } from '../../src/app/engine/createEngine.ts';
import { onnxWasmBackendName } from '../../src/app/engine/onnxWasmEngine.ts';
import { wantedThreads } from '../../src/runtime/onnx/onnxRuntimeBackend.ts';
import type { InferenceEngine } from '../../src/app/engine/types.ts';
import { centerCropRect } from '../../src/app/engine/frames.ts';
import { formatCount, formatEnergy, frameTotals, layerRate } from '../../src/app/logic/frameTotals.ts';
import { channelAt, lifSteps, membraneTrace, neuronIndex, spikeGrid } from '../../src/app/logic/spikeGrid.ts';
import { attentionBlocks, blockOf, groupByStage, roleOf, stageOf } from '../../src/model/stages.ts';
import { TimeSeriesBuffer } from '../../src/app/logic/timeSeries.ts';
import { estimateEnergy } from '../../src/model/cost.ts';
import { buildModelGraph, lifOps } from '../../src/model/graph.ts';
import { randomModelWeights, randomSmoothImage } from '../../src/runtime/cpu/randomWeights.ts';
import { CpuReferenceRuntime } from '../../src/runtime/cpu/cpuReferenceRuntime.ts';

const graph = buildModelGraph(TINY_CONFIG, 32, 32);
const names = lifOps(graph).map((l) => l.name);

describe('stage grouping of the neuron layers', () => {
  test('77 layers: 9 + 9 + 43 + 15 + 1, in execution order', () => {
    expect(names).toHaveLength(77);
    const groups = groupByStage(names, (n) => n);
    expect(groups.map((g) => [g.stage, g.layers.length])).toEqual([
      ['stage1', 9], ['stage2', 9], ['stage3', 43], ['stage4', 15], ['head', 1],
    ]);
    expect(groups.flatMap((g) => g.layers)).toEqual(names);
    expect(groups.map((g) => g.first)).toEqual([0, 9, 18, 61, 76]);
    expect(groups[2].layers[0]).toBe('downsample3.encode_lif');
    expect(groups[4].layers).toEqual(['lif']);
  });

  test('stage, block and role of single names', () => {
    expect(stageOf('downsample1_2.encode_lif')).toBe('stage1');
    expect(stageOf('ConvBlock2_2.0.lif2')).toBe('stage2');
    expect(stageOf('block3.5.attn.attn_lif')).toBe('stage3');
    expect(stageOf('block4.1.mlp.fc2_lif')).toBe('stage4');
    expect(stageOf('lif')).toBe('head');
    expect(blockOf('block3.5.attn.q_lif')).toBe('block3.5');
    expect(blockOf('ConvBlock1_1.0.Conv.lif1')).toBe('ConvBlock1_1.0');
    expect(roleOf('block3.0.attn.q_lif')).toBe('attention q');
    expect(roleOf('ConvBlock1_1.0.Conv.lif1')).toBe('SepConv input');
    expect(roleOf('lif')).toMatch(/head/);
  });

  test('attention blocks', () => {
    expect(attentionBlocks(names)).toEqual(['block3.0', 'block3.1', 'block3.2', 'block3.3', 'block3.4', 'block3.5', 'block4.0', 'block4.1']);
  });
});

describe('TimeSeriesBuffer (sparkline)', () => {
  test('keeps at most `capacity` samples, oldest first', () => {
    const b = new TimeSeriesBuffer(3, 1e9);
    for (let i = 0; i < 5; i++) b.push(i, i * 10);
    expect(b.samples()).toEqual([{ t: 2, v: 20 }, { t: 3, v: 30 }, { t: 4, v: 40 }]);
    expect(b.length).toBe(3);
  });

  test('drops samples older than the window', () => {
    const b = new TimeSeriesBuffer(100, 1000);
    for (const t of [0, 400, 800, 1200, 1900]) b.push(t, t);
    expect(b.samples().map((s) => s.t)).toEqual([1200, 1900]);
    b.prune(5000);
    expect(b.length).toBe(0);
    b.push(6000, 1);
    b.clear();
    expect(b.samples()).toEqual([]);
  });
});

describe('spike grids and membranes', () => {
  // [T=2, C=2, H=2, W=3]
  const shape: [number, number, number] = [2, 2, 3];
  const map = Uint8Array.from([
    1, 0, 0, 0, 1, 0, /* t0 c0 */ 1, 1, 0, 0, 0, 0, /* t0 c1 */
    0, 0, 0, 0, 0, 1, /* t1 c0 */ 0, 0, 0, 1, 0, 1, /* t1 c1 */
  ]);

  test('one channel or all summed, at a time step', () => {
    expect(Array.from(spikeGrid(map, shape, 2, 0, 'sum').values)).toEqual([2, 1, 0, 0, 1, 0]);
    expect(Array.from(spikeGrid(map, shape, 2, 1, 'sum').values)).toEqual([0, 0, 0, 1, 0, 2]);
    const one = spikeGrid(map, shape, 2, 0, 1);
    expect(Array.from(one.values)).toEqual([1, 1, 0, 0, 0, 0]);
    expect([one.width, one.height, one.max]).toEqual([3, 2, 1]);
    expect(spikeGrid(map, shape, 2, 0, 'sum').max).toBe(2);
    expect(() => spikeGrid(map, shape, 2, 2, 'sum')).toThrow(/time step/);
    expect(() => spikeGrid(map.subarray(1), shape, 2, 0, 'sum')).toThrow(/expected/);
  });

  test('neuron index, the channel that fired at a position', () => {
    expect(neuronIndex(shape, 1, 1, 1, 2)).toBe(23);
    expect(channelAt(map, shape, 0, 0, 1)).toBe(1);
    expect(channelAt(map, shape, 1, 1, 2)).toBe(0);
    expect(channelAt(map, shape, 0, 1, 2)).toBe(0);
    const membrane = Float32Array.from({ length: 24 }, (_, i) => i / 10);
    expect(membraneTrace(membrane, shape, 2, 1, 1, 2).map((v) => Math.round(v * 10))).toEqual([11, 23]);
  });

  test('LIF replay: charge, fire at the threshold, hard reset, recovered input', () => {
    // x = [3, 1, 2]: h0 = 1.5 → spike; v = 0; h1 = 0.5; h2 = 0.5 + (2 − 0.5)/2 = 1.25 → spike.
    const steps = lifSteps([1.5, 0.5, 1.25], 1);
    expect(steps.map((s) => s.spiked)).toEqual([true, false, true]);
    expect(steps.map((s) => s.before)).toEqual([0, 0, 0.5]);
    expect(steps.map((s) => s.after)).toEqual([0, 0.5, 0]);
    expect(steps.map((s) => s.input)).toEqual([3, 1, 2]);
    expect(lifSteps([0.5], 0.5)[0].spiked).toBe(true);
  });

  test('the replayed spikes match the CPU reference spike map for every neuron of a layer', () => {
    const g = buildModelGraph(TINY_CONFIG, 16, 16);
    const layer = 'ConvBlock1_1.0.Conv.lif1';
    const op = lifOps(g).find((l) => l.name === layer)!;
    const rt = new CpuReferenceRuntime(g, randomModelWeights(TINY_CONFIG, { seed: 2, calibration: { height: 16, width: 16 } }));
    const r = rt.run(randomSmoothImage(3, 16, 16, 5), { spikeMaps: [layer], membranes: [layer] });
    const s = g.shapes.get(op.output)! as [number, number, number];
    const map = r.spikeMaps.get(layer)!;
    const mem = r.membranes.get(layer)!;
    let spikes = 0;
    for (let c = 0; c < s[0]; c++) {
      for (let y = 0; y < s[1]; y++) {
        for (let x = 0; x < s[2]; x++) {
          const steps = lifSteps(membraneTrace(mem, s, 2, c, y, x), op.threshold);
          steps.forEach((st, t) => {
            expect(st.spiked ? 1 : 0).toBe(map[neuronIndex(s, t, c, y, x)]);
            spikes += st.spiked ? 1 : 0;
          });
        }
      }
    }
    expect(spikes).toBeGreaterThan(0);
  });
});

describe('frame totals and energy', () => {
  test('totals add up every layer and step, and the energy is the paper formula of cost.ts', () => {
    const layers = lifOps(graph).map((l, i) => {
      const [c, h, w] = graph.shapes.get(l.output)!;
      const n = c * h * w;
      return { name: l.name, neuronsPerStep: n, onesPerStep: [Math.floor(n * ((i % 5) / 10)), Math.floor(n / 7)] };
    });
    const totals = frameTotals(graph, layers);
    const spikes = layers.reduce((a, l) => a + l.onesPerStep[0] + l.onesPerStep[1], 0);
    const neurons = layers.reduce((a, l) => a + 2 * l.neuronsPerStep, 0);
    expect(totals.spikes).toBe(spikes);
    expect(totals.neuronSteps).toBe(neurons);
    expect(totals.firingRate).toBeCloseTo(spikes / neurons, 12);
    expect(totals.sparsity).toBeCloseTo(1 - spikes / neurons, 12);
    expect(totals.energy).toEqual(estimateEnergy(graph, layers));
    expect(totals.energy.energyUj).toBeLessThan(totals.energy.annEnergyUj);
    expect(layerRate({ name: 'x', neuronsPerStep: 10, onesPerStep: [2, 4] })).toBeCloseTo(0.3, 12);
  });

  test('formatting', () => {
    expect(formatCount(950)).toBe('950');
    expect(formatCount(4567)).toBe('4.57 k');
    expect(formatCount(1_234_567)).toBe('1.23 M');
    expect(formatCount(2.5e9)).toBe('2.50 G');
    expect(formatEnergy(0.45)).toBe('450 nJ');
    expect(formatEnergy(12.345)).toBe('12.35 µJ');
    expect(formatEnergy(4500)).toBe('4.50 mJ');
  });
});

describe('engine helpers', () => {
  test('centre crop with the model aspect ratio', () => {
    expect(centerCropRect(640, 480, 64, 64)).toEqual({ sx: 80, sy: 0, sw: 480, sh: 480 });
    expect(centerCropRect(480, 640, 32, 32)).toEqual({ sx: 0, sy: 80, sw: 480, sh: 480 });
    expect(centerCropRect(64, 64, 64, 64)).toEqual({ sx: 0, sy: 0, sw: 64, sh: 64 });
    expect(centerCropRect(640, 480, 64, 32)).toEqual({ sx: 0, sy: 80, sw: 640, sh: 320 });
  });

  test('safetensors sniffing (the dev server answers a missing model with HTML)', () => {
    const head = new Uint8Array(16);
    new DataView(head.buffer).setBigUint64(0, 120n, true);
    head[8] = 0x7b;
    expect(looksLikeSafetensors(head)).toBe(true);
    expect(looksLikeSafetensors(new TextEncoder().encode('<!doctype html><html>'))).toBe(false);
    expect(looksLikeSafetensors(new Uint8Array(4))).toBe(false);
  });

  test('the fallback message names what runs, the input size and why', () => {
    const engine = (backendName: string) => ({ backendName }) as InferenceEngine;
    expect(fallbackMessage('no WebGPU adapter was found', engine('ONNX Runtime Web (wasm, 2 threads)'), 64))
      .toBe('WebGPU is not available: running ONNX Runtime Web (wasm, 2 threads) at 64×64 (no WebGPU adapter was found).');
    expect(fallbackMessage('no WebGPU adapter was found; ONNX Runtime Web could not start: 404', engine('CPU reference (Web Worker)'), 32))
      .toBe('WebGPU is not available: running the CPU reference at 32×32 (no WebGPU adapter was found; ONNX Runtime Web could not start: 404).');
    expect(onnxWasmBackendName(1)).toBe('ONNX Runtime Web (wasm, 1 thread)');
    // A thread per two cores up to 4 where the page is cross-origin isolated (one on 2 cores), else one.
    expect([1, 2, 3, 4, 8, 16, undefined].map((cores) => wantedThreads(true, cores))).toEqual([1, 1, 2, 2, 4, 4, 1]);
    expect(wantedThreads(false, 8)).toBe(1);
  });

  test('engine order: WebGPU, else ONNX Runtime Web (wasm), else the CPU reference; explicit choices do not fall back', async () => {
    const made: string[] = [];
    const fake = (backendName: string) => ({ backendName }) as InferenceEngine;
    const ok = (name: string) => async () => {
      made.push(name);
      return fake(name);
    };
    const fail = (name: string, why: string) => async (): Promise<InferenceEngine> => {
      made.push(name);
      throw new Error(why);
    };
    const cpu = () => fake('cpu');
    const pick = async (pref: BackendPreference, makers: EngineMakers) => {
      made.length = 0;
      const c = await createEngine(pref, makers);
      return [c.engine.backendName, c.fallbackReason, [...made]];
    };
    expect(await pick('auto', { webgpu: ok('webgpu'), onnxWasm: ok('onnx'), cpu })).toEqual(['webgpu', null, ['webgpu']]);
    expect(await pick('auto', { webgpu: fail('webgpu', 'no adapter'), onnxWasm: ok('onnx'), cpu })).toEqual(['onnx', 'no adapter', ['webgpu', 'onnx']]);
    expect(await pick('auto', { webgpu: fail('webgpu', 'no adapter'), onnxWasm: fail('onnx', 'wasm 404'), cpu }))
      .toEqual(['cpu', 'no adapter; ONNX Runtime Web could not start: wasm 404', ['webgpu', 'onnx']]);
    expect(await pick('onnx-wasm', { webgpu: ok('webgpu'), onnxWasm: ok('onnx'), cpu })).toEqual(['onnx', 'ONNX Runtime Web was asked for (backend=onnx-wasm)', ['onnx']]);
    await expect(createEngine('onnx-wasm', { webgpu: ok('webgpu'), onnxWasm: fail('onnx', 'wasm 404'), cpu })).rejects.toThrow('wasm 404');
    await expect(createEngine('webgpu', { webgpu: fail('webgpu', 'no adapter'), onnxWasm: ok('onnx'), cpu })).rejects.toThrow('no adapter');
  });
});
