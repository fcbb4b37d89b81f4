/**
 * Sibling RepConvs read as one (planner only; the model graph, the CPU reference and the ONNX
 * export keep the official ops). Where several branches read the same value through the same
 * chain — a 1×1 conv without bias, a padded BatchNorm, a depthwise conv, a 1×1 conv, BatchNorms,
 * then a neuron (q, k and v of spike-driven self-attention) — the planner sees one branch with
 * the channels side by side: the 1×1 convs and BatchNorms with their output channels concatenated,
 * the depthwise conv over all of them, the second 1×1 as a grouped conv (one group per branch),
 * and each neuron reading its branch's channels of the result. Every output channel keeps its own
 * arithmetic in the same order, so the values are bit for bit those of the separate branches; the
 * frame has 2 dispatches instead of 2·(branches) per chain step.
 *
 * Found from the graph's structure alone (no names of the architecture are matched).
 */
import type { BatchNormOp, ConvOp, LifOp, ModelGraph, Op, Shape3 } from '../../model/graph.ts';
import type { ModelWeights } from '../../model/weights.ts';

/** A channel range of a planner value: neuron `lif` inputs that are one branch of a merged result. */
export interface ChannelSlice {
  of: string;
  channelOffset: number;
}

export interface MergedGraph {
  graph: ModelGraph;
  /** The weights with the merged tensors added under the merged ops' keys (null stays null). */
  weights: ModelWeights | null;
  /** Merged op name → the graph ops it stands for. */
  origin: Map<string, string[]>;
  /** Values that are a channel range of another value. */
  slices: Map<string, ChannelSlice>;
}

const BN_KEYS = ['weight', 'bias', 'running_mean', 'running_var'] as const;

/** One branch: conv → padded BN → depthwise conv → 1×1 conv → BNs (unpadded) → neuron. */
interface Branch {
  first: ConvOp;
  padBn: BatchNormOp;
  depthwise: ConvOp;
  pointwise: ConvOp;
  bns: BatchNormOp[];
  lif: LifOp;
}

/** `block.{q,k,v}_conv.x` from `block.q_conv.x`, `block.k_conv.x`, `block.v_conv.x`. */
export function mergedName(names: string[]): string {
  let pre = 0;
  while (names.every((n) => pre < n.length && n[pre] === names[0][pre])) pre++;
  let suf = 0;
  while (names.every((n) => suf < n.length - pre && n[n.length - 1 - suf] === names[0][names[0].length - 1 - suf])) suf++;
  return `${names[0].slice(0, pre)}{${names.map((n) => n.slice(pre, n.length - suf)).join(',')}}${names[0].slice(names[0].length - suf)}`;
}

