/**
 * GPU memory of the WebGPU runtime for a model config and input size, from the plan alone (no
 * weights, no GPU): bytes by role, the largest single buffer (against the default 128 MiB
 * storage-binding limit) and the most storage buffers one dispatch binds (default limit 8).
 */
import type { ModelConfig } from '../../model/config.ts';
import { buildModelGraph } from '../../model/graph.ts';
import { buildPlan, type BufferRole, type RuntimeMode } from './plan.ts';

export interface MemoryReport {
  embedDims: number[];
  input: [number, number];
  timeSteps: number;
  mode: RuntimeMode;
  bytes: Record<BufferRole, number>;
  totalBytes: number;
  largestBuffer: { label: string; bytes: number };
  buffers: number;
  dispatches: number;
  maxStorageBindings: number;
  denseMacs: number;
}

export const DEFAULT_MAX_STORAGE_BINDING = 128 * 2 ** 20;

export function memoryReport(config: ModelConfig, height: number, width: number, mode: RuntimeMode = 'spike'): MemoryReport {
  const plan = buildPlan(buildModelGraph(config, height, width), null, { mode });
  const largest = plan.buffers.reduce((a, b) => (b.size > a.size ? b : a));
  return {
    embedDims: config.embedDims, input: [height, width], timeSteps: config.timeSteps, mode,
    bytes: plan.memory,
    totalBytes: Object.values(plan.memory).reduce((a, b) => a + b, 0),
    largestBuffer: { label: largest.label, bytes: largest.size },
    buffers: plan.buffers.length,
    dispatches: plan.steps.length,
    maxStorageBindings: Math.max(...plan.steps.map((s) => Object.keys(s.bindings).length)),
    denseMacs: plan.steps.reduce((a, s) => a + s.macs, 0),
  };
}
