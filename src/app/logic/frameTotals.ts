/** Per-frame totals for the energy panel: spikes, sparsity, SOPs vs MACs and the paper's energy estimate. */
import { estimateEnergy, type EnergyEstimate } from '../../model/cost.ts';
import type { ModelGraph } from '../../model/graph.ts';
import type { LayerSpikes } from '../../runtime/types.ts';

export interface FrameTotals {
  /** Spikes of all neuron layers over all T steps. */
  spikes: number;
  /** Neuron updates (neurons × T). */
  neuronSteps: number;
  /** spikes / neuronSteps. */
  firingRate: number;
  /** 1 − firing rate: the share of neuron updates that stayed silent. */
  sparsity: number;
  energy: EnergyEstimate;
}

export function frameTotals(graph: ModelGraph, layers: LayerSpikes[]): FrameTotals {
  let spikes = 0;
  let neuronSteps = 0;
  for (const l of layers) {
    for (const o of l.onesPerStep) spikes += o;
    neuronSteps += l.neuronsPerStep * l.onesPerStep.length;
  }
  const firingRate = neuronSteps ? spikes / neuronSteps : 0;
  return { spikes, neuronSteps, firingRate, sparsity: 1 - firingRate, energy: estimateEnergy(graph, layers) };
}

/** Firing rate of one layer over all its steps. */
export function layerRate(layer: LayerSpikes): number {
  const ones = layer.onesPerStep.reduce((a, b) => a + b, 0);
  return layer.neuronsPerStep ? ones / (layer.neuronsPerStep * layer.onesPerStep.length) : 0;
}

/** 1234567 → "1.23 M", 4567 → "4.57 k". */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(2)} k`;
  return `${Math.round(n)}`;
}

/** Microjoules with a sensible unit: "12.3 µJ", "0.45 mJ", "830 nJ". */
export function formatEnergy(uj: number): string {
  if (uj >= 1000) return `${(uj / 1000).toFixed(2)} mJ`;
  if (uj >= 1) return `${uj.toFixed(2)} µJ`;
  return `${(uj * 1000).toFixed(0)} nJ`;
}
