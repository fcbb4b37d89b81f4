/**
 * A safetensors checkpoint with seeded random weights for any config: the state_dict the config
 * implies (`expectedParameters`), with BN statistics that keep the network firing.
 */
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { float32Tensor, type Tensor } from '../../src/checkpoint/tensor.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { expectedParameters } from '../../src/model/graph.ts';

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomStateDict(config: ModelConfig, seed = 1): Map<string, Tensor> {
  const rand = seededRandom(seed);
  const tensors = new Map<string, Tensor>();
  for (const p of expectedParameters(config)) {
    if (p.dtype === 'int64') {
      tensors.set(p.key, { dtype: 'int64', shape: [], data: new Uint8Array(8) });
      continue;
    }
    const n = p.shape.reduce((a, b) => a * b, 1);
    const fanIn = p.shape.length > 1 ? n / p.shape[0] : 1;
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = rand() * 2 - 1;
      if (p.key.endsWith('running_var')) values[i] = 0.5 + rand();
      else if (p.key.endsWith('running_mean')) values[i] = u * 0.1;
      else if (p.key.endsWith('bn.weight') || /bn\d?\.weight$|\.1\.weight$|body\.2\.2\.weight$/.test(p.key) && p.shape.length === 1) values[i] = 1 + 0.5 * u;
      else if (p.key.endsWith('.bias')) values[i] = 0.5 + 0.5 * u;
      else values[i] = (u * 2) / Math.sqrt(fanIn);
    }
    tensors.set(p.key, float32Tensor(p.shape, values));
  }
  return tensors;
}

export function randomSafetensors(config: ModelConfig, seed = 1): Uint8Array {
  const chunks = writeSafetensors(randomStateDict(config, seed), { format: 'pt' });
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out;
}
