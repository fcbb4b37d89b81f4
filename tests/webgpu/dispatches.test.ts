/**
 * Dispatches per frame of the WebGPU plan (Node; no GPU needed): the fused plan against the count
 * of an unfused one computed from the graph (one dispatch per conv, neuron layout, add, attention
 * (kᵀv and q·kv), spatial mean, linear and output; BatchNorms always folded into convs or neurons),
 * less the residual adds fused into convs, the neurons fused into the epilogue of the conv
 * producing their input (derived from the graph: see fusibleNeurons), one per attention (kᵀv
 * and q·kᵀv in one dispatch) and, for sibling RepConvs planned as one (q, k and v: siblingMerge.ts),
 * all but one dispatch of each merged chain step and of their three neurons.
 */
import { describe, expect, test } from 'vitest';
import { defaultConfig, PUBLISHED_EMBED_DIMS } from '../../src/model/config.ts';
import { buildModelGraph, type ConvOp, type ModelGraph, type Op } from '../../src/model/graph.ts';
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

/**
 * The neurons the planner runs in a conv's epilogue, from the graph: the input is a non-depthwise
 * conv's result (through unpadded BatchNorms) or a residual add fused into such a conv, the neuron
 * is the first neuron reading it, and its readers need one spike layout, not token-packed (k and v
 * of attention stay lif.wgsl dispatches).
 */
