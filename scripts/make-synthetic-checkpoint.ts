/**
 * Writes a torch.save-format checkpoint of a published size with random weights and, like the
 * official training checkpoints, AdamW state (exp_avg, exp_avg_sq for every parameter), `epoch`,
 * `scaler` and an `argparse.Namespace` of args. For measuring the converter on realistic files:
 *
 *   npx tsx scripts/make-synthetic-checkpoint.ts 55M /tmp/55M.pth [--kd] [--time-steps 4]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { torchZip } from '../tests/checkpoint/zipWriter.ts';
import type { PV } from '../tests/checkpoint/pickleWriter.ts';
import { defaultConfig, PUBLISHED_EMBED_DIMS } from '../src/model/config.ts';
import { randomStateDict } from '../tests/helpers/randomCheckpoint.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { kd: { type: 'boolean' }, 'time-steps': { type: 'string' } } });
const [size, out] = positionals;
const dims = PUBLISHED_EMBED_DIMS[size];
if (!dims || !out) throw new Error('usage: make-synthetic-checkpoint <15M|31M|55M> <out.pth> [--kd] [--time-steps T]');
const config = defaultConfig({ embedDims: dims, numClasses: 1000, kd: values.kd ?? false });
const tensors = randomStateDict(config, 3);
const storages: Record<string, Uint8Array> = {};
let next = 0;
const tensorPV = (data: Uint8Array, shape: number[], dtype: string): PV => {
  const key = String(next++);
  storages[key] = data;
  const type = dtype === 'int64' ? 'LongStorage' : 'FloatStorage';
  return { tensor: { storage: { key, type, numel: Math.max(1, shape.reduce((a, b) => a * b, 1)) }, shape } };
};
const model: [string, PV][] = [...tensors].map(([k, t]) => [k, tensorPV(t.data, t.shape, t.dtype)]);
const state: [PV, PV][] = [];
let index = 0;
for (const [, t] of tensors) {
  if (t.dtype !== 'float32') continue;
  state.push([index++, { dict: [
    ['step', 1000],
    ['exp_avg', tensorPV(new Uint8Array(t.data.byteLength), t.shape, 'float32')],
    ['exp_avg_sq', tensorPV(new Uint8Array(t.data.byteLength), t.shape, 'float32')],
  ] }]);
}
const root: PV = { dict: [
  ['model', { ordered: model }],
  ['optimizer', { dict: [['state', { dict: state }], ['param_groups', [{ dict: [['lr', 0.0006], ['weight_decay', 0.05]] }]]] }],
  ['epoch', 199],
  ['scaler', { dict: [['scale', 65536.0], ['growth_factor', 2.0]] }],
  ['args', { namespace: [['model', `metaspikformer_${size}`], ['time_steps', Number(values['time-steps'] ?? 1)], ['kd', values.kd ?? false]] }],
] };
writeFileSync(out, torchZip(root, storages));
console.log(`wrote ${out}`);
