/**
 * `auto` on a software GPU adapter (SwiftShader and the like, where "the GPU" is emulated on the
 * CPU): WebGPU and ONNX Runtime Web (wasm) each load the first model and run a few frames of the
 * same input, and the faster engine is kept. ORT's wasm kernels often beat our WebGPU path there
 * (about 4× on the project's 2-core SwiftShader machines); on a hardware adapter WebGPU is kept
 * without timing, and a backend asked for in the address is never timed against another.
 *
 * `timeEngine` times one engine (warm-up frames left out, the median of the rest), `keepFaster`
 * decides from both timings and says why in one sentence, `runTrial` does both in turn: plain
 * functions over the engine interface, so they are tested in Node with fake engines and clocks.
 */
import type { AppModel, EngineRequest, InferenceEngine, LoadOptions } from '../engine/types.ts';
import { oneLine } from './errors.ts';

/** Frames run first and not timed (pipelines compiled, buffers made, caches warm). */
export const TRIAL_WARMUP = 1;
/** Frames timed per engine; their median is the engine's time. */
export const TRIAL_FRAMES = 5;

/** Names of adapters that run on the CPU, for browsers that do not flag them as fallback adapters. */
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render/i;

/** A fallback adapter (the browser says so), or one named as a CPU rasterizer. */
export function isSoftwareAdapter(fallback: boolean, description: string): boolean {
  return fallback || SOFTWARE_NAMES.test(description);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One engine's trial: its median time per frame, or what went wrong ("could not start: …"). */
export type Timing = { ms: number } | { error: string };

export interface Contender {
  /** The engine's name as the page shows it ("WebGPU", "ONNX Runtime Web (wasm, 2 threads)"). */
  name: string;
  timing: Timing;
}

export interface Verdict {
  keep: 'webgpu' | 'wasm';
  /** "ONNX Runtime Web (wasm, 2 threads) kept: 143 ms/frame against 574 ms/frame on WebGPU (software adapter …)." */
  message: string;
}

const msText = (ms: number) => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
const msOf = (c: Contender) => ('ms' in c.timing ? c.timing.ms : null);
const errorOf = (c: Contender) => ('error' in c.timing ? c.timing.error : '');

/**
 * The faster of the two on `adapter` (its description, "google · swiftshader"); a tie keeps
 * WebGPU, which also gives spike maps and membranes. One that failed loses to one that ran; when
 * neither ran, WebGPU is kept (the model's own error is then reported as on any engine).
 */
export function keepFaster(webgpu: Contender, wasm: Contender, adapter: string): Verdict {
  const why = `(software adapter ${adapter})`;
  const g = msOf(webgpu);
  const w = msOf(wasm);
  if (g === null && w === null) {
    return { keep: 'webgpu', message: `${webgpu.name} kept, untimed: it ${errorOf(webgpu)}, and ${wasm.name} ${errorOf(wasm)} ${why}.` };
  }
  const keep = w !== null && (g === null || w < g) ? 'wasm' : 'webgpu';
  const [kept, keptMs, other, otherMs] = keep === 'wasm' ? [wasm, w!, webgpu, g] : [webgpu, g!, wasm, w];
  const tail = otherMs !== null ? ` against ${msText(otherMs)} ms/frame on ${other.name}` : `; ${other.name} ${errorOf(other)}`;
  return { keep, message: `${kept.name} kept: ${msText(keptMs)} ms/frame${tail} ${why}.` };
}

/** What both engines run: the model, loaded as the app loads it, and one normalized `[3, H, W]` input. */
export interface TrialRun {
  model: AppModel;
  options: LoadOptions;
  input: Float32Array;
  warmup?: number;
  frames?: number;
  /** The clock (tests pass their own). */
  now?: () => number;
}

/** Counts and logits only: both engines do the same work. */
const NOTHING_MORE: EngineRequest = { spikeMaps: [], membranes: [] };

/** Loads the model into `engine` and times its frames: the median after the warm-up. */
export async function timeEngine(engine: InferenceEngine, run: TrialRun): Promise<Timing> {
  const now = run.now ?? (() => performance.now());
  try {
    await engine.load(run.model, run.options);
  } catch (e) {
    return { error: `could not load ${run.model.name}: ${oneLine(e)}` };
  }
  try {
    for (let i = 0; i < (run.warmup ?? TRIAL_WARMUP); i++) await engine.runFrame(run.input, NOTHING_MORE);
    const times: number[] = [];
    for (let i = 0; i < (run.frames ?? TRIAL_FRAMES); i++) {
      const t0 = now();
      await engine.runFrame(run.input, NOTHING_MORE);
      times.push(now() - t0);
    }
    return { ms: median(times) };
  } catch (e) {
    return { error: `could not run ${run.model.name}: ${oneLine(e)}` };
  }
}

export interface TrialOutcome {
  keep: InferenceEngine;
  /** The engine not kept (null when ONNX Runtime Web did not start). */
  drop: InferenceEngine | null;
  message: string;
}

/** The name ONNX Runtime Web goes by when it did not start (so it has no name of its own). */
const ORT = 'ONNX Runtime Web';

/**
 * Times `webgpu` (on the software adapter `adapter`), then the engine `wasm` resolves to, one after
 * the other (together they would share the CPU), and keeps the faster.
 */
export async function runTrial(webgpu: InferenceEngine, wasm: Promise<InferenceEngine>, adapter: string, run: TrialRun): Promise<TrialOutcome> {
  const gpuTiming = await timeEngine(webgpu, run);
  let other: InferenceEngine | null = null;
  let wasmTiming: Timing;
  try {
    other = await wasm;
    wasmTiming = await timeEngine(other, run);
  } catch (e) {
    wasmTiming = { error: `could not start: ${oneLine(e)}` };
  }
  const v = keepFaster({ name: webgpu.backendName, timing: gpuTiming }, { name: other?.backendName ?? ORT, timing: wasmTiming }, adapter);
  return v.keep === 'wasm' && other ? { keep: other, drop: webgpu, message: v.message } : { keep: webgpu, drop: other, message: v.message };
}

/** The message while the trial runs. */
export function trialPending(webgpu: string, adapter: string): string {
  return `Timing ${webgpu} against ${ORT} (wasm) on the first model, to keep the faster: the GPU adapter is a software one (${adapter})…`;
}

/** The trial's input: a smooth deterministic pattern in normalized units (about ±1.5), `[3, h, w]`. */
export function trialInput(height: number, width: number): Float32Array {
  const out = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) out[(c * height + y) * width + x] = 1.5 * Math.sin(0.21 * x + 0.9 * c) * Math.cos(0.17 * y - 0.5 * c);
    }
  }
  return out;
}
