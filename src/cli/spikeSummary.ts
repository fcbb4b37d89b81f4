/**
 * The line `spikeformer infer` prints after its result: firing rate per stage (all spikes of the
 * stage's neuron layers over all their neurons and time steps) and the paper's energy estimate of
 * the frame next to an ANN with the same MACs (`src/model/cost.ts`).
 */
import { estimateEnergy } from '../model/cost.ts';
import type { ModelGraph } from '../model/graph.ts';
import { groupByStage } from '../model/stages.ts';
import type { LayerSpikes } from '../runtime/types.ts';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const mega = (x: number) => `${(x / 1e6).toFixed(1)} M`;
const energy = (uj: number) => (uj >= 1000 ? `${(uj / 1000).toFixed(2)} mJ` : `${uj.toFixed(1)} µJ`);

export function spikeSummary(graph: ModelGraph, layers: readonly LayerSpikes[]): string {
  const stages = groupByStage(layers, (l) => l.name).map((g) => {
    let ones = 0, neurons = 0;
    for (const l of g.layers) {
      ones += l.onesPerStep.reduce((a, b) => a + b, 0);
      neurons += l.neuronsPerStep * l.onesPerStep.length;
    }
    return `${g.title.replace(/ · .*/, '')} ${pct(ones / neurons)}`;
  });
  const e = estimateEnergy(graph, [...layers]);
  return `firing rate by stage: ${stages.join(', ')}; energy (paper's 45 nm formula): ${energy(e.energyUj)} ` +
    `(${mega(e.sops)} SOPs + ${mega(e.stemMacs)} stem MACs) vs ${energy(e.annEnergyUj)} for an ANN with the same ${mega(e.denseMacs)} MACs`;
}
