/**
 * Dispatches per frame of the WebGPU plan (Node; no GPU needed): the fused plan against the count
 * of an unfused one computed from the graph (one dispatch per conv, neuron layout, add, attention
 * (kᵀv and q·kv), spatial mean, linear and output; BatchNorms always folded into convs or neurons).
 */
import { describe, expect, test } from 'vitest';
import { defaultConfig, PUBLISHED_EMBED_DIMS } from '../../src/model/config.ts';
import { buildModelGraph, type ModelGraph } from '../../src/model/graph.ts';
import { buildPlan, type ExecutionPlan, type RuntimeMode } from '../../src/runtime/webgpu/plan.ts';
import { digitsConfig } from '../helpers/headsModel.ts';

/** Dispatches without the residual fusion: every add its own dispatch. */
function unfusedDispatches(graph: ModelGraph, mode: RuntimeMode): number {
  const readers = new Map<string, { kind: string; index: number }[]>();
  for (const op of graph.ops) op.inputs.forEach((id, index) => readers.set(id, [...(readers.get(id) ?? []), { kind: op.kind, index }]));
  let n = 0;
  for (const op of graph.ops) {
    switch (op.kind) {
      case 'batchnorm': break;
      case 'attention': n += 2; break;
      case 'lif': {
        // One dispatch per spike layout its readers need (spike mode: channel-packed, and token-packed for k and v).
        const r = readers.get(op.output) ?? [];
        n += mode === 'dense' ? 1 : Math.max(1, new Set(r.map((x) => (x.kind === 'attention' && x.index > 0 ? 'token' : 'channel'))).size);
        break;
      }
      default: n += 1;
    }
  }
  return n;
}

function byKernel(plan: ExecutionPlan): Record<string, number> {
  const by: Record<string, number> = {};
  for (const s of plan.steps) {
    const k = `${s.program.shader}${s.program.entry === 'main' ? '' : `.${s.program.entry}`}`;
    by[k] = (by[k] ?? 0) + 1;
  }
  return by;
}

describe('dispatches per frame', () => {
  const models = [
    { name: '15M T=1 224×224', config: defaultConfig({ embedDims: PUBLISHED_EMBED_DIMS['15M'], numClasses: 1000, timeSteps: 1 }), h: 224, w: 224 },
    { name: 'digits (T=2 32×32, all tasks)', config: digitsConfig(), h: 32, w: 32 },
  ];
  for (const m of models) {
    for (const mode of ['spike', 'dense'] as const) {
      test(`${m.name}, ${mode}: residual adds fused into convs`, () => {
        const graph = buildModelGraph(m.config, m.h, m.w);
        const plan = buildPlan(graph, null, { mode });
        const unfused = unfusedDispatches(graph, mode);
        const adds = graph.ops.filter((op) => op.kind === 'add').length;
        const fusedAdds = plan.steps.filter((s) => s.program.entry === 'residual').length;
        console.log(`${m.name} ${mode}: ${plan.steps.length} dispatches (unfused ${unfused}; ${fusedAdds} of ${adds} adds fused) ${JSON.stringify(byKernel(plan))}`);
        expect(fusedAdds).toBeGreaterThan(0);
        expect(plan.steps.length).toBe(unfused - fusedAdds);
        expect(plan.steps.length).toBeLessThan(unfused);
        // Every graph op is in exactly one dispatch (BatchNorms folded into their conv or neuron).
        const folded = plan.steps.flatMap((s) => s.ops);
        expect(new Set(folded).size).toBe(folded.length);
        for (const op of graph.ops) if (op.kind === 'add') expect(folded, op.name).toContain(op.name);
      });
    }
  }
});
