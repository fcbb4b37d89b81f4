/**
 * Picks the engine: WebGPU when the browser has an adapter, else ONNX Runtime Web on wasm, else
 * (ORT failed to start) the CPU reference — and always says which one runs and why. Where the
 * adapter is a software one (SwiftShader…), `auto` starts ONNX Runtime Web too, and the faster of
 * the two on the first model is kept (`logic/engineTrial.ts`, `hooks/useEngineTrial.ts`).
 */
import { oneLine as message } from '../logic/errors.ts';
import { CpuWorkerEngine } from './cpuWorkerEngine.ts';
import { ONNX_MAX_INPUT_SIZE, OnnxWasmEngine } from './onnxWasmEngine.ts';
import type { InferenceEngine } from './types.ts';
import { WebGpuEngine } from './webGpuEngine.ts';

export type BackendPreference = 'auto' | 'webgpu' | 'onnx-wasm' | 'cpu';

export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'webgpu', 'onnx-wasm', 'cpu'];

export interface EngineChoice {
  engine: InferenceEngine;
  /** Why the engine is not WebGPU (null when it is). */
  fallbackReason: string | null;
  /**
   * `auto` on a software GPU adapter: ONNX Runtime Web, started beside WebGPU (`engine`) to be
   * timed against it; the trial keeps one of them. Absent or null otherwise.
   */
  rival?: Promise<InferenceEngine> | null;
}

type Maker = () => Promise<InferenceEngine>;

/** How each engine is made (tests pass their own). */
export interface EngineMakers {
  webgpu: Maker;
  onnxWasm: Maker;
  cpu: () => InferenceEngine;
}

const MAKERS: EngineMakers = {
  webgpu: () => WebGpuEngine.create(),
  onnxWasm: () => OnnxWasmEngine.create(),
  cpu: () => new CpuWorkerEngine(),
};

/**
 * `auto`: WebGPU, else ONNX Runtime Web (wasm), else the CPU reference; on a software adapter,
 * WebGPU with ONNX Runtime Web as its `rival`. `webgpu` and `onnx-wasm` fail rather than run
 * something else, and are never timed against another; `cpu` is the CPU reference.
 */
export async function createEngine(preference: BackendPreference, makers: EngineMakers = MAKERS): Promise<EngineChoice> {
  if (preference === 'cpu') return { engine: makers.cpu(), fallbackReason: 'the CPU reference was asked for (backend=cpu)' };
  if (preference === 'onnx-wasm') return { engine: await makers.onnxWasm(), fallbackReason: 'ONNX Runtime Web was asked for (backend=onnx-wasm)' };
  let noGpu: string;
  try {
    const engine = await makers.webgpu();
    if (preference !== 'auto' || !engine.softwareAdapter) return { engine, fallbackReason: null };
    const rival = makers.onnxWasm();
    rival.catch(() => {}); // the trial reports it
    return { engine, fallbackReason: null, rival };
  } catch (e) {
    if (preference === 'webgpu') throw e;
    noGpu = message(e);
  }
  try {
    return { engine: await makers.onnxWasm(), fallbackReason: noGpu };
  } catch (e) {
    return { engine: makers.cpu(), fallbackReason: `${noGpu}; ONNX Runtime Web could not start: ${message(e)}` };
  }
}

/** The largest input the engine that runs may take; with a rival (either may be kept), both limits hold. */
export function largestInput(choice: EngineChoice | null): number {
  if (!choice) return 64;
  return choice.rival ? Math.min(choice.engine.maxInputSize, ONNX_MAX_INPUT_SIZE) : choice.engine.maxInputSize;
}

/** "the CPU reference" or the engine's own name ("ONNX Runtime Web (wasm, 2 threads)"). */
function running(engine: InferenceEngine): string {
  return engine.backendName.startsWith('CPU reference') ? 'the CPU reference' : engine.backendName;
}

/** The message shown whenever something other than WebGPU runs. */
export function fallbackMessage(reason: string, engine: InferenceEngine, size: number): string {
  return `WebGPU is not available: running ${running(engine)} at ${size}×${size} (${reason}).`;
}

/** The message when the address asked for a backend (`?backend=cpu|onnx-wasm`). */
export function requestedMessage(engine: InferenceEngine, size: number, preference: BackendPreference): string {
  return `Running ${running(engine)} at ${size}×${size}, as the address asks (backend=${preference}).`;
}
