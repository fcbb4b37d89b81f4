/**
 * The CPU reference ops: plain, unfused, one time step of one image at a time, computed as the
 * official PyTorch code computes them. These are the spec the GPU kernels are tested against, so
 * they favour clarity over speed. Maps are Float32Arrays in `[C, H, W]` order.
 */
import { batchNormAffine, bilinearTap, type BatchNormParams } from '../../model/layerMath.ts';

export { batchNormAffine, bilinearTap, type BatchNormParams };

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


/**
 * Upsampling ×2 of `[C, H, W]` → `[C, 2H, 2W]`.
 *  - `nearest`: out[y, x] = in[y >> 1, x >> 1].
 *  - `bilinear` (align_corners = false) in float32, rounded after every multiply and add, in
 *    HEADS.md's order (`heads.bilinear_up2`):
 *      out = w0y·(w0x·z[i0,j0] + w1x·z[i0,j1]) + w1y·(w0x·z[i1,j0] + w1x·z[i1,j1]).
 */
export function upsample(input: Float32Array, channels: number, height: number, width: number, mode: 'nearest' | 'bilinear'): Float32Array {
  const oh = 2 * height, ow = 2 * width;
  const out = new Float32Array(channels * oh * ow);
  const f = Math.fround;
  const rows = Array.from({ length: oh }, (_, o) => bilinearTap(o, height, 2));
  const cols = Array.from({ length: ow }, (_, o) => bilinearTap(o, width, 2));
  for (let c = 0; c < channels; c++) {
    const z = c * height * width;
    for (let y = 0; y < oh; y++) {
      const r = rows[y];
      const o = (c * oh + y) * ow;
      if (mode === 'nearest') {
        const row = z + (y >> 1) * width;
        for (let x = 0; x < ow; x++) out[o + x] = input[row + (x >> 1)];
        continue;
      }
      const r0 = z + r.i0 * width, r1 = z + r.i1 * width;
      const a0 = f(r.w0), a1 = f(r.w1);
      for (let x = 0; x < ow; x++) {
        const { i0: j0, i1: j1, w0, w1 } = cols[x];
        const b0 = f(w0), b1 = f(w1);
        const top = f(f(b0 * input[r0 + j0]) + f(b1 * input[r0 + j1]));
        const bot = f(f(b0 * input[r1 + j0]) + f(b1 * input[r1 + j1]));
        out[o + x] = f(f(a0 * top) + f(a1 * bot));
      }
    }
  }
  return out;
}

/** Mean over T of each input, then the mean of the inputs, per element (an `output` op). */
export function timeMean(inputs: Float32Array[][]): Float32Array {
  const n = inputs[0][0].length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (const steps of inputs) {
      let s = 0;
      for (const y of steps) s += y[i];
      sum += Math.fround(s / steps.length);
    }
    out[i] = sum / inputs.length;
  }
  return out;
}
