/**
 * From a checkpoint's tensor names and shapes to a checked `ModelConfig`.
 *
 * The architecture is read off the weights (stage widths from the downsampling convs, classes from
 * the head, kd from `head_kd`, depths from the block indices, MLP ratio from the first MLP conv;
 * task heads from `fpn.*`, `seg_head.*`, `det_head.*`: FPN width and the stage feeding each level
 * from the lateral convs, class counts from `seg_head.conv_seg` and `det_head.cls_conv`); then the
 * state_dict that config implies (see `expectedParameters`) is compared tensor by tensor, and every
 * missing, unexpected or mis-shaped tensor is reported.
 */
import {
  DEFAULT_DETECTION_DECODE, defaultConfig, type DetectionDecodeParams, type FpnLevel, type HeadsConfig, type ModelConfig,
} from './config.ts';
import { expectedParameters } from './graph.ts';

/** Name → shape (and dtype) of each tensor: all the description needs from a checkpoint. */
export type TensorShapes = Map<string, { shape: number[]; dtype: string }>;

/**
 * State_dict prefixes of the task heads (spiking FPN, segmentation and detection heads of
 * `training/HEADS.md`). They are described and checked like the backbone.
 */
export const TASK_HEAD_PREFIXES = ['fpn.', 'seg_head.', 'det_head.'] as const;

/** Whether a state_dict key belongs to a task head (`fpn.`, `seg_head.`, `det_head.`). */
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

/**
 * What a file may say about its task heads beyond the shapes (`spikeformer.tasks` metadata or a
 * config we wrote): class names and detection decoding.
 */
export interface TaskHeadHints {
  segmentClassNames?: string[];
  detectClassNames?: string[];
  detectDecode?: Partial<DetectionDecodeParams>;
}

/** Stride of each backbone stage's output. */
const STAGE_STRIDE: Record<FpnLevel['stage'], number> = { 1: 4, 2: 8, 3: 16, 4: 16 };

/**
 * The stage feeding FPN level `i` (lateral input width `cin`): levels go stride 4, 8, 16, so
 * level 0 is stage 1, level 1 stage 2, level 2 stage 4 (the backbone's last block; stage 3 if
 * only E2 matches the width).
 */
function fpnStage(i: number, cin: number, dims: ModelConfig['embedDims']): FpnLevel['stage'] {
  if (i === 0) return 1;
  if (i === 1) return 2;
  return cin !== dims[3] && cin === dims[2] ? 3 : 4;
}

/**
 * The task heads the tensors hold, or null: FPN from `fpn.lateral.<i>.conv.weight` (levels 0..n−1,
 * at most 3), segmentation from `seg_head.conv_seg.weight`, detection from `det_head.cls_conv.weight`.
 * Shapes that do not fit are left to the tensor-by-tensor comparison, which names them.
 */
export function inferHeads(tensors: TensorShapes, dims: ModelConfig['embedDims'], hints: TaskHeadHints = {}): HeadsConfig | null {
  const has = (prefix: string) => [...tensors.keys()].some((k) => k.startsWith(prefix));
  const hasFpn = has('fpn.'), hasSeg = has('seg_head.'), hasDet = has('det_head.');
  if (!hasFpn && !hasSeg && !hasDet) return null;
  if (!hasSeg && !hasDet) throw new ModelDescriptionError('the checkpoint has fpn.* tensors but no seg_head.* or det_head.* head on them');
  const nLevels = countIndices(tensors, 'fpn.lateral.');
  if (nLevels === 0) {
    throw new ModelDescriptionError(`the checkpoint has ${hasSeg ? 'seg_head.*' : 'det_head.*'} tensors but no FPN: tensor fpn.lateral.0.conv.weight is missing`);
  }
  if (nLevels > 3) throw new ModelDescriptionError(`the FPN has ${nLevels} levels (fpn.lateral.0..${nLevels - 1}); at most 3 (strides 4, 8, 16) are supported`);
  const lateral0 = tensors.get('fpn.lateral.0.conv.weight')?.shape;
  if (!lateral0) throw new ModelDescriptionError('the FPN is incomplete: tensor fpn.lateral.0.conv.weight (it gives the FPN width) is missing');
  const levels: FpnLevel[] = [];
  for (let i = 0; i < nLevels; i++) {
    const cin = tensors.get(`fpn.lateral.${i}.conv.weight`)?.shape[1] ?? -1;
    const stage = fpnStage(i, cin, dims);
    levels.push({ stage, inChannels: dims[stage - 1], stride: STAGE_STRIDE[stage] });
  }
  const heads: HeadsConfig = { fpn: { channels: lateral0[0], levels }, segment: null, detect: null };
  const names = (given: string[] | undefined, n: number, what: string): string[] => {
    if (!given) return Array.from({ length: n }, (_, i) => String(i));
    if (given.length !== n) throw new ModelDescriptionError(`the file names ${given.length} ${what} classes, but the head has ${n}`);
    return [...given];
  };
  // Class counts must be there; a missing stage conv only falls back to the FPN width (and is reported as missing).
  const classesOf = (key: string, head: string) => {
    const t = tensors.get(key);
    if (!t) throw new ModelDescriptionError(`the ${head} head is incomplete: tensor ${key} (it gives the number of classes) is missing`);
    return t.shape;
  };
  const width = (key: string) => tensors.get(key)?.shape[0] ?? heads.fpn.channels;
  if (hasSeg) {
    const cls = classesOf('seg_head.conv_seg.weight', 'segmentation');
    heads.segment = {
      channels: width('seg_head.scale_heads.0.0.conv.weight'),
      numClasses: cls[0],
      classNames: names(hints.segmentClassNames, cls[0], 'segmentation'),
      stride: levels[0].stride,
    };
  }
  if (hasDet) {
    const cls = classesOf('det_head.cls_conv.weight', 'detection');
    heads.detect = {
      channels: width('det_head.stem.conv.weight'),
      numClasses: cls[0],
      classNames: names(hints.detectClassNames, cls[0], 'detection'),
      decode: { ...DEFAULT_DETECTION_DECODE, ...hints.detectDecode, stride: levels[0].stride },
    };
  }
  return heads;
}

