/**
 * `auto` on a software GPU adapter (`src/app/logic/engineTrial.ts`, `engine/createEngine.ts`):
 * which adapters count as software, the decision and its sentence, the timing of an engine
 * (warm-up left out, the median, the same input for both) and the trial as a whole, with fake
 * engines on a fake clock: no real time is measured here.
 */
import { describe, expect, test } from 'vitest';
import { TINY_CONFIG } from '../../src/app/engine/builtinModel.ts';
import { createEngine, largestInput, type BackendPreference } from '../../src/app/engine/createEngine.ts';
import type { AppModel, EngineFrame, FrameInput, InferenceEngine, LoadOptions } from '../../src/app/engine/types.ts';
import { isSoftwareAdapter, keepFaster, median, runTrial, timeEngine, TRIAL_FRAMES, TRIAL_WARMUP, type TrialRun } from '../../src/app/logic/engineTrial.ts';

const GPU = 'WebGPU';
const ORT = 'ONNX Runtime Web (wasm, 2 threads)';
const ADAPTER = 'google · swiftshader';

describe('software adapters', () => {
  test('a fallback adapter, or one named as a CPU rasterizer; a hardware one is not', () => {
    expect(isSoftwareAdapter(true, 'unnamed adapter')).toBe(true);
    expect(isSoftwareAdapter(false, 'google · swiftshader · SwiftShader Device (Subzero)')).toBe(true);
    expect(isSoftwareAdapter(false, 'mesa · llvmpipe')).toBe(true);
    expect(isSoftwareAdapter(false, 'nvidia · ampere · NVIDIA H200')).toBe(false);
  });
});

describe('keeping the faster engine', () => {
  test('both timed: the faster is kept, and the sentence names both times and the adapter', () => {
    expect(keepFaster({ name: GPU, timing: { ms: 574.2 } }, { name: ORT, timing: { ms: 143.4 } }, ADAPTER)).toEqual({
      keep: 'wasm',
      message: 'ONNX Runtime Web (wasm, 2 threads) kept: 143 ms/frame against 574 ms/frame on WebGPU (software adapter google · swiftshader).',
    });
    expect(keepFaster({ name: GPU, timing: { ms: 4.26 } }, { name: ORT, timing: { ms: 12 } }, ADAPTER)).toEqual({
      keep: 'webgpu',
      message: 'WebGPU kept: 4.3 ms/frame against 12 ms/frame on ONNX Runtime Web (wasm, 2 threads) (software adapter google · swiftshader).',
    });
  });

  test('a tie keeps WebGPU (it also gives spike maps and membranes)', () => {
    expect(keepFaster({ name: GPU, timing: { ms: 50 } }, { name: ORT, timing: { ms: 50 } }, ADAPTER).keep).toBe('webgpu');
  });

  test('one that could not run loses, and the sentence says why; neither: WebGPU, untimed', () => {
    expect(keepFaster({ name: GPU, timing: { ms: 574 } }, { name: 'ONNX Runtime Web', timing: { error: 'could not start: wasm 404' } }, ADAPTER)).toEqual({
      keep: 'webgpu',
      message: 'WebGPU kept: 574 ms/frame; ONNX Runtime Web could not start: wasm 404 (software adapter google · swiftshader).',
    });
    expect(keepFaster({ name: GPU, timing: { error: 'could not load m: out of memory' } }, { name: ORT, timing: { ms: 143 } }, ADAPTER)).toEqual({
      keep: 'wasm',
      message: 'ONNX Runtime Web (wasm, 2 threads) kept: 143 ms/frame; WebGPU could not load m: out of memory (software adapter google · swiftshader).',
    });
    expect(keepFaster({ name: GPU, timing: { error: 'could not load m: bad' } }, { name: ORT, timing: { error: 'could not load m: bad too' } }, ADAPTER)).toEqual({
      keep: 'webgpu',
      message: 'WebGPU kept, untimed: it could not load m: bad, and ONNX Runtime Web (wasm, 2 threads) could not load m: bad too (software adapter google · swiftshader).',
    });
  });

  test('median', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([40, 10, 30, 20])).toBe(25);
  });
});

