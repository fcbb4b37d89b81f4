/**
 * A named tensor as checkpoints hold it: dtype, shape and the raw little-endian bytes of a
 * C-contiguous layout. Raw bytes keep a .pth → .safetensors round trip exact for every dtype;
 * `toFloat32` gives the numbers the runtimes compute with.
 */
export type DType =
  | 'float64' | 'float32' | 'float16' | 'bfloat16'
  | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export interface Tensor {
  dtype: DType;
  shape: number[];
  /** C-contiguous little-endian bytes, length = numel(shape) * itemSize(dtype). */
  data: Uint8Array;
}

export const ITEM_SIZE: Record<DType, number> = {
  float64: 8, float32: 4, float16: 2, bfloat16: 2,
  int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** IEEE half → number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number → IEEE half bits, round to nearest even (what torch's `.half()` does). */
export function numberToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** The tensor's values as float32 (integers and halves converted; int64 beyond 2^53 loses precision). */
export function toFloat32(t: Tensor): Float32Array {
  const n = numel(t.shape);
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (t.dtype === 'float32') {
    // Copy so the result is aligned and owned.
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'float64': out[i] = view.getFloat64(i * 8, true); break;
      case 'float16': out[i] = halfToNumber(view.getUint16(i * 2, true)); break;
      case 'bfloat16': u32[0] = view.getUint16(i * 2, true) << 16; out[i] = f32[0]; break;
      case 'int64': out[i] = Number(view.getBigInt64(i * 8, true)); break;
      case 'int32': out[i] = view.getInt32(i * 4, true); break;
      case 'int16': out[i] = view.getInt16(i * 2, true); break;
      case 'int8': out[i] = view.getInt8(i); break;
      case 'uint8': case 'bool': out[i] = view.getUint8(i); break;
    }
  }
  return out;
}

/** A float32 tensor from values. */
export function float32Tensor(shape: number[], values: Float32Array): Tensor {
  if (values.length !== numel(shape)) throw new Error(`float32Tensor: ${values.length} values for shape [${shape}]`);
  const data = new Uint8Array(values.length * 4);
  const view = new DataView(data.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return { dtype: 'float32', shape, data };
}

/** A float32 tensor converted to float16 (round to nearest even); other dtypes are returned as they are. */
export function toFloat16(t: Tensor): Tensor {
  if (t.dtype !== 'float32' && t.dtype !== 'float64' && t.dtype !== 'bfloat16') return t;
  const values = toFloat32(t);
  const data = new Uint8Array(values.length * 2);
  const view = new DataView(data.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, numberToHalf(values[i]), true);
  return { dtype: 'float16', shape: t.shape.slice(), data };
}