/** The first tensor of every Meta-SpikeFormer state_dict: the stem convolution. */
export const STEM_KEY = 'downsample1_1.encode_conv.weight';

/** "holds 8 tensors, e.g. fc1.weight [128, 784], fc1.bias [128]": what a foreign state_dict is. */
export function summarizeTensors(tensors: TensorShapes, examples = 2): string {
  const some = [...tensors].slice(0, examples).map(([k, t]) => `${k} [${t.shape.join(', ')}]`);
  return `holds ${tensors.size} tensor${tensors.size === 1 ? '' : 's'}${some.length ? `, e.g. ${some.join(', ')}` : ''}`;
}

/** Reads the architecture off the tensor shapes. `overrides` (e.g. T, from args or the CLI) win. */
export function inferModelConfig(tensors: TensorShapes, overrides: Partial<ModelConfig> = {}, hints: TaskHeadHints = {}): ModelConfig {
  if (!tensors.has(STEM_KEY)) {
    throw new ModelDescriptionError(`not a Meta-SpikeFormer checkpoint: it ${summarizeTensors(tensors)}; a Meta-SpikeFormer state_dict starts with ${STEM_KEY} [E0/2, 3, 7, 7]`);
  }
  const stem = shapeOf(tensors, STEM_KEY);
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
    heads: inferHeads(tensors, [e0, e1, e2, e3], hints),
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
  const h = config.heads;
  if (h) {
    if (!(h.fpn.channels >= 1)) problems.push(`FPN channels ${h.fpn.channels} must be at least 1`);
    h.fpn.levels.forEach((l, i) => {
      if (i > 0 && l.stride !== 2 * h.fpn.levels[i - 1].stride) problems.push(`FPN level ${i} has stride ${l.stride}, expected ${2 * h.fpn.levels[i - 1].stride}`);
    });
    if (h.segment && !(h.segment.numClasses >= 1 && h.segment.numClasses <= 256)) problems.push(`segmentation classes ${h.segment.numClasses} must be in 1..256`);
    if (h.detect && !(h.detect.numClasses >= 1)) problems.push(`detection classes ${h.detect.numClasses} must be at least 1`);
  }
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
  for (const key of tensors.keys()) if (!expectedKeys.has(key)) mismatch.unexpected.push(key);
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
export function describeModel(tensors: TensorShapes, overrides: Partial<ModelConfig> = {}, hints: TaskHeadHints = {}): ModelConfig {
  const config = inferModelConfig(tensors, overrides, hints);
  const m = compareWithConfig(tensors, config);
  m.missing = m.missing.filter((k) => !k.endsWith('.num_batches_tracked'));
  if (m.missing.length || m.unexpected.length || m.misshaped.length) {
    const heads = config.heads ? ` with ${[config.heads.segment && 'segmentation', config.heads.detect && 'detection'].filter(Boolean).join(' and ')} heads` : '';
    throw new ModelDescriptionError(`the weights do not match Meta-SpikeFormer ${config.embedDims.join('/')}${heads}: ${formatMismatch(m)}`, m);
  }
  return config;
}
