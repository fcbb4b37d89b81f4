/** Picks the engine: WebGPU when the browser has an adapter, else the CPU reference — and says so. */
import { CpuWorkerEngine } from './cpuWorkerEngine.ts';
import type { InferenceEngine } from './types.ts';
import { WebGpuEngine } from './webGpuEngine.ts';

export type BackendPreference = 'auto' | 'webgpu' | 'cpu';

export interface EngineChoice {
  engine: InferenceEngine;
  /** Why the engine is not WebGPU (null when it is). */
  fallbackReason: string | null;
}

export async function createEngine(preference: BackendPreference): Promise<EngineChoice> {
  if (preference === 'cpu') return { engine: new CpuWorkerEngine(), fallbackReason: 'the CPU reference was asked for (backend=cpu)' };
  try {
    return { engine: await WebGpuEngine.create(), fallbackReason: null };
  } catch (e) {
    if (preference === 'webgpu') throw e;
    return { engine: new CpuWorkerEngine(), fallbackReason: (e as Error).message };
  }
}

/** The message shown whenever the CPU reference runs instead of WebGPU. */
export function fallbackMessage(reason: string, size: number): string {
  return `WebGPU is not available (${reason}): running the CPU reference at ${size}×${size}.`;
}
