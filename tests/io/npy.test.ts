import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/io/npy.ts';

const REF = 'tests/fixtures/official/metaspikformer-tiny-t1/cat';
const FIX = 'tests/fixtures/npy';
const load = (p: string): Uint8Array => new Uint8Array(readFileSync(p));

/** A v1 file with an arbitrary header text (padded like numpy) followed by `data`. */
function handMade(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let h = header;
  while ((pre + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, h.length, true);
  else dv.setUint32(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[pre + i] = h.charCodeAt(i);
  out.set(data, pre + h.length);
  return out;
}

describe('readNpy on the reference files', () => {
  it('reads input.npy: float32 [1,3,128,128]', () => {
    const a = readNpy(load(`${REF}/input.npy`));
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([1, 3, 128, 128]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(a.data.length).toBe(3 * 128 * 128);
    const d = a.data as Float32Array;
    expect(d.every((v) => Number.isFinite(v) && v > -3 && v < 3)).toBe(true);
  });

  it('reads logits.npy: float32 [1,10]', () => {
    const a = readNpy(load(`${REF}/logits.npy`));
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([1, 10]);
    expect(a.data.length).toBe(10);
  });

  it('writeNpy reproduces numpy.save byte for byte', () => {
    for (const f of [`${REF}/logits.npy`, `${REF}/input.npy`, `${REF}/features.npy`]) {
      const bytes = load(f);
      const a = readNpy(bytes);
      expect(Buffer.from(writeNpy(a.data, a.shape)).equals(bytes), f).toBe(true);
    }
  });

  it('accepts a view at an odd byte offset (copies to an aligned buffer)', () => {
    const bytes = load(`${REF}/logits.npy`);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const a = readNpy(shifted.subarray(1));
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(readNpy(bytes).data as Float32Array));
  });
});

describe('readNpy on numpy-made fixtures', () => {
  const arange = Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);

  it.each(['f4_2x3x4.npy', 'f4_v2.npy', 'f4_v3.npy'])('%s (format versions 1, 2, 3)', (f) => {
    const a = readNpy(load(`${FIX}/${f}`));
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([2, 3, 4]);
    expect(Array.from(a.data as Float32Array)).toEqual(arange);
  });

  it('float64 scalar', () => {
    const a = readNpy(load(`${FIX}/f8_scalar.npy`));
    expect(a).toMatchObject({ dtype: 'float64', shape: [] });
    expect(Array.from(a.data as Float64Array)).toEqual([Math.PI]);
  });

  it('int64', () => {
    const a = readNpy(load(`${FIX}/i8_5.npy`));
    expect(a).toMatchObject({ dtype: 'int64', shape: [5] });
    expect(Array.from(a.data as BigInt64Array)).toEqual([-(2n ** 62n), -1n, 0n, 1n, 2n ** 62n]);
  });

  it('int32', () => {
    const a = readNpy(load(`${FIX}/i4_2x2.npy`));
    expect(a).toMatchObject({ dtype: 'int32', shape: [2, 2] });
    expect(Array.from(a.data as Int32Array)).toEqual([-7, 2 ** 31 - 1, -(2 ** 31), 0]);
  });

  it('uint8 and bool', () => {
    const u = readNpy(load(`${FIX}/u1_3.npy`));
    expect(u).toMatchObject({ dtype: 'uint8', shape: [3] });
    expect(Array.from(u.data as Uint8Array)).toEqual([0, 128, 255]);
    const b = readNpy(load(`${FIX}/b1_2x3.npy`));
    expect(b).toMatchObject({ dtype: 'bool', shape: [2, 3] });
    expect(Array.from(b.data as Uint8Array)).toEqual([1, 0, 1, 0, 0, 1]);
  });

  it('empty array', () => {
    const a = readNpy(load(`${FIX}/f4_empty_0x3.npy`));
    expect(a).toMatchObject({ dtype: 'float32', shape: [0, 3] });
    expect(a.data.length).toBe(0);
  });

  it('writeNpy matches numpy.save for every dtype (v1 files)', () => {
    for (const f of ['f4_2x3x4.npy', 'f8_scalar.npy', 'i8_5.npy', 'i4_2x2.npy', 'u1_3.npy', 'b1_2x3.npy', 'f4_empty_0x3.npy']) {
      const bytes = load(`${FIX}/${f}`);
      const a = readNpy(bytes);
      expect(writeNpy(a.data, a.shape, { dtype: a.dtype }), f).toEqual(bytes);
    }
  });
});

describe('writeNpy / readNpy round trip', () => {
  it('round trips each array type with data aligned at 64', () => {
    const cases = [
      { data: new Float32Array([1.5, -2, 3.25, Number.NaN, Infinity, -0]), shape: [2, 3] },
      { data: new Float64Array([1e-300, 2, 3]), shape: [3] },
      { data: new BigInt64Array([1n, -2n]), shape: [1, 2, 1] },
      { data: new Int32Array([5, 6, 7, 8]), shape: [4] },
      { data: new Uint8Array([9]), shape: [] },
    ];
    for (const { data, shape } of cases) {
      const bytes = writeNpy(data, shape);
      const headerLen = bytes[8] | (bytes[9] << 8);
      expect((10 + headerLen) % 64).toBe(0);
      expect(bytes[10 + headerLen - 1]).toBe(0x0a);
      const back = readNpy(bytes);
      expect(back.shape).toEqual(shape);
      expect(back.data.constructor).toBe(data.constructor);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(data as ArrayLike<unknown>));
    }
  });

  it('keeps -0 and NaN bit patterns', () => {
    const back = readNpy(writeNpy(new Float32Array([-0, Number.NaN]), [2])).data as Float32Array;
    expect(Object.is(back[0], -0)).toBe(true);
    expect(Number.isNaN(back[1])).toBe(true);
  });

  it('writes a subarray view, not its whole buffer', () => {
    const big = new Float32Array([0, 1, 2, 3, 4, 5]);
    const back = readNpy(writeNpy(big.subarray(2, 5), [3]));
    expect(Array.from(back.data as Float32Array)).toEqual([2, 3, 4]);
  });

  it('bool option', () => {
    const back = readNpy(writeNpy(new Uint8Array([1, 0, 1]), [3], { dtype: 'bool' }));
    expect(back.dtype).toBe('bool');
    expect(() => writeNpy(new Uint8Array([2]), [1], { dtype: 'bool' })).toThrow(/expected 0 or 1/);
  });

  it('refuses a shape that does not match the array', () => {
    expect(() => writeNpy(new Float32Array(6), [2, 2])).toThrow(/4 elements but the array has 6/);
    expect(() => writeNpy(new Float32Array(2), [-1, -2])).toThrow(/non-negative integers/);
    expect(() => writeNpy(new Float32Array(2), [2], { dtype: 'int32' })).toThrow(/does not match/);
  });
});

