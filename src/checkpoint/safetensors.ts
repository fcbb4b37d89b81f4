/**
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of UTF-8 JSON, then the tensor data. The header maps each tensor name to
 * `{dtype, shape, data_offsets: [begin, end]}` (offsets relative to the data, i.e. to byte 8 + N)
 * and may hold `__metadata__`, a string → string map.
 *
 * Writing follows the reference implementation: the header is padded with spaces to a multiple
 * of 8 bytes, data is packed with no gaps, and tensors are ordered by item size (largest first)
 * so every tensor starts at a multiple of its item size; within one item size the order is the
 * caller's (a state_dict's module order). The JSON header lists tensors in that same order.
 */
import { readOwned, type ByteSource } from '../io/byteSource.ts';
import { CheckpointError } from './errors.ts';
import { ITEM_SIZE, numel, type DType, type Tensor } from './tensor.ts';

export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  /** Tensors in the order their data lies in the file. */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Where tensor data starts (8 + header length). */
  dataStart: number;
}

export interface SafetensorsOptions {
  /** Largest tensor loaded, in bytes (default 1 GiB). */
  maxTensorBytes?: number;
  /** Called after each tensor with bytes loaded so far and in total. */
  onProgress?(done: number, total: number): void;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const DEFAULT_MAX_TENSOR_BYTES = 2 ** 30;

const TO_DTYPE: Record<string, DType> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16',
  I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};
const FROM_DTYPE: Record<DType, string> = {
  float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16',
  int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};

/** Reads and validates the header only (names, dtypes, shapes, offsets, metadata). */
export async function readSafetensorsHeader(source: ByteSource): Promise<SafetensorsHeader> {
  const name = source.name;
  const bad = (msg: string): never => {
    throw new CheckpointError('bad-safetensors', `${name}: ${msg}`);
  };
  if (source.size < 8) throw new CheckpointError('truncated', `${name}: ${source.size} bytes is too short for a safetensors header`);
  const lenView = new DataView((await source.read(0, 8)).slice().buffer);
  const headerLength = lenView.getUint32(4, true) * 0x100000000 + lenView.getUint32(0, true);
  if (headerLength > source.size - 8) {
    throw new CheckpointError('truncated', `${name}: the safetensors header claims ${headerLength} bytes but the file has only ${source.size - 8} after the length (truncated file?)`);
  }
  if (headerLength > MAX_HEADER_BYTES) {
    throw new CheckpointError('limit', `${name}: the safetensors header is ${headerLength} bytes; at most ${MAX_HEADER_BYTES} are accepted`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await source.read(8, headerLength)));
  } catch (err) {
    return bad(`the header is not valid UTF-8 JSON (${(err as Error).message.slice(0, 100)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return bad('the header is not a JSON object');

  const dataStart = 8 + headerLength;
  const dataLength = source.size - dataStart;
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [key, info] of Object.entries(json)) {
    if (key === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) return bad('__metadata__ is not an object');
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') return bad(`__metadata__.${k} is not a string`);
      }
      metadata = Object.fromEntries(Object.entries(info)); // own properties, even '__proto__'
      continue;
    }
    if (typeof info !== 'object' || info === null) return bad(`the entry for ${key} is not an object`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(TO_DTYPE, dtype)) return bad(`${key} has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!isIntArray(shape)) return bad(`${key} has a bad shape`);
    if (!isIntArray(offsets) || offsets.length !== 2 || offsets[0] > offsets[1]) return bad(`${key} has bad data_offsets`);
    const [begin, end] = offsets;
    if (end > dataLength) return bad(`${key} has data_offsets [${begin}, ${end}] past the end of the data (${dataLength} bytes; truncated file?)`);
    const dt = TO_DTYPE[dtype];
    const need = shape.reduce((n, s) => n * BigInt(s), 1n) * BigInt(ITEM_SIZE[dt]);
    if (BigInt(end - begin) !== need) return bad(`${key} has ${end - begin} bytes of data but shape [${shape}] of ${dt} needs ${need}`);
    entries.push({ name: key, dtype: dt, shape, offset: dataStart + begin, byteLength: end - begin });
  }
  entries.sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1];
    if (entries[i].offset < prev.offset + prev.byteLength) bad(`the data of ${entries[i].name} overlaps ${prev.name}`);
  }
  return { entries, metadata, dataStart };
}

/** Reads every tensor (in file order) and the metadata. */
export async function readSafetensors(source: ByteSource, options: SafetensorsOptions = {}): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  const header = await readSafetensorsHeader(source);
  const maxTensorBytes = options.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES;
  const total = header.entries.reduce((n, e) => n + e.byteLength, 0);
  let done = 0;
  options.onProgress?.(0, total);
  const tensors = new Map<string, Tensor>();
  for (const e of header.entries) {
    if (e.byteLength > maxTensorBytes) {
      throw new CheckpointError('limit', `${source.name}: tensor ${e.name} is ${e.byteLength} bytes; at most ${maxTensorBytes} are loaded`);
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: await readOwned(source, e.offset, e.byteLength) });
    done += e.byteLength;
    options.onProgress?.(done, total);
  }
  return { tensors, metadata: header.metadata };
}

/**
 * A safetensors file as chunks to write in sequence (the header, then each tensor's own bytes,
 * not copied), so a large model is never concatenated in memory.
 */
export function writeSafetensors(tensors: Iterable<[string, Tensor]>, metadata: Record<string, string> = {}): Uint8Array[] {
  const list: [string, Tensor][] = [];
  const seen = new Set<string>();
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new CheckpointError('bad-safetensors', 'a tensor cannot be named __metadata__ in safetensors');
    if (seen.has(name)) throw new CheckpointError('bad-safetensors', `two tensors named ${name}`);
    const need = numel(t.shape) * ITEM_SIZE[t.dtype];
    if (t.data.byteLength !== need) {
      throw new CheckpointError('bad-tensor', `tensor ${name} has ${t.data.byteLength} bytes but shape [${t.shape}] of ${t.dtype} needs ${need}`);
    }
    seen.add(name);
    list.push([name, t]);
  }
  // Stable sort: largest item size first keeps every tensor aligned to its item size.
  list.sort((a, b) => ITEM_SIZE[b[1].dtype] - ITEM_SIZE[a[1].dtype]);

  const parts: string[] = [];
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new CheckpointError('bad-safetensors', `metadata ${k} is not a string`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const [name, t] of list) {
    const end = offset + t.data.byteLength;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: FROM_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + headerLength).fill(0x20);
  const view = new DataView(head.buffer);
  view.setUint32(0, headerLength % 0x100000000, true);
  view.setUint32(4, Math.floor(headerLength / 0x100000000), true);
  head.set(json, 8);
  return [head, ...list.map(([, t]) => t.data)];
}

/** `writeSafetensors` as one buffer. */
export function encodeSafetensors(tensors: Iterable<[string, Tensor]>, metadata: Record<string, string> = {}): Uint8Array {
  const chunks = writeSafetensors(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0);
}
