/**
 * NumPy `.npy` files: read (format versions 1.0, 2.0, 3.0) and write (1.0).
 *
 * Browser-safe: no Node imports. Only little-endian, C-order arrays of plain numeric
 * dtypes are supported; everything else is refused with an Error that says why, rather
 * than being silently misread.
 *
 * Format (numpy/lib/format.py): 6 magic bytes `\x93NUMPY`, 1 byte major and 1 byte minor
 * version, the header length (uint16 LE for v1, uint32 LE for v2/v3), then the header,
 * a Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 10), }`
 * padded with spaces and ending in `\n` (latin-1 for v1/v2, UTF-8 for v3), then the raw data.
 */

export type NpyDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

export type NpyData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Owns its buffer (a copy of the file's data section), C order. `bool` arrays are 0/1 bytes. */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy aligns the data section to this many bytes. */
const ARRAY_ALIGN = 64;
/** numpy leaves room for the first axis to grow to this many digits (format.py GROWTH_AXIS_MAX_DIGITS). */
const GROWTH_AXIS_MAX_DIGITS = 21;

interface DtypeInfo {
  dtype: NpyDtype;
  itemSize: number;
}

/** descr without its byte-order character → dtype. */
const KINDS: Record<string, DtypeInfo> = {
  f4: { dtype: 'float32', itemSize: 4 },
  f8: { dtype: 'float64', itemSize: 8 },
  i8: { dtype: 'int64', itemSize: 8 },
  i4: { dtype: 'int32', itemSize: 4 },
  u1: { dtype: 'uint8', itemSize: 1 },
  b1: { dtype: 'bool', itemSize: 1 },
};

const DESCR: Record<NpyDtype, string> = {
  float32: '<f4',
  float64: '<f8',
  int64: '<i8',
  int32: '<i4',
  uint8: '|u1',
  bool: '|b1',
};

export class NpyFormatError extends Error {
  constructor(message: string) {
    super(`npy: ${message}`);
    this.name = 'NpyFormatError';
  }
}

// ---------------------------------------------------------------------------------------
// Header parsing: a tiny parser for the subset of Python literals numpy writes.

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

class LiteralParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseTop(): PyValue {
    const v = this.value();
    this.ws();
    if (this.pos !== this.text.length) this.fail(`unexpected ${JSON.stringify(this.text[this.pos])}`);
    return v;
  }

  private fail(what: string): never {
    throw new NpyFormatError(`malformed header at character ${this.pos}: ${what} in ${JSON.stringify(this.text)}`);
  }

  private ws(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private value(): PyValue {
    this.ws();
    const c = this.text[this.pos];
    if (c === undefined) this.fail('unexpected end');
    if (c === '{') return this.dict();
    if (c === '(' || c === '[') return this.sequence(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.string();
    if (/[0-9+-]/.test(c)) return this.number();
    const word = /^[A-Za-z_]+/.exec(this.text.slice(this.pos))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.pos += word.length;
      return word === 'True' ? true : word === 'False' ? false : null;
    }
    return this.fail(`unexpected ${JSON.stringify(c)}`);
  }

  private dict(): { [key: string]: PyValue } {
    const out: { [key: string]: PyValue } = {};
    this.pos++; // {
    for (;;) {
      this.ws();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return out;
      }
      const key = this.value();
      if (typeof key !== 'string') this.fail('dict key is not a string');
      this.ws();
      if (this.text[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      out[key] = this.value();
      this.ws();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== '}') this.fail("expected ',' or '}'");
    }
  }

  private sequence(close: string): PyValue[] {
    const out: PyValue[] = [];
    this.pos++;
    for (;;) {
      this.ws();
      if (this.text[this.pos] === close) {
        this.pos++;
        return out;
      }
      out.push(this.value());
      this.ws();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  private string(): string {
    const quote = this.text[this.pos++];
    let out = '';
    while (this.pos < this.text.length && this.text[this.pos] !== quote) {
      if (this.text[this.pos] === '\\') this.pos++;
      out += this.text[this.pos++] ?? '';
    }
    if (this.pos >= this.text.length) this.fail('unterminated string');
    this.pos++;
    return out;
  }

  private number(): number {
    // Python 2 era files may carry an 'L' suffix on ints: (3L, 4L).
    const m = /^[+-]?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?L?/.exec(this.text.slice(this.pos));
    if (!m) this.fail('bad number');
    this.pos += m[0].length;
    return Number(m[0].replace(/L$/, ''));
  }
}

function parseHeader(text: string): { info: DtypeInfo; shape: number[] } {
  const header = new LiteralParser(text).parseTop();
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new NpyFormatError(`header is not a dict: ${JSON.stringify(text)}`);
  }
  const keys = Object.keys(header).sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    throw new NpyFormatError(`header must have exactly the keys descr, fortran_order, shape; found ${keys.join(', ') || 'none'}`);
  }
  const { descr, fortran_order: fortranOrder, shape } = header;

  if (typeof descr !== 'string') {
    throw new NpyFormatError(`structured or object dtype ${JSON.stringify(descr)} is not supported (only plain numeric dtypes)`);
  }
  const order = descr[0];
  const kind = descr.slice(1);
  if (descr === 'O' || kind === 'O' || kind.startsWith('O')) {
    throw new NpyFormatError(`object dtype '${descr}' is not supported (it holds pickled Python objects)`);
  }
  const info = KINDS[kind];
  if (!info || !'<>|=!'.includes(order)) {
    throw new NpyFormatError(
      `unsupported dtype '${descr}'; supported: ${Object.values(DESCR).join(', ')} (little-endian, '<' or '|')`,
    );
  }
  // Byte order only matters for multi-byte items; numpy writes '|' for one-byte ones.
  if (info.itemSize > 1 && order !== '<') {
    throw new NpyFormatError(
      order === '|' || order === '='
        ? `dtype '${descr}' has no explicit little-endian byte order ('<' required)`
        : `big-endian dtype '${descr}' is not supported; save it little-endian (arr.astype('<${kind}'))`,
    );
  }
  if (typeof fortranOrder !== 'boolean') throw new NpyFormatError(`fortran_order must be True or False, got ${JSON.stringify(fortranOrder)}`);
  if (fortranOrder) {
    throw new NpyFormatError("fortran_order=True (column-major) arrays are not supported; save with np.ascontiguousarray()");
  }
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new NpyFormatError(`shape must be a tuple of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return { info, shape: shape as number[] };
}

function decodeText(bytes: Uint8Array, utf8: boolean): string {
  if (utf8) return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]); // latin-1
  return s;
}

/** Parse a `.npy` file held in memory. The returned `data` is a copy (aligned, owns its buffer). */
export function readNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new NpyFormatError('not a .npy file (missing the \\x93NUMPY magic)');
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major !== 1 && major !== 2 && major !== 3) {
    throw new NpyFormatError(`unsupported format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else {
    if (bytes.length < 12) throw new NpyFormatError(`file of ${bytes.length} bytes is too short for a v${major} header length`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) {
    throw new NpyFormatError(`header claims ${headerLen} bytes but the file has only ${bytes.length - headerStart} after the preamble (truncated?)`);
  }
  let text: string;
  try {
    text = decodeText(bytes.subarray(headerStart, dataStart), major === 3);
  } catch {
    throw new NpyFormatError('v3 header is not valid UTF-8');
  }
  const { info, shape } = parseHeader(text);

  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * info.itemSize;
  const actual = bytes.length - dataStart;
  if (!Number.isSafeInteger(expected) || expected !== actual) {
    throw new NpyFormatError(
      `shape (${shape.join(', ')}) of ${info.dtype} needs ${expected} data bytes but the file has ${actual} ` +
        `(${actual < expected ? 'truncated' : 'trailing bytes'})`,
    );
  }
  // A fresh copy: Node's Buffer.slice would return a view of the whole (possibly pooled) buffer.
  const buf = new Uint8Array(bytes.subarray(dataStart)).buffer;
  let data: NpyData;
  switch (info.dtype) {
    case 'float32': data = new Float32Array(buf); break;
    case 'float64': data = new Float64Array(buf); break;
    case 'int64': data = new BigInt64Array(buf); break;
    case 'int32': data = new Int32Array(buf); break;
    case 'uint8': data = new Uint8Array(buf); break;
    case 'bool': {
      const u = new Uint8Array(buf);
      for (let i = 0; i < u.length; i++) {
        if (u[i] > 1) throw new NpyFormatError(`bool array has byte ${u[i]} at element ${i} (expected 0 or 1)`);
      }
      data = u;
      break;
    }
  }
  return { dtype: info.dtype, shape, data };
}

function dtypeOf(array: NpyData): NpyDtype {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof BigInt64Array) return 'int64';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Uint8Array) return 'uint8';
  throw new NpyFormatError(`cannot write ${Object.prototype.toString.call(array)}: supported are Float32Array, Float64Array, BigInt64Array, Int32Array, Uint8Array`);
}

/**
 * Serialise a C-order array as `.npy` v1.0, byte-identical to `numpy.save` (same header
 * text, the same spare room for the first axis, padding so the data starts at a multiple
 * of 64 bytes). Pass `dtype: 'bool'` to store a Uint8Array of 0/1 as numpy bool.
 */
export function writeNpy(array: NpyData, shape: number[], options: { dtype?: NpyDtype } = {}): Uint8Array {
  const natural = dtypeOf(array);
  const dtype = options.dtype ?? natural;
  if (dtype !== natural && !(dtype === 'bool' && natural === 'uint8')) {
    throw new NpyFormatError(`dtype '${dtype}' does not match the array type (${natural})`);
  }
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new NpyFormatError(`shape must be non-negative integers, got [${shape.join(', ')}]`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== array.length) {
    throw new NpyFormatError(`shape [${shape.join(', ')}] has ${count} elements but the array has ${array.length}`);
  }
  if (dtype === 'bool') {
    for (let i = 0; i < array.length; i++) {
      if ((array as Uint8Array)[i] > 1) throw new NpyFormatError(`bool array has value ${(array as Uint8Array)[i]} at element ${i} (expected 0 or 1)`);
    }
  }

  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // Pad with spaces and a final newline so that preamble (10 bytes) + header is a multiple of 64.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat(ARRAY_ALIGN - (unpadded % ARRAY_ALIGN)) + '\n'; // numpy pads a full 64 when already aligned
  if (header.length > 0xffff) throw new NpyFormatError(`header of ${header.length} bytes does not fit format 1.0`);

  const dataBytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  const out = new Uint8Array(10 + header.length + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(dataBytes, 10 + header.length);
  return out;
}
