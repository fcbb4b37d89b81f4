/**
 * Weight and spike layouts of the WebGPU runtime (CPU side): re-arranging state_dict tensors for
 * the kernels once at creation, and unpacking bit-packed spike maps read back from the GPU.
 */

/** Rounds up to a multiple of 4 (vec4 lanes). */
export const roundUp4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * Conv2d weight `[Cout, Cin, k, k]` (groups = 1) → `[k·k][Cin][OV·4]`: for each tap and input
 * channel, the weights of all output channels side by side (zero-padded to a multiple of 4), so a
 * spike at input channel i adds one contiguous run of vec4s.
 */
export function packConvWeights(w: Float32Array, cout: number, cin: number, k: number): Float32Array {
  const op = roundUp4(cout);
  const out = new Float32Array(k * k * cin * op);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      for (let tap = 0; tap < k * k; tap++) {
        out[(tap * cin + i) * op + o] = w[(o * cin + i) * k * k + tap];
      }
    }
  }
  return out;
}

/** Depthwise weight `[C, 1, k, k]` → `[k·k][CV·4]`. */
export function packDepthwiseWeights(w: Float32Array, c: number, k: number): Float32Array {
  const cp = roundUp4(c);
  const out = new Float32Array(k * k * cp);
  for (let ch = 0; ch < c; ch++) {
    for (let tap = 0; tap < k * k; tap++) out[tap * cp + ch] = w[ch * k * k + tap];
  }
  return out;
}

/** Linear weight `[out, in]` → `[in][OV·4]`. */
export function packLinearWeights(w: Float32Array, outFeatures: number, inFeatures: number): Float32Array {
  const op = roundUp4(outFeatures);
  const out = new Float32Array(inFeatures * op);
  for (let o = 0; o < outFeatures; o++) {
    for (let i = 0; i < inFeatures; i++) out[i * op + o] = w[o * inFeatures + i];
  }
  return out;
}

/**
 * Epilogue parameters of a conv / linear kernel, each vector zero-padded to `roundUp4(c)`:
 * `[bias]` (if any), then `scale, shift` per fused affine.
 */
export function packEpilogue(c: number, bias: Float32Array | null, affines: { scale: Float32Array; shift: Float32Array }[]): Float32Array {
  const cp = roundUp4(c);
  const parts = (bias ? 1 : 0) + 2 * affines.length;
  const out = new Float32Array(Math.max(1, parts) * cp);
  let k = 0;
  if (bias) out.set(bias.subarray(0, c), cp * k++);
  for (const a of affines) {
    out.set(a.scale.subarray(0, c), cp * k++);
    out.set(a.shift.subarray(0, c), cp * k++);
  }
  return out;
}

/** LIF affine parameters: per affine, `scale[C]` then `shift[C]` (unpadded). */
export function packLifAffines(c: number, affines: { scale: Float32Array; shift: Float32Array }[]): Float32Array {
  const out = new Float32Array(Math.max(4, 2 * c * affines.length));
  affines.forEach((a, i) => {
    out.set(a.scale.subarray(0, c), 2 * i * c);
    out.set(a.shift.subarray(0, c), (2 * i + 1) * c);
  });
  return out;
}

export type SpikeLayout = 'channel' | 'token' | 'dense';

/** Size in 32-bit words of one layer's spikes over T steps in a layout. */
export function spikeWords(layout: SpikeLayout, t: number, c: number, n: number): number {
  if (layout === 'channel') return t * Math.ceil(c / 32) * n;
  if (layout === 'token') return t * c * Math.ceil(n / 32);
  return t * c * n;
}

/**
 * Unpacks spikes read back from the GPU into 0/1 bytes `[T, C, N]` (t-major), from the channel-
 * packed (`[T][C/32][N]`, bit c%32), token-packed (`[T][C][N/32]`, bit n%32) or dense f32 layout.
 */
export function unpackSpikes(words: Uint32Array, layout: SpikeLayout, t: number, c: number, n: number): Uint8Array {
  const out = new Uint8Array(t * c * n);
  if (layout === 'dense') {
    const f = new Float32Array(words.buffer, words.byteOffset, t * c * n);
    for (let i = 0; i < out.length; i++) out[i] = f[i] !== 0 ? 1 : 0;
    return out;
  }
  const cw = Math.ceil(c / 32);
  const nw = Math.ceil(n / 32);
  for (let s = 0; s < t; s++) {
    for (let ch = 0; ch < c; ch++) {
      const o = (s * c + ch) * n;
      if (layout === 'channel') {
        const base = (s * cw + (ch >>> 5)) * n;
        const bit = ch & 31;
        for (let i = 0; i < n; i++) out[o + i] = (words[base + i] >>> bit) & 1;
      } else {
        const base = (s * c + ch) * nw;
        for (let i = 0; i < n; i++) out[o + i] = (words[base + (i >>> 5)] >>> (i & 31)) & 1;
      }
    }
  }
  return out;
}

/** Packs 0/1 spikes `[T, C, N]` into a layout (for tests and for feeding kernels directly). */
export function packSpikes(spikes: Uint8Array | Float32Array, layout: SpikeLayout, t: number, c: number, n: number): Uint32Array {
  const out = new Uint32Array(spikeWords(layout, t, c, n));
  const cw = Math.ceil(c / 32);
  const nw = Math.ceil(n / 32);
  const f = layout === 'dense' ? new Float32Array(out.buffer) : null;
  for (let s = 0; s < t; s++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < n; i++) {
        const e = (s * c + ch) * n + i;
        if (!spikes[e]) continue;
        if (f) f[e] = 1;
        else if (layout === 'channel') out[(s * cw + (ch >>> 5)) * n + i] |= 1 << (ch & 31);
        else out[(s * c + ch) * nw + (i >>> 5)] |= 1 << (i & 31);
      }
    }
  }
  return out;
}