export function mergeSiblingRepConvs(graph: ModelGraph, weights: ModelWeights | null): MergedGraph {
  const readers = new Map<string, Op[]>();
  for (const op of graph.ops) for (const id of op.inputs) readers.set(id, [...(readers.get(id) ?? []), op]);
  const only = (value: string): Op | null => {
    const r = readers.get(value) ?? [];
    return r.length === 1 ? r[0] : null;
  };
  const branchFrom = (op: Op): Branch | null => {
    if (op.kind !== 'conv' || op.kernel !== 1 || op.groups !== 1 || op.stride !== 1 || op.pad !== 0 || op.bias) return null;
    const padBn = only(op.output);
    if (padBn?.kind !== 'batchnorm' || padBn.pad === 0) return null;
    const dw = only(padBn.output);
    if (dw?.kind !== 'conv' || dw.groups !== dw.inChannels || dw.inChannels !== dw.outChannels || dw.pad !== 0 || dw.stride !== 1 || dw.bias) return null;
    const pw = only(dw.output);
    if (pw?.kind !== 'conv' || pw.kernel !== 1 || pw.groups !== 1 || pw.stride !== 1 || pw.pad !== 0 || pw.bias || pw.outChannels % 4 !== 0) return null;
    const bns: BatchNormOp[] = [];
    let next = only(pw.output);
    while (next?.kind === 'batchnorm' && next.pad === 0) {
      bns.push(next);
      next = only(next.output);
    }
    if (next?.kind !== 'lif' || !bns.length) return null;
    return { first: op, padBn, depthwise: dw, pointwise: pw, bns, lif: next };
  };
  const same = (a: Branch, b: Branch) =>
    a.first.inChannels === b.first.inChannels && a.first.outChannels === b.first.outChannels &&
    a.padBn.pad === b.padBn.pad && a.padBn.eps === b.padBn.eps && a.depthwise.kernel === b.depthwise.kernel &&
    a.pointwise.outChannels === b.pointwise.outChannels && a.bns.length === b.bns.length &&
    a.bns.every((bn, i) => bn.eps === b.bns[i].eps);

  const groups = new Map<string, Branch[]>(); // first branch's first op → the group
  const inGroup = new Set<string>(); // ops replaced by the merged ones (the neurons move with their group)
  const seen = new Set<string>();
  for (const op of graph.ops) {
    for (const value of op.inputs) {
      if (seen.has(value)) continue;
      seen.add(value);
      const branches = (readers.get(value) ?? []).map(branchFrom).filter((b): b is Branch => b !== null);
      const group = branches.filter((b) => same(b, branches[0]));
      if (group.length < 2) continue;
      groups.set(group[0].first.name, group);
      for (const b of group) for (const o of [b.first, b.padBn, b.depthwise, b.pointwise, ...b.bns, b.lif]) inGroup.add(o.name);
    }
  }
  const origin = new Map<string, string[]>();
  const slices = new Map<string, ChannelSlice>();
  if (!groups.size) return { graph, weights, origin, slices };

  const shapes = new Map<string, Shape3>(graph.shapes);
  const merged: ModelWeights | null = weights ? new Map(weights) : null;
  const concat = (keys: string[]): Float32Array => {
    const parts = keys.map((k) => {
      const w = weights!.get(k);
      if (!w) throw new Error(`WebGpuRuntime: weight ${k} is missing`);
      return w;
    });
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };
  const ops: Op[] = [];
  for (const op of graph.ops) {
    const group = groups.get(op.name);
    if (!group) {
      if (!inGroup.has(op.name)) ops.push(op);
      continue;
    }
    const m = group.length;
    const name = (pick: (b: Branch) => Op) => {
      const n = mergedName(group.map((b) => pick(b).name));
      origin.set(n, group.map((b) => pick(b).name));
      return n;
    };
    const scaled = (value: string, factor: number): Shape3 => {
      const [c, h, w] = shapes.get(value)!;
      return [c * factor, h, w];
    };
    // The merged conv of the branches' `pick` ops: input channels ×inFactor, output channels ×m.
    const conv = (pick: (b: Branch) => ConvOp, input: string, inFactor: number, groups: number): ConvOp => {
      const c = pick(group[0]);
      const n = name(pick);
      shapes.set(n, scaled(c.output, m));
      if (merged) merged.set(`${n}.weight`, concat(group.map((b) => pick(b).weight)));
      return {
        ...c, name: n, inputs: [input], output: n, params: [], weight: `${n}.weight`,
        inChannels: c.inChannels * inFactor, outChannels: c.outChannels * m, groups,
      };
    };
    const bn = (pick: (b: Branch) => BatchNormOp, input: string): BatchNormOp => {
      const b0 = pick(group[0]);
      const n = name(pick);
      shapes.set(n, scaled(b0.output, m));
      if (merged) for (const k of BN_KEYS) merged.set(`${n}.${k}`, concat(group.map((b) => `${pick(b).prefix}.${k}`)));
      return { ...b0, name: n, inputs: [input], output: n, params: [], prefix: n };
    };
    const first = conv((b) => b.first, op.inputs[0], 1, 1);
    const padBn = bn((b) => b.padBn, first.output);
    const dw = conv((b) => b.depthwise, padBn.output, m, group[0].depthwise.groups * m);
    const pw = conv((b) => b.pointwise, dw.output, m, m);
    ops.push(first, padBn, dw, pw);
    let last = pw.output;
    group[0].bns.forEach((_, i) => {
      const next = bn((b) => b.bns[i], last);
      ops.push(next);
      last = next.output;
    });
    group.forEach((b, i) => {
      const slice = `${b.lif.inputs[0]} (channels of ${last})`;
      shapes.set(slice, shapes.get(b.lif.inputs[0])!);
      slices.set(slice, { of: last, channelOffset: i * b.pointwise.outChannels });
      ops.push({ ...b.lif, inputs: [slice] });
    });
  }
  return { graph: { ...graph, ops, shapes }, weights: merged, origin, slices };
}
