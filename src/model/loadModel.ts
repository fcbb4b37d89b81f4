/**
 * Checkpoint bytes → checked model: reads a `.pth` or `.safetensors`, reads the architecture off the
 * weights, takes T from (in order) the caller, the file's own config, the training `args.time_steps`,
 * else 1, and checks every tensor. Browser and Node alike (the caller provides a `ByteSource`).
 */
import { readCheckpoint, type LoadedCheckpoint } from '../checkpoint/index.ts';
import type { Tensor } from '../checkpoint/tensor.ts';
import type { ByteSource } from '../io/byteSource.ts';
import type { ModelConfig } from './config.ts';
import { describeModel, type TensorShapes } from './describe.ts';

/** Key of the safetensors metadata entry holding the `ModelConfig` as JSON. */
export const CONFIG_METADATA_KEY = 'spikeformer.config';

export interface LoadedModel {
  config: ModelConfig;
  tensors: Map<string, Tensor>;
  checkpoint: LoadedCheckpoint;
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
  const config = describeModel(tensorShapes(checkpoint.tensors), { ...fromFile, timeSteps });
  return { config, tensors: checkpoint.tensors, checkpoint };
}