/** A clock that only moves when a fake engine runs a frame. */
function fakeClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

interface Fake extends InferenceEngine {
  /** What happened, in order: `load` and `run`, with the engine's name. */
  log: string[];
  inputs: FrameInput[];
  loaded: { model: AppModel; options: LoadOptions }[];
  disposed: boolean;
}

/** An engine whose frames take `frameMs` (one after another) on `clock`; `fails` makes load or run throw. */
function fakeEngine(name: string, frameMs: number[], clock: ReturnType<typeof fakeClock>, log: string[], fails: { load?: string; run?: string } = {}): Fake {
  let i = 0;
  const e: Fake = {
    backendName: name, adapterName: 'test', maxInputSize: 512, hasSpikeMaps: true, log, inputs: [], loaded: [], disposed: false,
    async load(model, options) {
      log.push(`load ${name}`);
      if (fails.load) throw new Error(fails.load);
      e.loaded.push({ model, options });
    },
    async runFrame(frame) {
      log.push(`run ${name}`);
      if (fails.run) throw new Error(fails.run);
      e.inputs.push(frame);
      clock.advance(frameMs[Math.min(i++, frameMs.length - 1)]);
      return {} as EngineFrame;
    },
    membraneLayers: () => new Set(),
    subscribe: () => () => {},
    dispose() {
      e.disposed = true;
    },
  };
  return e;
}

const model: AppModel = { id: 'm', name: 'Digits', config: TINY_CONFIG, weights: new Map(), trained: true };
const options: LoadOptions = { height: 32, width: 32, membranes: [] };

describe('timing one engine', () => {
  test('loads the model first, leaves the warm-up frame out and keeps the median of the rest', async () => {
    expect([TRIAL_WARMUP, TRIAL_FRAMES]).toEqual([1, 5]);
    const clock = fakeClock();
    const log: string[] = [];
    // The warm-up frame is slow (pipelines compile); with it counted the median would be 35.
    const e = fakeEngine(GPU, [1000, 50, 10, 40, 20, 30], clock, log);
    const input = new Float32Array(3 * 32 * 32);
    expect(await timeEngine(e, { model, options, input, now: clock.now })).toEqual({ ms: 30 });
    expect(log).toEqual([`load ${GPU}`, ...Array(6).fill(`run ${GPU}`)]);
    expect(e.loaded).toEqual([{ model, options }]);
    expect(e.inputs.every((x) => x === input)).toBe(true);
  });

  test('a model that does not load or run: what went wrong, no time', async () => {
    const clock = fakeClock();
    const run = { model, options, input: new Float32Array(1), now: clock.now };
    expect(await timeEngine(fakeEngine(GPU, [1], clock, [], { load: 'too big\nmore' }), run)).toEqual({ error: 'could not load Digits: too big' });
    expect(await timeEngine(fakeEngine(GPU, [1], clock, [], { run: 'device lost' }), run)).toEqual({ error: 'could not run Digits: device lost' });
  });
});

