import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/model/config.ts';
import { E_AC_PJ, E_MAC_PJ, estimateEnergy, layerCosts } from '../../src/model/cost.ts';
import { buildModelGraph, lifOps } from '../../src/model/graph.ts';

const graph = buildModelGraph(defaultConfig({ embedDims: [64, 128, 256, 360], numClasses: 1000, timeSteps: 2 }), 224, 224);

function uniformSpikes(rate: number) {
  return lifOps(graph).map((op) => {
    const [c, h, w] = graph.shapes.get(op.output)!;
    return { name: op.name, neuronsPerStep: c * h * w, onesPerStep: [rate * c * h * w, rate * c * h * w] };
  });
}

describe('operation counts and energy', () => {
  const costs = layerCosts(graph);

  it('counts conv, linear and attention MACs from the graph', () => {
    const byName = new Map(costs.map((c) => [c.name, c]));
    expect(byName.get('downsample1_1.encode_conv')!.macs).toBe(32 * 112 * 112 * 3 * 7 * 7);
    expect(byName.get('ConvBlock1_1.0.Conv.dwconv')!.macs).toBe(64 * 112 * 112 * 49);
    expect(byName.get('block3.0.mlp.fc1_conv')!.macs).toBe(1024 * 14 * 14 * 256);
    expect(byName.get('head')!.macs).toBe(360 * 1000);
    expect(byName.get('block3.0.attn.kv')!.macs).toBe(2 * 8 * 32 * 32 * 196);
    expect(byName.get('block3.0.attn.kv')!.spikeInput).toBe('block3.0.attn.q_lif');
    expect(byName.get('ConvBlock1_1.0.Conv.pwconv2')!.spikeInput).toBeNull();
    expect(byName.get('block3.0.mlp.fc2_conv')!.spikeInput).toBe('block3.0.mlp.fc2_lif');
  });

  it('silent network: only the stem costs energy', () => {
    const e = estimateEnergy(graph, uniformSpikes(0));
    expect(e.sops).toBe(0);
    expect(e.stemMacs).toBe(2 * 32 * 112 * 112 * 147);
    expect(e.energyUj).toBeCloseTo(E_MAC_PJ * e.stemMacs * 1e-6, 6);
  });

  it('SOPs scale with the firing rate and reach the spike layers\' dense MACs at rate 1', () => {
    const full = estimateEnergy(graph, uniformSpikes(1));
    const tenth = estimateEnergy(graph, uniformSpikes(0.1));
    expect(full.sops).toBeCloseTo(full.denseMacs - full.stemMacs - full.otherRealMacs, 0);
    expect(tenth.sops).toBeCloseTo(full.sops / 10, 0);
    expect(tenth.energyUj).toBeCloseTo((E_MAC_PJ * tenth.stemMacs + E_AC_PJ * tenth.sops) * 1e-6, 6);
    expect(tenth.energyUj).toBeLessThan(tenth.annEnergyUj);
  });
});