describe('readNpy refuses malformed or unsupported files', () => {
  it('fortran order', () => {
    expect(() => readNpy(load(`${FIX}/bad_fortran.npy`))).toThrow(/fortran_order/);
  });
  it('big-endian', () => {
    expect(() => readNpy(load(`${FIX}/bad_bigendian.npy`))).toThrow(/big-endian dtype '>f4'/);
  });
  it('object dtype', () => {
    expect(() => readNpy(load(`${FIX}/bad_object.npy`))).toThrow(/object dtype/);
  });
  it('unsupported dtype', () => {
    expect(() => readNpy(load(`${FIX}/bad_complex.npy`))).toThrow(/unsupported dtype '<c8'/);
  });
  it('structured dtype', () => {
    const f = handMade("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8));
    expect(() => readNpy(f)).toThrow(/structured or object dtype/);
  });
  it('not an npy file', () => {
    expect(() => readNpy(new TextEncoder().encode('hello world, not numpy'))).toThrow(/not a \.npy file/);
    expect(() => readNpy(new Uint8Array(0))).toThrow(/not a \.npy file/);
  });
  it('unknown version', () => {
    const f = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4));
    f[6] = 4;
    expect(() => readNpy(f)).toThrow(/unsupported format version 4\.0/);
  });
  it('truncated data', () => {
    const bytes = load(`${REF}/logits.npy`);
    expect(() => readNpy(bytes.subarray(0, bytes.length - 4))).toThrow(/needs 40 data bytes but the file has 36 \(truncated\)/);
  });
  it('trailing bytes', () => {
    const bytes = load(`${REF}/logits.npy`);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expect(() => readNpy(longer)).toThrow(/has 43 \(trailing bytes\)/);
  });
  it('header longer than the file', () => {
    const bytes = load(`${REF}/logits.npy`);
    expect(() => readNpy(bytes.subarray(0, 50))).toThrow(/header claims 118 bytes/);
  });
  it('garbled header', () => {
    expect(() => readNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1,"))).toThrow(/malformed header/);
    expect(() => readNpy(handMade('[1, 2]'))).toThrow(/header is not a dict/);
    expect(() => readNpy(handMade("{'descr': '<f4', 'shape': (1,), }", new Uint8Array(4)))).toThrow(/exactly the keys/);
    expect(() => readNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }"))).toThrow(/non-negative integers/);
    expect(() => readNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"))).toThrow(/non-negative integers/);
  });
  it('bool bytes other than 0/1', () => {
    const f = handMade("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([1, 7]));
    expect(() => readNpy(f)).toThrow(/byte 7 at element 1/);
  });
  it('accepts Python 2 style headers (long ints) and a v2 hand-made file', () => {
    const a = readNpy(handMade("{'descr': '<i4', 'fortran_order': False, 'shape': (2L,), }", new Uint8Array(8)));
    expect(a.shape).toEqual([2]);
    const b = readNpy(handMade('{"descr": "<i4", "fortran_order": False, "shape": (1,)}', new Uint8Array(4), 2));
    expect(b.shape).toEqual([1]);
  });
});
