import { describe, it, expect } from 'vitest';
import { bytesSource, type ByteSource } from '../../src/io/byteSource.ts';
import { readCheckpoint } from '../../src/checkpoint/index.ts';
import {
  encodeSafetensors, readSafetensors, readSafetensorsHeader, writeSafetensors,
} from '../../src/checkpoint/safetensors.ts';
import { ITEM_SIZE, type Tensor } from '../../src/checkpoint/tensor.ts';
import { expectCheckpointError } from './helpers.ts';
import { le } from './zipWriter.ts';

const enc = new TextEncoder();

/** A safetensors file from a header object (written as given) and a data section. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText = JSON.stringify(header)): Uint8Array {
  const json = enc.encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const sample: [string, Tensor][] = [
  ['h', { dtype: 'float16', shape: [3], data: le(new Uint16Array([0x3c00, 0xc000, 0x3800])) }],
  ['w', { dtype: 'float32', shape: [2, 2], data: le(new Float32Array([1, 2, 3, 4])) }],
  ['n', { dtype: 'int64', shape: [], data: le(new BigInt64Array([42n])) }],
  ['b', { dtype: 'bool', shape: [2], data: Uint8Array.of(1, 0) }],
  ['bf', { dtype: 'bfloat16', shape: [1], data: le(new Uint16Array([0x3f80])) }],
  ['d', { dtype: 'float64', shape: [1], data: le(new Float64Array([0.1])) }],
  ['i32', { dtype: 'int32', shape: [1], data: le(new Int32Array([-3])) }],
  ['i16', { dtype: 'int16', shape: [1], data: le(new Int16Array([-4])) }],
  ['i8', { dtype: 'int8', shape: [1], data: le(new Int8Array([-5])) }],
  ['u8', { dtype: 'uint8', shape: [0], data: new Uint8Array(0) }],
];

describe('writeSafetensors / readSafetensors', () => {
  it('round-trips every dtype with metadata', async () => {
    const file = encodeSafetensors(sample, { format: 'pt', note: 'é' });
    const { tensors, metadata } = await readSafetensors(bytesSource(file));
    expect(metadata).toEqual({ format: 'pt', note: 'é' });
    expect(new Map(sample)).toEqual(tensors);
  });

  it('pads the header with spaces to 8 bytes and keeps every tensor aligned to its item size', async () => {
    const file = encodeSafetensors(sample);
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(file.subarray(8, 8 + n));
    expect(text.startsWith('{')).toBe(true);
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    const header = await readSafetensorsHeader(bytesSource(file));
    expect(header.dataStart % 8).toBe(0);
    for (const e of header.entries) expect(e.offset % ITEM_SIZE[e.dtype]).toBe(0);
    // Largest item size first, the caller's order within one size.
    expect(header.entries.map((e) => e.name)).toEqual(['n', 'd', 'w', 'i32', 'h', 'bf', 'i16', 'b', 'i8', 'u8']);
    expect(Object.keys(JSON.parse(text))).toEqual(['n', 'd', 'w', 'i32', 'h', 'bf', 'i16', 'b', 'i8', 'u8']);
  });

  it('returns chunks that reference the tensor bytes instead of copying them', () => {
    const chunks = writeSafetensors(sample.slice(0, 2));
    expect(chunks.length).toBe(3);
    expect(chunks[1]).toBe(sample[1][1].data);
  });

  it('refuses a tensor named __metadata__, duplicates and wrong data sizes', async () => {
    const t = sample[1][1];
    await expectCheckpointError(() => writeSafetensors([['__metadata__', t]]), 'bad-safetensors');
    await expectCheckpointError(() => writeSafetensors([['a', t], ['a', t]]), 'bad-safetensors');
    await expectCheckpointError(() => writeSafetensors([['a', { ...t, shape: [3] }]]), 'bad-tensor');
  });

  it('reads the header without reading tensor data', async () => {
    const file = encodeSafetensors([['big', { dtype: 'float32', shape: [10000], data: new Uint8Array(40000) }]], { a: 'b' });
    const src = bytesSource(file);
    let read = 0;
    const header = await readSafetensorsHeader({ ...src, read: (o: number, n: number) => { read += n; return src.read(o, n); } });
    expect(header.entries).toEqual([{ name: 'big', dtype: 'float32', shape: [10000], offset: header.dataStart, byteLength: 40000 }]);
    expect(header.metadata).toEqual({ a: 'b' });
    expect(read).toBeLessThan(200);
  });

  it('is read by readCheckpoint', async () => {
    const progress: number[] = [];
    const ck = await readCheckpoint(bytesSource(encodeSafetensors(sample, { k: 'v' }), 'm.safetensors'), { onProgress: (d) => progress.push(d) });
    expect(ck.format).toBe('safetensors');
    expect(ck.metadata).toEqual({ k: 'v' });
    expect(ck.args).toBeNull();
    expect(ck.tensors.size).toBe(sample.length);
    expect(progress.at(-1)).toBe(sample.reduce((n, [, t]) => n + t.data.length, 0));
  });
});

describe('readSafetensors refusals', () => {
  const f32 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

  it('refuses a header length beyond the file', async () => {
    const file = rawFile({ a: f32 }, new Uint8Array(8));
    new DataView(file.buffer).setUint32(0, 1000, true);
    await expectCheckpointError(() => readSafetensors(bytesSource(file)), 'truncated');
    new DataView(file.buffer).setUint32(4, 0x10000, true); // 2^48 + 1000
    await expectCheckpointError(() => readSafetensors(bytesSource(file)), 'truncated');
    await expectCheckpointError(() => readSafetensors(bytesSource(file.subarray(0, 5))), 'truncated');
  });

  it('refuses a header over 100 MB without reading it', async () => {
    const length = new Uint8Array(8);
    new DataView(length.buffer).setUint32(0, 150e6, true);
    const fake: ByteSource = {
      size: 200e6,
      name: 'fake.safetensors',
      async read(offset, n) {
        if (offset !== 0 || n !== 8) throw new Error(`unexpected read ${offset} ${n}`);
        return length;
      },
    };
    await expectCheckpointError(() => readSafetensorsHeader(fake), 'limit');
  });

  it('refuses offsets out of range, of the wrong size, or overlapping', async () => {
    const data = new Uint8Array(16);
    await expectCheckpointError(() => readSafetensors(bytesSource(rawFile({ a: { ...f32, data_offsets: [8, 24] } }, data))), 'bad-safetensors');
    await expectCheckpointError(() => readSafetensors(bytesSource(rawFile({ a: { ...f32, data_offsets: [0, 12] } }, data))), 'bad-safetensors');
    await expectCheckpointError(() => readSafetensors(bytesSource(rawFile({ a: { ...f32, data_offsets: [8, 0] } }, data))), 'bad-safetensors');
    await expectCheckpointError(() => readSafetensors(bytesSource(rawFile({ a: f32, b: { ...f32, data_offsets: [4, 12] } }, data))), 'bad-safetensors');
    // 10^12 elements declared: refused by the size check, nothing allocated.
    await expectCheckpointError(() => readSafetensors(bytesSource(rawFile({ a: { dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 8] } }, data))), 'bad-safetensors');
  });

  it('refuses bad JSON, unknown dtypes, bad shapes and bad metadata', async () => {
    const data = new Uint8Array(8);
    const err = await expectCheckpointError(() => readSafetensors(bytesSource(rawFile(null, data, '{"a": {'), 'x.safetensors')), 'bad-safetensors');
    expect(err.message).toMatch(/^x\.safetensors: the header is not valid UTF-8 JSON/);
    await expectCheckpointError(() => readSafetensors(bytesSource(rawFile([1, 2], data))), 'bad-safetensors');
    await expectCheckpointError(() => readSafetensors(bytesSource(rawFile({ a: { ...f32, dtype: 'F8_E4M3' } }, data))), 'bad-safetensors');
    await expectCheckpointError(() => readSafetensors(bytesSource(rawFile({ a: { ...f32, shape: [-2] } }, data))), 'bad-safetensors');
    await expectCheckpointError(() => readSafetensors(bytesSource(rawFile({ __metadata__: { a: 1 }, a: f32 }, data))), 'bad-safetensors');
  });

  it('refuses a tensor over the byte limit', async () => {
    const file = rawFile({ a: f32 }, new Uint8Array(8));
    await expectCheckpointError(() => readSafetensors(bytesSource(file), { maxTensorBytes: 4 }), 'limit');
  });

  it('refuses a file without tensors in readCheckpoint', async () => {
    await expectCheckpointError(() => readCheckpoint(bytesSource(rawFile({ __metadata__: { a: 'b' } }))), 'no-weights');
  });
});
