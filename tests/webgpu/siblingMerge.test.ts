/**
 * siblingMerge.ts (Node, no GPU): which RepConv chains the planner reads as one, and what it
 * hands the planner for them: names, shapes, concatenated weights, the channel range of each
 * neuron. That the merged plan computes the same spikes is tested bit for bit in
 * reference.browser.test.ts and kernels.browser.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { defaultConfig } from '../../src/model/config.ts';
import { buildModelGraph, type ConvOp, type LifOp } from '../../src/model/graph.ts';
import { randomModelWeights } from '../../src/runtime/cpu/randomWeights.ts';
import { mergedName, mergeSiblingRepConvs } from '../../src/runtime/webgpu/siblingMerge.ts';

describe('sibling RepConvs read as one', () => {
  const config = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, timeSteps: 2, depths: [1, 1] });
  const graph = buildModelGraph(config, 32, 32);
  const weights = randomModelWeights(config, { seed: 3 });
  const merged = mergeSiblingRepConvs(graph, weights);

  test('names say which branches a merged op stands for', () => {
    expect(mergedName(['b.attn.q_conv.0.body.0', 'b.attn.k_conv.0.body.0', 'b.attn.v_conv.0.body.0'])).toBe('b.attn.{q,k,v}_conv.0.body.0');
  });

  test('q, k and v of each attention block: one chain, each neuron on its channel range', () => {
    const attentions = graph.ops.filter((op) => op.kind === 'attention').length;
    expect(attentions).toBe(2);
    const convs = merged.graph.ops.filter((op): op is ConvOp => op.kind === 'conv' && merged.origin.has(op.name));
    expect(convs.length).toBe(3 * attentions);
    for (const conv of convs) {
      const parts = merged.origin.get(conv.name)!;
      expect(parts.map((p) => p.replace(/\.(q|k|v)_conv\./, '.*_conv.'))).toEqual(Array(3).fill(parts[0].replace(/\.q_conv\./, '.*_conv.')));
      const original = graph.ops.find((op) => op.name === parts[0]) as ConvOp;
      expect(conv.outChannels).toBe(3 * original.outChannels);
      expect(merged.graph.shapes.get(conv.output)![0]).toBe(3 * graph.shapes.get(original.output)![0]);
      // the weights of the three branches, one after the other
      const w = merged.weights!.get(conv.weight)!;
      const pieces = parts.map((p) => weights.get((graph.ops.find((op) => op.name === p) as ConvOp).weight)!);
      expect(Array.from(w)).toEqual(pieces.flatMap((x) => Array.from(x)));
    }
    // the depthwise conv covers every channel; the second 1×1 has one group per branch
    expect(convs.filter((c) => c.groups === c.inChannels).length).toBe(attentions);
    expect(convs.filter((c) => c.groups === 3).length).toBe(attentions);
    // each neuron reads its branch's channels of the merged result, in graph order
    const lifs = merged.graph.ops.filter((op): op is LifOp => op.kind === 'lif' && merged.slices.has(op.inputs[0]));
    expect(lifs.map((l) => l.name)).toEqual(graph.ops.filter((op) => /\.(q|k|v)_lif$/.test(op.name)).map((op) => op.name));
    expect(lifs.map((l) => merged.slices.get(l.inputs[0])!.channelOffset)).toEqual([0, 64, 128, 0, 96, 192]);
    expect(merged.graph.ops.filter((op) => op.kind === 'lif').map((op) => op.name)).toEqual(graph.ops.filter((op) => op.kind === 'lif').map((op) => op.name));
    // every other op is untouched and nothing is lost: each graph op is the merged graph's or part of a merged one
    const covered = new Set(merged.graph.ops.flatMap((op) => merged.origin.get(op.name) ?? [op.name]));
    for (const op of graph.ops) expect(covered.has(op.name), op.name).toBe(true);
  });

  test('without weights only the shapes are planned; a graph with no siblings comes back as it is', () => {
    expect(mergeSiblingRepConvs(graph, null).weights).toBeNull();
    expect(mergeSiblingRepConvs(graph, null).graph.ops.length).toBe(merged.graph.ops.length);
    const noAttention = buildModelGraph(defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, timeSteps: 1, depths: [0, 0] }), 32, 32);
    const same = mergeSiblingRepConvs(noAttention, null);
    expect(same.graph).toBe(noAttention);
    expect(same.origin.size).toBe(0);
  });
});