function fusibleNeurons(graph: ModelGraph, mode: RuntimeMode, fusedAdds: Set<string>, mergedConvs: Set<string>, software: boolean): Set<string> {
  const producer = new Map(graph.ops.map((op) => [op.output, op]));
  const readers = new Map<string, { op: Op; index: number }[]>();
  for (const op of graph.ops) op.inputs.forEach((id, index) => readers.set(id, [...(readers.get(id) ?? []), { op, index }]));
  const throughBatchNorms = (id: string) => {
    let src = producer.get(id);
    while (src?.kind === 'batchnorm' && src.pad === 0) src = producer.get(src.inputs[0]);
    return src;
  };
  const out = new Set<string>();
  for (const op of graph.ops) {
    if (op.kind !== 'lif') continue;
    if (readers.get(op.inputs[0])!.find((r) => r.op.kind === 'lif')!.op !== op) continue;
    const src = throughBatchNorms(op.inputs[0]);
    // A merged sibling conv (siblingMerge.ts) feeds several neurons, each reading its channels.
    const fromConv = (src?.kind === 'conv' && src.groups === 1 && !mergedConvs.has(src.name)) || (src?.kind === 'add' && fusedAdds.has(src.name));
    const layouts = new Set((readers.get(op.output) ?? []).map((r) => (r.op.kind === 'attention' && r.index > 0 ? 'token' : 'channel')));
    // The conv the neuron would join (for a fused add: the one whose result only the add reads);
    // on a software adapter only an event-driven one (spikes in, spike mode) takes it.
    const conv = src?.kind === 'add' ? src.inputs.filter((id) => readers.get(id)!.length === 1).map(throughBatchNorms).find((o) => o?.kind === 'conv') : src;
    const eventDriven = mode === 'spike' && conv !== undefined && conv.kind === 'conv' && producer.get(conv.inputs[0])?.kind === 'lif';
    if (software && !eventDriven) continue;
    if (fromConv && (mode === 'dense' || (layouts.size <= 1 && !layouts.has('token')))) out.add(op.name);
  }
  return out;
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
    for (const [mode, software] of [['spike', false], ['dense', false], ['spike', true]] as const) {
      test(`${m.name}, ${mode}${software ? ', software adapter' : ''}: residual adds and neurons fused into convs, attention in one dispatch`, () => {
        const graph = buildModelGraph(m.config, m.h, m.w);
        const plan = buildPlan(graph, null, { mode, software });
        const unfused = unfusedDispatches(graph, mode);
        const adds = graph.ops.filter((op) => op.kind === 'add').length;
        const lifs = graph.ops.filter((op) => op.kind === 'lif').length;
        const addSteps = plan.steps.filter((s) => ['residual', 'residual_lif', 'tile_residual', 'tile_residual_lif', 'block_residual', 'block_residual_lif'].includes(s.program.entry));
        const fusedAdds = new Set(addSteps.flatMap((s) => s.ops.filter((name) => graph.ops.find((op) => op.name === name)!.kind === 'add')));
        const neuronSteps = plan.steps.filter((s) => s.lifs.length && s.program.shader !== 'lif');
        // Sibling RepConvs planned as one (q, k, v of each attention): dispatches with the same
        // conv of the three branches, all reading one value through the same chain.
        const kindOf = new Map(graph.ops.map((op) => [op.name, op]));
        const branchless = (name: string) => name.replace(/\.(q|k|v)_conv\./, '.*_conv.');
        const convGroups = plan.steps.map((s) => {
          const groups = new Map<string, string[]>();
          for (const name of s.ops.filter((n) => kindOf.get(n)!.kind === 'conv')) groups.set(branchless(name), [...(groups.get(branchless(name)) ?? []), name]);
          return [...groups.values()];
        });
        const merged = convGroups.flat().filter((convs) => convs.length > 1);
        const attentions = graph.ops.filter((op) => op.kind === 'attention').length;
        expect(merged.length).toBe(3 * attentions); // the 1×1, the depthwise and the second 1×1 of q, k, v
        for (const convs of merged) expect(convs.length).toBe(3);
        const mergedConvs = new Set(merged.flat());
        // On a hardware adapter, RepConv's depthwise 3×3 runs inside the 1×1 reading it (one per
        // attention's merged q/k/v chain and one per proj); a software adapter keeps both dispatches.
        const isDepthwise = (name: string) => { const op = kindOf.get(name) as ConvOp; return op.groups > 1 && op.groups === op.inChannels; };
        const inlined = convGroups.filter((groups) => groups.length > 1).flat().filter((convs) => isDepthwise(convs[0])).length;
        const repConvDepthwise = new Set(graph.ops.filter((op) => op.kind === 'conv' && op.name.endsWith('.0.body.2.0')).map((op) => branchless(op.name))).size;
        expect(repConvDepthwise).toBe(2 * attentions);
        expect(inlined).toBe(software ? 0 : repConvDepthwise);
        // On a hardware adapter every conv but the depthwise ones runs tiled in workgroup memory
        // (conv_tile.wgsl: dense_conv's GEMM, spike_conv's event-driven tile), among them every
        // 1×1 that computes RepConv's depthwise inside, with or without a fused neuron; a software
        // adapter runs none tiled.
        const convSteps = plan.steps.filter((s) => s.program.shader === 'dense_conv' || s.program.shader === 'spike_conv');
        const tiledSteps = convSteps.filter((s) => s.program.entry.startsWith('tile'));
        expect(tiledSteps.length).toBe(software ? 0 : convSteps.length);
        expect(tiledSteps.some((s) => s.program.shader === 'spike_conv')).toBe(!software && mode === 'spike');
        const expected = fusibleNeurons(graph, mode, fusedAdds, mergedConvs, software);
        console.log(`${m.name} ${mode}: ${plan.steps.length} dispatches (unfused ${unfused}; ${fusedAdds.size} of ${adds} adds and ${neuronSteps.length} of ${lifs} neurons fused into convs, attention in one step each) ${JSON.stringify(byKernel(plan))}`);
        expect(fusedAdds.size).toBe(addSteps.length);
        expect(fusedAdds.size).toBeGreaterThan(0);
        expect(neuronSteps.map((s) => s.lifs[0].name).sort()).toEqual([...expected].sort());
        expect(expected.size).toBeGreaterThan(software ? lifs / 3 : lifs / 2);
        expect(plan.steps.filter((s) => s.program.shader === 'attention').length).toBe(attentions);
        const merges = merged.reduce((n, convs) => n + convs.length - 1, 0);
        // The neurons of each merged chain (q, k, v) share one lif.wgsl dispatch.
        const shared = plan.steps.filter((s) => s.lifs.length > 1);
        const blocks = graph.ops.filter((op) => op.kind === 'attention').map((op) => op.name.replace(/\.kv$/, ''));
        expect(shared.map((s) => s.lifs.map((l) => l.name))).toEqual(blocks.map((b) => [`${b}.q_lif`, `${b}.k_lif`, `${b}.v_lif`]));
        expect(shared.every((s) => s.program.shader === 'lif')).toBe(true);
        const sharing = shared.reduce((n, s) => n + s.lifs.length - 1, 0);
        // The linear classifier head(s) run with the logits' mean over T (head.wgsl classifier).
        const linears = graph.ops.filter((op) => op.kind === 'linear').map((op) => op.name);
        const classifier = plan.steps.filter((s) => s.program.entry === 'classifier');
        expect(classifier).toHaveLength(1);
        expect(classifier[0].ops).toEqual([...linears, 'logits']);
        expect(plan.steps.length).toBe(unfused - fusedAdds.size - expected.size - attentions - merges - sharing - inlined - linears.length);
        // The goal of at most 100 dispatches a frame for the 15M layout at T = 1, on a hardware adapter.
        if (m.name.startsWith('15M') && !software) expect(plan.steps.length).toBeLessThanOrEqual(100);
        // Every graph op is in exactly one dispatch (BatchNorms folded into their conv or neuron).
        const folded = plan.steps.flatMap((s) => s.ops);
        expect(new Set(folded).size).toBe(folded.length);
        for (const op of graph.ops) if (op.kind !== 'batchnorm') expect(folded, op.name).toContain(op.name);
        // Neuron layers stay in graph order (the CPU reference's), fused or not.
        expect(plan.lifs.map((l) => l.name)).toEqual(graph.ops.filter((op) => op.kind === 'lif').map((op) => op.name));
      });
    }
  }
});

