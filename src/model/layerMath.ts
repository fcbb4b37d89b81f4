/**
 * Arithmetic shared by every consumer of the model description (the CPU reference, the WebGPU
 * planner, the ONNX export and the task decoders), so that each computes a BatchNorm or a bilinear
 * tap with the same float operations and none imports it from a later stage of the flow.
 */

export interface BatchNormParams {
  weight: Float32Array;
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  eps: number;
}

/** Per-channel scale and shift of an eval-mode BatchNorm: y = x·scale + shift. */
export function batchNormAffine(bn: BatchNormParams): { scale: Float32Array; shift: Float32Array } {
  const c = bn.weight.length;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = bn.weight[i] / Math.sqrt(bn.runningVar[i] + bn.eps);
    shift[i] = bn.bias[i] - bn.runningMean[i] * scale[i];
  }
  return { scale, shift };
}

/**
 * One output index of bilinear upsampling ×`factor` (align_corners = false) along an axis of
 * length n, as PyTorch and HEADS.md define it: src = max(0, (o + 0.5)/factor − 0.5),
 * i0 = floor(src), i1 = min(i0 + 1, n − 1), w1 = src − i0, w0 = 1 − w1 (float64; for ×2 and ×4
 * the weights are exact in float32).
 */
export function bilinearTap(o: number, n: number, factor: number): { i0: number; i1: number; w0: number; w1: number } {
  let src = (o + 0.5) / factor - 0.5;
  if (src < 0) src = 0;
  const i0 = Math.floor(src);
  const w1 = src - i0;
  return { i0, i1: Math.min(i0 + 1, n - 1), w0: 1 - w1, w1 };
}
