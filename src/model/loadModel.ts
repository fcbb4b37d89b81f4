/**
 * Checkpoint bytes → checked model: reads a `.pth` or `.safetensors`, reads the architecture off the
 * weights, takes T from (in order) the caller, the file's own config, the training `args.time_steps`,
 * else 1, and checks every tensor. Browser and Node alike (the caller provides a `ByteSource`).
 */
import { readCheckpoint, type LoadedCheckpoint } from '../checkpoint/index.ts';
import type { Tensor } from '../checkpoint/tensor.ts';
import type { ByteSource } from '../io/byteSource.ts';
import type { DetectionDecodeParams, ModelConfig } from './config.ts';
import { describeModel, ModelDescriptionError, type TaskHeadHints, type TensorShapes } from './describe.ts';
import { inputsFromMetadata, type ModelInputs } from './inputSpec.ts';

/** Key of the safetensors metadata entry holding the `ModelConfig` as JSON. */
export const CONFIG_METADATA_KEY = 'spikeformer.config';

/**
 * Key of the safetensors metadata entry describing the task heads as JSON (written by
 * `training/export.py`): `segment.classNames`, `detect.classNames`, `detect.decode` (…).
 */
export const TASKS_METADATA_KEY = 'spikeformer.tasks';

export interface LoadedModel {
  config: ModelConfig;
  tensors: Map<string, Tensor>;
  checkpoint: LoadedCheckpoint;
  /** The input size and crop the file declares per task ({} for official checkpoints). */
  inputs: ModelInputs;
}

export interface LoadModelOptions {
  /** Overrides the file's T. */
  timeSteps?: number;
  onProgress?(done: number, total: number): void;
}

export function tensorShapes(tensors: Map<string, Tensor>): TensorShapes {
  return new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }]));
}

/** The config stored in a safetensors file we wrote, or {} (fields we don't recognise are ignored). */
export function configFromMetadata(metadata: Record<string, string>): Partial<ModelConfig> {
  const text = metadata[CONFIG_METADATA_KEY];
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`the file's ${CONFIG_METADATA_KEY} metadata is not valid JSON`);
  }
  const c = parsed as Partial<ModelConfig>;
  const out: Partial<ModelConfig> = {};
  if (typeof c.timeSteps === 'number') out.timeSteps = c.timeSteps;
  if (typeof c.numHeads === 'number') out.numHeads = c.numHeads;
  if (Array.isArray(c.mean) && c.mean.length === 3) out.mean = c.mean as ModelConfig['mean'];
  if (Array.isArray(c.std) && c.std.length === 3) out.std = c.std as ModelConfig['std'];
  if (typeof c.labels === 'string' || c.labels === null) out.labels = c.labels;
  return out;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? [...v] : undefined;
}

function parseJsonEntry(metadata: Record<string, string>, key: string): Record<string, unknown> | null {
  const text = metadata[key];
  if (!text) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? parsed as Record<string, unknown> : null;
  } catch {
    throw new Error(`the file's ${key} metadata is not valid JSON`);
  }
}

/**
 * Class names and detection decoding of the task heads from the file's metadata: our own
 * `spikeformer.config` (its `heads`, written by `convert`) and `spikeformer.tasks` (written by
 * `training/export.py`; wins). Unknown or malformed fields are ignored; the heads' structure
 * always comes from the tensors.
 */
export function taskHintsFromMetadata(metadata: Record<string, string>): TaskHeadHints {
  const hints: TaskHeadHints = {};
  const config = parseJsonEntry(metadata, CONFIG_METADATA_KEY);
  const heads = config?.heads as { segment?: { classNames?: unknown }; detect?: { classNames?: unknown; decode?: unknown } } | null | undefined;
  const decodeOf = (d: unknown): Partial<DetectionDecodeParams> | undefined => {
    if (!d || typeof d !== 'object') return undefined;
    const r = d as Record<string, unknown>;
    const out: Partial<DetectionDecodeParams> = {};
    const num = (k: keyof DetectionDecodeParams) => { if (typeof r[k] === 'number' && Number.isFinite(r[k])) out[k] = r[k] as number; };
    num('logitThreshold'); num('preNmsTopK'); num('nmsIou'); num('maxDetections');
    // `scoreThreshold` p alone (no logit given): ln(p / (1 − p)).
    if (out.logitThreshold === undefined && typeof r.scoreThreshold === 'number' && r.scoreThreshold > 0 && r.scoreThreshold < 1) {
      out.logitThreshold = Math.log(r.scoreThreshold / (1 - r.scoreThreshold));
    }
    return out;
  };
  if (heads && typeof heads === 'object') {
    hints.segmentClassNames = stringList(heads.segment?.classNames);
    hints.detectClassNames = stringList(heads.detect?.classNames);
    hints.detectDecode = decodeOf(heads.detect?.decode);
  }
  const tasks = parseJsonEntry(metadata, TASKS_METADATA_KEY);
  if (tasks) {
    const seg = tasks.segment as Record<string, unknown> | undefined;
    const det = tasks.detect as Record<string, unknown> | undefined;
    hints.segmentClassNames = stringList(seg?.classNames) ?? hints.segmentClassNames;
    hints.detectClassNames = stringList(det?.classNames) ?? hints.detectClassNames;
    const d = decodeOf(det?.decode);
    if (d) hints.detectDecode = { ...hints.detectDecode, ...d };
  }
  for (const k of Object.keys(hints) as (keyof TaskHeadHints)[]) if (hints[k] === undefined) delete hints[k];
  return hints;
}

/** T from the training args of an official checkpoint (`args.time_steps`), if present. */
export function timeStepsFromArgs(args: LoadedCheckpoint['args']): number | undefined {
  const t = args?.time_steps;
  if (typeof t === 'number') return t;
  if (typeof t === 'bigint') return Number(t);
  return undefined;
}

export async function loadModel(source: ByteSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const checkpoint = await readCheckpoint(source, { onProgress: options.onProgress });
  const fromFile = configFromMetadata(checkpoint.metadata);
  const timeSteps = options.timeSteps ?? fromFile.timeSteps ?? timeStepsFromArgs(checkpoint.args) ?? 1;
  try {
    const config = describeModel(tensorShapes(checkpoint.tensors), { ...fromFile, timeSteps }, taskHintsFromMetadata(checkpoint.metadata));
    return { config, tensors: checkpoint.tensors, checkpoint, inputs: inputsFromMetadata(checkpoint.metadata) };
  } catch (err) {
    // The same one line, naming the file (as every checkpoint refusal does).
    if (err instanceof ModelDescriptionError) throw new ModelDescriptionError(`${checkpoint.source}: ${err.message}`, err.mismatch);
    throw err;
  }
}
