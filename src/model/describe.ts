/**
 * From a checkpoint's tensor names and shapes to a checked `ModelConfig`.
 *
 * The architecture is read off the weights (stage widths from the downsampling convs, classes from
 * the head, kd from `head_kd`, depths from the block indices, MLP ratio from the first MLP conv);
 * then the state_dict that config implies (see `expectedParameters`) is compared tensor by tensor,
 * and every missing, unexpected or mis-shaped tensor is reported.
 */
import { defaultConfig, type ModelConfig } from './config.ts';
import { expectedParameters } from './graph.ts';

/** Name → shape (and dtype) of each tensor: all the description needs from a checkpoint. */
export type TensorShapes = Map<string, { shape: number[]; dtype: string }>;

/**
 * State_dict prefixes of task heads trained on the same backbone (spiking FPN, segmentation and
 * detection heads of the built-in model). Their tensors are kept and passed through, not reported
 * as unexpected; the classification backbone is checked as usual.
 */
export const TASK_HEAD_PREFIXES = ['fpn.', 'seg_head.', 'det_head.'] as const;

export function isTaskHeadKey(key: string): boolean {
  return TASK_HEAD_PREFIXES.some((p) => key.startsWith(p));
}

export interface ModelMismatch {
  missing: string[];
  unexpected: string[];
  misshaped: { key: string; expected: number[]; found: number[] }[];
}

export class ModelDescriptionError extends Error {
  constructor(message: string, readonly mismatch?: ModelMismatch) {
    super(message);
    this.name = 'ModelDescriptionError';
  }
}

function shapeOf(tensors: TensorShapes, key: string): number[] {
  const t = tensors.get(key);
  if (!t) throw new ModelDescriptionError(`not a Meta-SpikeFormer checkpoint: tensor ${key} is missing`);
  return t.shape;
}

function countIndices(tensors: TensorShapes, prefix: string): number {
  const seen = new Set<number>();
  for (const key of tensors.keys()) {
    const m = key.startsWith(prefix) ? /^(\d+)\./.exec(key.slice(prefix.length)) : null;
    if (m) seen.add(Number(m[1]));
  }
  // Indices must be 0..n-1.
  let n = 0;
  while (seen.has(n)) n++;
  return n;
}

/** Reads the architecture off the tensor shapes. `overrides` (e.g. T, from args or the CLI) win. */
export function inferModelConfig(tensors: TensorShapes, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const stem = shapeOf(tensors, 'downsample1_1.encode_conv.weight');
  const e0 = shapeOf(tensors, 'downsample1_2.encode_conv.weight')[0];
  const e1 = shapeOf(tensors, 'downsample2.encode_conv.weight')[0];
  const e2 = shapeOf(tensors, 'downsample3.encode_conv.weight')[0];
  const e3 = shapeOf(tensors, 'downsample4.encode_conv.weight')[0];
  const head = shapeOf(tensors, 'head.weight');
  const depth3 = countIndices(tensors, 'block3.');
  const depth4 = countIndices(tensors, 'block4.');
  const fc1 = tensors.get('block3.0.mlp.fc1_conv.weight')?.shape;
  const config = defaultConfig({
    embedDims: [e0, e1, e2, e3],
    numClasses: head[0],
    inChannels: stem[1],
    depths: [depth3, depth4],
    kd: tensors.has('head_kd.weight'),
    mlpRatio: fc1 ? fc1[0] / e2 : 4,
    ...overrides,
  });
  checkConfig(config);
  return config;
}

/** Refuses configs the graph cannot be built for, with the reason. */
export function checkConfig(config: ModelConfig): void {
  const [e0, , e2, e3] = config.embedDims;
  const problems: string[] = [];
  if (!config.embedDims.every((e) => Number.isInteger(e) && e > 0)) problems.push(`embed dims ${config.embedDims} must be positive integers`);
  if (e0 % 2 !== 0) problems.push(`E0 = ${e0} must be even (the stem has E0/2 channels)`);
  for (const [i, e] of [e2, e3].entries()) {
    if (e % config.numHeads !== 0) problems.push(`E${i + 2} = ${e} is not divisible by ${config.numHeads} heads`);
  }
  if (!Number.isInteger(config.mlpRatio) || config.mlpRatio < 1) problems.push(`MLP ratio ${config.mlpRatio} must be a positive integer`);
  if (config.depths[0] < 1 || config.depths[1] < 1) problems.push(`stage depths ${config.depths} must be at least 1 (no block3.0 / block4.0 tensors?)`);
  if (!Number.isInteger(config.timeSteps) || config.timeSteps < 1 || config.timeSteps > 64) problems.push(`time steps ${config.timeSteps} must be an integer in 1..64`);
  if (!(config.numClasses >= 1)) problems.push(`classes ${config.numClasses} must be at least 1`);
  if (problems.length) throw new ModelDescriptionError(`invalid model config: ${problems.join('; ')}`);
}

/** Compares the tensors with what `config` expects; an empty mismatch means they fit exactly. */
export function compareWithConfig(tensors: TensorShapes, config: ModelConfig): ModelMismatch {
  const expected = expectedParameters(config);
  const expectedKeys = new Set(expected.map((p) => p.key));
  const mismatch: ModelMismatch = { missing: [], unexpected: [], misshaped: [] };
  for (const p of expected) {
    const t = tensors.get(p.key);
    if (!t) mismatch.missing.push(p.key);
    else if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      mismatch.misshaped.push({ key: p.key, expected: p.shape, found: t.shape });
    }
  }
  for (const key of tensors.keys()) if (!expectedKeys.has(key) && !isTaskHeadKey(key)) mismatch.unexpected.push(key);
  return mismatch;
}

function listSome(items: string[], max = 5): string {
  return items.slice(0, max).join(', ') + (items.length > max ? ` and ${items.length - max} more` : '');
}

/** One line that says precisely what does not fit. */
export function formatMismatch(m: ModelMismatch): string {
  const parts: string[] = [];
  if (m.missing.length) parts.push(`${m.missing.length} missing (${listSome(m.missing)})`);
  if (m.misshaped.length) {
    parts.push(`${m.misshaped.length} mis-shaped (${listSome(m.misshaped.map((x) => `${x.key} is [${x.found}], expected [${x.expected}]`), 3)})`);
  }
  if (m.unexpected.length) parts.push(`${m.unexpected.length} unexpected (${listSome(m.unexpected)})`);
  return parts.join('; ');
}

/**
 * Infers the config and checks every tensor against it; throws a `ModelDescriptionError` naming
 * what is missing, unexpected or mis-shaped. Training-only buffers (`num_batches_tracked`) may be
 * absent (converters often drop them).
 */
export function describeModel(tensors: TensorShapes, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const config = inferModelConfig(tensors, overrides);
  const m = compareWithConfig(tensors, config);
  m.missing = m.missing.filter((k) => !k.endsWith('.num_batches_tracked'));
  if (m.missing.length || m.unexpected.length || m.misshaped.length) {
    throw new ModelDescriptionError(`the weights do not match Meta-SpikeFormer ${config.embedDims.join('/')}: ${formatMismatch(m)}`, m);
  }
  return config;
}
