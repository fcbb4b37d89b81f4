/**
 * Operation counts and the paper's energy estimate, walked off the model graph.
 *
 * Dense MACs are per time step. A layer whose input comes straight from a neuron is spike-driven:
 * it performs one accumulate (a synaptic operation, SOP) per weight reached by a spike, i.e. its
 * dense MACs × its input firing rate, summed over T. The paper (45 nm figures) estimates
 *   E = E_MAC · MACs(stem) + E_AC · SOPs,  E_MAC = 4.6 pJ, E_AC = 0.9 pJ.
 */
import type { ModelGraph, Op } from './graph.ts';

export const E_MAC_PJ = 4.6;
export const E_AC_PJ = 0.9;

export interface LayerCost {
  /** Op name (official module name). */
  name: string;
  kind: Op['kind'];
  /** Dense multiply-accumulates of one time step. */
  macs: number;
  /** The neuron layer feeding it, when the input is spikes (for attention: q's neuron). */
  spikeInput: string | null;
}

/** MACs of every conv, linear and attention op, and which neuron feeds each. */
export function layerCosts(graph: ModelGraph): LayerCost[] {
  const neuronOf = new Map(graph.ops.filter((op) => op.kind === 'lif').map((op) => [op.output, op.name]));
  const costs: LayerCost[] = [];
  for (const op of graph.ops) {
    const [oc, oh, ow] = graph.shapes.get(op.output)!;
    let macs = 0;
    if (op.kind === 'conv') macs = oc * oh * ow * (op.inChannels / op.groups) * op.kernel * op.kernel;
    else if (op.kind === 'linear') macs = op.inFeatures * op.outFeatures;
    else if (op.kind === 'attention') {
      const d = oc / op.heads;
      macs = 2 * op.heads * d * d * oh * ow; // kᵀ·v, then q·(kᵀv)
    } else continue;
    costs.push({ name: op.name, kind: op.kind, macs, spikeInput: neuronOf.get(op.inputs[0]) ?? null });
  }
  return costs;
}

export interface EnergyEstimate {
  /** MACs of the stem (the only layer on real-valued image input in the paper's count), all T steps. */
  stemMacs: number;
  /** Synaptic operations triggered by spikes, all T steps. */
  sops: number;
  /** Dense MACs of the whole network over T (what an ANN of the same shape would do). */
  denseMacs: number;
  /** Real-valued MACs the paper's formula leaves out (pwconv2, RepConv internals), all T steps. */
  otherRealMacs: number;
  /** Paper's estimate for this frame, in microjoules. */
  energyUj: number;
  /** An ANN with the same MACs, all as E_MAC, in microjoules. */
  annEnergyUj: number;
}

/**
 * The energy estimate of one frame from the per-layer spike counts (`onesPerStep` of each neuron).
 * The stem is computed once for all T in our runtimes, but counted T times here, as the paper does.
 */
export function estimateEnergy(graph: ModelGraph, spikes: { name: string; onesPerStep: number[]; neuronsPerStep: number }[]): EnergyEstimate {
  const T = graph.config.timeSteps;
  const byName = new Map(spikes.map((s) => [s.name, s]));
  let stemMacs = 0;
  let sops = 0;
  let denseMacs = 0;
  let otherRealMacs = 0;
  for (const cost of layerCosts(graph)) {
    denseMacs += cost.macs * T;
    if (cost.spikeInput) {
      const s = byName.get(cost.spikeInput);
      if (!s) throw new Error(`estimateEnergy: no spike counts for ${cost.spikeInput}`);
      for (const ones of s.onesPerStep) sops += (cost.macs * ones) / s.neuronsPerStep;
    } else if (cost.name === 'downsample1_1.encode_conv') stemMacs += cost.macs * T;
    else otherRealMacs += cost.macs * T;
  }
  return {
    stemMacs, sops, denseMacs, otherRealMacs,
    energyUj: (E_MAC_PJ * stemMacs + E_AC_PJ * sops) * 1e-6,
    annEnergyUj: E_MAC_PJ * denseMacs * 1e-6,
  };
}
