/**
 * Weights as the runtimes use them: float32 values by state_dict key. Integer buffers
 * (`num_batches_tracked`) are left out; half and bfloat16 weights are widened.
 */
import { toFloat32, type Tensor } from '../checkpoint/tensor.ts';

export type ModelWeights = Map<string, Float32Array>;

export function modelWeightsFromTensors(tensors: Map<string, Tensor>): ModelWeights {
  const weights: ModelWeights = new Map();
  for (const [key, t] of tensors) {
    if (t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'bfloat16' || t.dtype === 'float64') {
      weights.set(key, toFloat32(t));
    }
  }
  return weights;
}