describe('the trial', () => {
  const setup = () => {
    const clock = fakeClock();
    const log: string[] = [];
    const run: TrialRun = { model, options, input: new Float32Array(3 * 32 * 32), now: clock.now };
    return { clock, log, run };
  };

  test('WebGPU, then ONNX Runtime Web, on the same input; the faster is kept and the other dropped', async () => {
    const { clock, log, run } = setup();
    const gpu = fakeEngine(GPU, [574], clock, log);
    const ort = fakeEngine(ORT, [143], clock, log);
    const out = await runTrial(gpu, Promise.resolve(ort), ADAPTER, run);
    expect(out.keep).toBe(ort);
    expect(out.drop).toBe(gpu);
    expect(out.message).toBe(`${ORT} kept: 143 ms/frame against 574 ms/frame on WebGPU (software adapter ${ADAPTER}).`);
    // One after the other: every WebGPU frame before ONNX Runtime's first.
    expect(log.lastIndexOf(`run ${GPU}`)).toBeLessThan(log.indexOf(`load ${ORT}`));
    expect([...gpu.inputs, ...ort.inputs].every((x) => x === run.input)).toBe(true);

    const { clock: c2, log: l2, run: r2 } = setup();
    const fastGpu = fakeEngine(GPU, [20], c2, l2);
    const slowOrt = fakeEngine(ORT, [90], c2, l2);
    const out2 = await runTrial(fastGpu, Promise.resolve(slowOrt), ADAPTER, r2);
    expect([out2.keep, out2.drop]).toEqual([fastGpu, slowOrt]);
  });

  test('ONNX Runtime Web that did not start, or cannot load the model: WebGPU is kept, and the sentence says why', async () => {
    const { clock, log, run } = setup();
    const gpu = fakeEngine(GPU, [574], clock, log);
    const out = await runTrial(gpu, Promise.reject(new Error('wasm 404')), ADAPTER, run);
    expect([out.keep, out.drop]).toEqual([gpu, null]);
    expect(out.message).toBe(`WebGPU kept: 574 ms/frame; ONNX Runtime Web could not start: wasm 404 (software adapter ${ADAPTER}).`);

    const ort = fakeEngine(ORT, [1], clock, log, { load: 'unsupported op' });
    const out2 = await runTrial(gpu, Promise.resolve(ort), ADAPTER, run);
    expect([out2.keep, out2.drop]).toEqual([gpu, ort]);
    expect(out2.message).toBe(`WebGPU kept: 574 ms/frame; ${ORT} could not load Digits: unsupported op (software adapter ${ADAPTER}).`);
  });

  test('WebGPU that cannot load the model: ONNX Runtime Web is kept', async () => {
    const { clock, log, run } = setup();
    const gpu = fakeEngine(GPU, [1], clock, log, { load: 'buffer too large' });
    const ort = fakeEngine(ORT, [143], clock, log);
    const out = await runTrial(gpu, Promise.resolve(ort), ADAPTER, run);
    expect([out.keep, out.drop]).toEqual([ort, gpu]);
  });
});

describe('who is timed', () => {
  const engines = (software: string | null) => {
    const made: string[] = [];
    const fake = (backendName: string, o: Partial<InferenceEngine> = {}) => ({ backendName, maxInputSize: 512, ...o }) as InferenceEngine;
    const makers = {
      webgpu: async () => (made.push('webgpu'), fake('webgpu', { softwareAdapter: software })),
      onnxWasm: async () => (made.push('onnx'), fake('onnx', { maxInputSize: 224 })),
      cpu: () => fake('cpu'),
    };
    return { made, pick: (pref: BackendPreference) => createEngine(pref, makers) };
  };

  test('auto on a software adapter starts ONNX Runtime Web beside WebGPU, to be timed against it', async () => {
    const { made, pick } = engines(ADAPTER);
    const c = await pick('auto');
    expect(c.engine.backendName).toBe('webgpu');
    expect(c.fallbackReason).toBeNull();
    expect((await c.rival!).backendName).toBe('onnx');
    expect(made).toEqual(['webgpu', 'onnx']);
    // Until one is kept, inputs stay within what either takes.
    expect(largestInput(c)).toBe(224);
  });

  test('a hardware adapter, or WebGPU asked for: WebGPU alone, untimed', async () => {
    const hardware = engines(null);
    const c = await hardware.pick('auto');
    expect(c.rival ?? null).toBeNull();
    expect(hardware.made).toEqual(['webgpu']);
    expect(largestInput(c)).toBe(512);
    const asked = engines(ADAPTER);
    expect((await asked.pick('webgpu')).rival ?? null).toBeNull();
    expect(asked.made).toEqual(['webgpu']);
    const wasm = engines(ADAPTER);
    expect((await wasm.pick('onnx-wasm')).engine.backendName).toBe('onnx');
    expect(wasm.made).toEqual(['onnx']);
  });
});
