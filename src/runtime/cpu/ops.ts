/**
 * The CPU reference ops: plain, unfused, one time step of one image at a time, computed as the
 * official PyTorch code computes them. These are the spec the GPU kernels are tested against, so
 * they favour clarity over speed. Maps are Float32Arrays in `[C, H, W]` order.
 */

export interface ConvParams {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: number;
  groups: number;
}

/** Conv2d with zero padding: out[o,y,x] = bias[o] + Σ w[o,i,ky,kx] · in[g·ipg+i, y·s+ky−p, x·s+kx−p]. */
export function conv2d(
  input: Float32Array, height: number, width: number,
  weight: Float32Array, bias: Float32Array | null, p: ConvParams,
): { data: Float32Array; height: number; width: number } {
  const { inChannels, outChannels, kernel: k, stride, pad, groups } = p;
  const oh = Math.floor((height + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((width + 2 * pad - k) / stride) + 1;
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  const out = new Float32Array(outChannels * oh * ow);
  const acc = new Float64Array(oh * ow);
  for (let o = 0; o < outChannels; o++) {
    const g = Math.floor(o / outPerGroup);
    acc.fill(bias ? bias[o] : 0);
    for (let i = 0; i < inPerGroup; i++) {
      const plane = (g * inPerGroup + i) * height * width;
      for (let ky = 0; ky < k; ky++) {
        for (let kx = 0; kx < k; kx++) {
          const w = weight[((o * inPerGroup + i) * k + ky) * k + kx];
          if (w === 0) continue;
          for (let y = 0; y < oh; y++) {
            const iy = y * stride + ky - pad;
            if (iy < 0 || iy >= height) continue;
            const row = plane + iy * width;
            for (let x = 0; x < ow; x++) {
              const ix = x * stride + kx - pad;
              if (ix < 0 || ix >= width) continue;
              acc[y * ow + x] += w * input[row + ix];
            }
          }
        }
      }
    }
    out.set(acc, o * oh * ow);
  }
  return { data: out, height: oh, width: ow };
}

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
 * Eval-mode BatchNorm over `[C, H, W]`; with `pad > 0` the result is padded on every side with
 * the value BN gives a zero input (RepConv's `BNAndPadLayer`).
 */
export function batchNorm(
  input: Float32Array, channels: number, height: number, width: number, bn: BatchNormParams, pad = 0,
): Float32Array {
  const { scale, shift } = batchNormAffine(bn);
  const ph = height + 2 * pad;
  const pw = width + 2 * pad;
  const out = new Float32Array(channels * ph * pw);
  for (let c = 0; c < channels; c++) {
    const base = c * ph * pw;
    if (pad > 0) out.fill(shift[c], base, base + ph * pw);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        out[base + (y + pad) * pw + x + pad] = input[(c * height + y) * width + x] * scale[c] + shift[c];
      }
    }
  }
  return out;
}

/**
 * Multi-step LIF (spikingjelly `MultiStepLIFNode(tau=2, detach_reset=True)`, v_reset 0) over the
 * T steps of one layer. Per element, from v = 0:
 *   h = v + (x[t] − v) / 2;  s[t] = h ≥ threshold;  v = s[t] ? 0 : h.
 * Returns the spikes (0/1 per element, one array per step) and, if asked, the membrane potential
 * h before reset at each step.
 */
export function lif(
  inputs: Float32Array[], threshold: number, keepMembrane = false,
): { spikes: Uint8Array[]; membrane: Float32Array[] | null } {
  const n = inputs[0].length;
  const v = new Float32Array(n);
  const spikes: Uint8Array[] = [];
  const membrane: Float32Array[] | null = keepMembrane ? [] : null;
  for (const x of inputs) {
    const s = new Uint8Array(n);
    const h = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      h[i] = v[i] + Math.fround(x[i] - v[i]) / 2; // each step rounded to float32, as torch computes it
      s[i] = h[i] - threshold >= 0 ? 1 : 0;
      v[i] = s[i] ? 0 : h[i];
    }
    spikes.push(s);
    membrane?.push(h);
  }
  return { spikes, membrane };
}

export function add(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/**
 * Spike-driven self-attention of one time step. q, k, v: `[C, N]` spikes; channels split into
 * `heads` heads of C/heads. Per head: KV = kᵀ·v (integer counts), out = (q·KV)·scale, written back
 * as `[C, N]` with channel = head·(C/heads) + j.
 */
export function spikeAttention(
  q: Float32Array, k: Float32Array, v: Float32Array, channels: number, tokens: number, heads: number, scale: number,
): Float32Array {
  const d = channels / heads;
  const out = new Float32Array(channels * tokens);
  const kv = new Float64Array(d * d);
  for (let h = 0; h < heads; h++) {
    const c0 = h * d;
    kv.fill(0);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let count = 0;
        for (let n = 0; n < tokens; n++) count += k[(c0 + i) * tokens + n] * v[(c0 + j) * tokens + n];
        kv[i * d + j] = count;
      }
    }
    for (let n = 0; n < tokens; n++) {
      for (let j = 0; j < d; j++) {
        let sum = 0;
        for (let i = 0; i < d; i++) sum += q[(c0 + i) * tokens + n] * kv[i * d + j];
        out[(c0 + j) * tokens + n] = sum * scale;
      }
    }
  }
  return out;
}

/** Mean over the spatial positions of each channel: `[C, H·W]` → `[C]`. */
export function spatialMean(input: Float32Array, channels: number, positions: number): Float32Array {
  const out = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let i = 0; i < positions; i++) sum += input[c * positions + i];
    out[c] = sum / positions;
  }
  return out;
}

/** y = W·x + b, W: `[out, in]`. */
export function linear(input: Float32Array, weight: Float32Array, bias: Float32Array, outFeatures: number): Float32Array {
  const inFeatures = input.length;
  const out = new Float32Array(outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    let sum = bias[o];
    for (let i = 0; i < inFeatures; i++) sum += weight[o * inFeatures + i] * input[i];
    out[o] = sum;
  }
  return out;
}