describe('the plan for a software adapter', () => {
  test('dense convs without a fused neuron compute 4 columns per thread at any size; on a GPU small ones compute 1', () => {
    const graph = buildModelGraph(digitsConfig(), 32, 32);
    const columns = (software: boolean) => buildPlan(graph, null, { mode: 'spike', software }).steps
      .filter((s) => s.program.shader === 'dense_conv' && !s.lifs.length).map((s) => s.program.defines.COLS);
    const gpu = columns(false);
    const cpu = columns(true);
    // (a software adapter runs every dense conv without a neuron: those a GPU fuses one into too)
    const fusedOnGpu = buildPlan(graph, null, { mode: 'spike' }).steps.filter((s) => s.program.shader === 'dense_conv' && s.lifs.length).length;
    expect(cpu.length).toBe(gpu.length + fusedOnGpu);
    expect(gpu).toContain(1); // a 32×32 input has layers too small to fill a GPU at 4 columns
    expect(cpu.every((c) => c === 4)).toBe(true);
    // the same dispatches otherwise, but for RepConv's depthwise convs, which a software adapter
    // runs on their own, and the neurons that a hardware adapter fuses into dense_conv, which a
    // software adapter runs in lif.wgsl (it fuses neurons only into the event-driven blocked convs)
    const software = buildPlan(graph, null, { software: true }).steps;
    const hardware = buildPlan(graph, null).steps;
    const depthwise = software.filter((s) => s.program.shader === 'dense_dwconv' && s.ops.some((name) => name.endsWith('.0.body.2.0')));
    expect(depthwise.length).toBeGreaterThan(0);
    const denseNeurons = hardware.filter((s) => s.program.shader === 'dense_conv' && s.lifs.length);
    expect(denseNeurons.length).toBeGreaterThan(0);
    expect(software.filter((s) => s.program.shader === 'dense_conv' && s.lifs.length)).toEqual([]);
    expect(software.filter((s) => s.program.shader === 'spike_conv' && s.lifs.length).length).toBeGreaterThan(0);
    expect(software.length).toBe(hardware.length + depthwise.length + denseNeurons.length);
    expect(hardware.filter((s) => s.program.defines.DW === 1).length).toBe(depthwise.length);
  });
});
