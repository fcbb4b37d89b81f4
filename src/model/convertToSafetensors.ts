/**
 * `.pth` (or `.safetensors`) → `.safetensors` with the model config in the metadata, optionally
 * with float16 weights. Returns the file as chunks so a 220 MB state_dict is never concatenated.
 */
import { writeSafetensors } from '../checkpoint/safetensors.ts';
import { toFloat16, type Tensor } from '../checkpoint/tensor.ts';
import type { ByteSource } from '../io/byteSource.ts';
import type { ModelConfig } from './config.ts';
import { expectedParameters } from './graph.ts';
import { CONFIG_METADATA_KEY, loadModel, TASKS_METADATA_KEY, type LoadModelOptions } from './loadModel.ts';

export interface ConvertOptions extends LoadModelOptions {
  /** Store float weights as float16 (halves the file; BN statistics included). */
  fp16?: boolean;
}

export interface ConvertedModel {
  config: ModelConfig;
  chunks: Uint8Array[];
  bytes: number;
  tensorCount: number;
}

export async function convertToSafetensors(source: ByteSource, options: ConvertOptions = {}): Promise<ConvertedModel> {
  const { config, tensors, checkpoint } = await loadModel(source, options);
  // Graph order (task heads after the backbone), so the file reads like the network.
  const ordered: [string, Tensor][] = [];
  for (const p of expectedParameters(config)) {
    const t = tensors.get(p.key);
    if (t) ordered.push([p.key, options.fp16 ? toFloat16(t) : t]);
  }
  const metadata: Record<string, string> = {
    format: 'pt',
    [CONFIG_METADATA_KEY]: JSON.stringify(config),
    source: source.name.split(/[\\/]/).pop() ?? source.name,
  };
  // The task description written by training (class names, decoding, preprocessing) travels along.
  const tasks = checkpoint.metadata[TASKS_METADATA_KEY];
  if (tasks) metadata[TASKS_METADATA_KEY] = tasks;
  const chunks = writeSafetensors(ordered, metadata);
  return { config, chunks, bytes: chunks.reduce((a, c) => a + c.byteLength, 0), tensorCount: ordered.length };
}
