/**
 * The CPU reference engine's worker: builds the graph, runs `CpuReferenceRuntime` and, for image
 * frames, preprocesses on an OffscreenCanvas. Keeps the UI thread free.
 */
import { buildModelGraph } from '../../model/graph.ts';
import { CpuReferenceRuntime } from '../../runtime/cpu/cpuReferenceRuntime.ts';
import type { ModelConfig } from '../../model/config.ts';
import { frameToInput } from './frames.ts';

export type CpuWorkerRequest =
  | { type: 'load'; id: number; config: ModelConfig; weights: [string, Float32Array][]; height: number; width: number }
  | { type: 'run'; id: number; frame: ImageBitmap | Float32Array; spikeMaps: string[]; membranes: string[] };

export type CpuWorkerResponse =
  | { type: 'loaded'; id: number }
  | {
      type: 'result'; id: number; logits: Float32Array; layers: { name: string; onesPerStep: number[]; neuronsPerStep: number }[];
      spikeMaps: [string, Uint8Array][]; membranes: [string, Float32Array][]; outputs: [string, Float32Array][]; ms: number;
    }
  | { type: 'error'; id: number; message: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<CpuWorkerRequest>) => void) | null;
  postMessage(message: CpuWorkerResponse, transfer?: Transferable[]): void;
};

let state: { runtime: CpuReferenceRuntime; config: ModelConfig; height: number; width: number } | null = null;

scope.onmessage = (e) => {
  const msg = e.data;
  try {
    if (msg.type === 'load') {
      state = null;
      const graph = buildModelGraph(msg.config, msg.height, msg.width);
      state = { runtime: new CpuReferenceRuntime(graph, new Map(msg.weights)), config: msg.config, height: msg.height, width: msg.width };
      scope.postMessage({ type: 'loaded', id: msg.id });
      return;
    }
    if (!state) throw new Error('no model is loaded');
    const t0 = performance.now();
    const input = frameToInput(msg.frame, state.width, state.height, state.config.mean, state.config.std);
    const r = state.runtime.run(input, { spikeMaps: msg.spikeMaps, membranes: msg.membranes });
    const spikeMaps = [...r.spikeMaps];
    const membranes = [...r.membranes];
    const outputs = [...(r.outputs ?? new Map<string, Float32Array>())];
    const transfer: Transferable[] = [...new Set<ArrayBufferLike>([r.logits.buffer, ...spikeMaps.map(([, m]) => m.buffer), ...membranes.map(([, m]) => m.buffer), ...outputs.map(([, m]) => m.buffer)])] as Transferable[];
    scope.postMessage({ type: 'result', id: msg.id, logits: r.logits, layers: r.layers, spikeMaps, membranes, outputs, ms: performance.now() - t0 }, transfer);
  } catch (err) {
    scope.postMessage({ type: 'error', id: msg.id, message: (err as Error).message ?? String(err) });
  }
};
