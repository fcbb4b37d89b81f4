/**
 * A safe pickle reader: a data-only interpreter for the pickle stack machine (protocols 0–5).
 *
 * Nothing is ever executed. A class or function named by GLOBAL/STACK_GLOBAL stays a name; the
 * opcodes that would call it in Python (REDUCE, INST, OBJ) are answered by this module from a
 * fixed table, and a name outside that table is refused with `forbidden-call`:
 *
 * - tensor rebuilds → `TensorRef` (nothing is read; `pytorch.ts` loads the bytes on demand):
 *   `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_tensor`,
 *   `torch._utils._rebuild_parameter`, `torch._utils._rebuild_parameter_with_state`,
 *   `torch._tensor._rebuild_from_type_v2` (whose inner function must itself be one of these);
 * - plain data: `collections.OrderedDict` → `PickleDict`; `builtins.set`/`builtins.frozenset` →
 *   array; `builtins.bytes`, `builtins.bytearray`, `_codecs.encode` (protocol 0–2 bytes) →
 *   `Uint8Array`; `torch.Size` → tuple; `torch.device` → its string ('cpu', 'cuda:0');
 * - inert records (`PickleObject`, class name + arguments + BUILD state, never interpreted):
 *   `argparse.Namespace` (the training args), and numpy's `numpy.dtype`,
 *   `numpy.core.multiarray.scalar` and `numpy.core.multiarray._reconstruct` (also under
 *   `numpy._core`), which training scripts leave in checkpoints as metrics or RNG state;
 *   `copyreg._reconstructor(cls, builtins.object, None)` (protocol 0/1 objects) for those classes.
 *
 * NEWOBJ/NEWOBJ_EX (`cls.__new__(cls, *args)`, which creates an instance without running its
 * constructor) give an inert `PickleObject` for any class, except the data classes above
 * (NEWOBJ_EX with keyword arguments is refused). Extension-registry (EXT1/2/4) and out-of-band
 * buffer (NEXT_BUFFER, READONLY_BUFFER) opcodes are refused.
 * Torch storages only appear as persistent ids (`BINPERSID` on the tuple
 * `('storage', <storage class or dtype>, key, location, numel)`) and become `StorageRef`s.
 *
 * Value model notes:
 * - Python ints are `number` when safe, `bigint` beyond ±2^53; floats are `number`.
 * - Python str from STRING/BINSTRING (Python 2 strings) is decoded as UTF-8, as `torch.load` does.
 * - Dict keys must be None, bool, int, float, str or a tuple of those; a tuple key becomes its
 *   Python-like repr string, e.g. "(1, 'a')". Other keys are refused ('bad-pickle').
 * - BUILD state on a dict (e.g. a state_dict's `_metadata` attribute) is an attribute, not an
 *   item, and is dropped.
 * - A class or function name left in the data (e.g. `torch.float32` in args) is its dotted name
 *   as a string.
 * - A container can no longer be modified once it is inside another one. Pickles of real data
 *   (every torch.save) never do that; it only happens for self-containing structures, which are
 *   refused. So every value is acyclic and its nesting depth is bounded by `maxDepth`.
 *
 * Bounds: the interpreter is a loop (no recursion); each opcode consumes at least one input
 * byte, so time is linear in the input; lengths are checked against the remaining input before
 * anything is allocated; stack size, nesting depth, memo size and total items are capped.
 *
 * Why not the npm package pickleparser (0.2.1): it does have hooks for names and persistent ids,
 * but its model is the opposite of this one. Names resolve to JS constructors (by default a
 * generic object class, so `posix.system` is silently accepted rather than refused) and
 * REDUCE/NEWOBJ/INST run `Reflect.construct` on whatever was resolved; it has no bounds on
 * nesting, stack, memo or item count; and dicts default to plain objects filled by assignment
 * (a '__proto__' key rewrites the prototype). Making it safe would mean replacing most of what it
 * does, so this reader is written for exactly the torch.save subset, with refusals built in.
 */
import { CheckpointError } from './errors.ts';
import type { DType } from './tensor.ts';

export type PickleValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PickleValue[] | PickleTuple | PickleDict | PickleObject | TensorRef | StorageRef;

export interface PickleTuple { kind: 'tuple'; items: PickleValue[] }

/** A Python dict (or OrderedDict); see the module comment for the key rules. */
export type PickleDict = Map<string | number | bigint | boolean | null, PickleValue>;

/** An instance recorded, not created: `className` is the dotted name, e.g. 'argparse.Namespace'. */
export interface PickleObject {
  kind: 'object';
  className: string;
  args: PickleValue[];
  /** What BUILD set (an attribute dict for most classes), `null` if none. */
  state: PickleValue;
}

/** A torch storage: the zip record `data/<key>` holding `numel` elements of `dtype`. */
export interface StorageRef { kind: 'storage'; key: string; dtype: DType; numel: number; location: string }

/** A tensor view of a storage; strides and offset are in elements. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  storageOffset: number;
  shape: number[];
  stride: number[];
  requiresGrad: boolean;
}

export interface PickleOptions {
  /** Label for error messages (e.g. 'model.pth: data.pkl'). */
  name?: string;
  /** Deepest nesting of containers and MARKs (default 1000). */
  maxDepth?: number;
  /** Most values on the stack at once (default 1,000,000). */
  maxStack?: number;
  /** Most memo entries (default 10,000,000). */
  maxMemo?: number;
  /** Most values created in total (default 100,000,000). */
  maxItems?: number;
}

export function isTensorRef(v: PickleValue | undefined): v is TensorRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Uint8Array) && v.kind === 'tensor';
}

export function isPickleObject(v: PickleValue | undefined): v is PickleObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Uint8Array) && v.kind === 'object';
}

export function isPickleTuple(v: PickleValue | undefined): v is PickleTuple {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Uint8Array) && v.kind === 'tuple';
}

/**
 * The storage elements a tensor view touches, as `[first, end)`; throws 'bad-tensor' when the
 * view is malformed or reaches outside its storage. Computed with BigInt, so absurd shapes fail
 * here instead of overflowing. `where` prefixes error messages (a file name).
 */
export function tensorViewExtent(ref: TensorRef, where = 'tensor'): { first: number; end: number } {
  const { shape, stride, storageOffset, storage } = ref;
  const describe = () => `${where}: a tensor of shape [${shape}] strides [${stride}] at offset ${storageOffset} in storage data/${storage.key} (${storage.numel} elements)`;
  if (shape.length !== stride.length) throw new CheckpointError('bad-tensor', `${describe()} has ${shape.length} sizes but ${stride.length} strides`);
  for (const x of [...shape, ...stride, storageOffset]) {
    if (!Number.isSafeInteger(x) || x < 0) throw new CheckpointError('bad-tensor', `${describe()}: sizes, strides and offset must be non-negative integers`);
  }
  if (shape.some((s) => s === 0)) {
    if (storageOffset > storage.numel) throw new CheckpointError('bad-tensor', `${describe()}: the offset is past the storage`);
    return { first: storageOffset, end: storageOffset };
  }
  let last = BigInt(storageOffset);
  for (let i = 0; i < shape.length; i++) last += BigInt(shape[i] - 1) * BigInt(stride[i]);
  if (last >= BigInt(storage.numel)) throw new CheckpointError('bad-tensor', `${describe()} reads past the end of its storage`);
  return { first: storageOffset, end: Number(last) + 1 };
}

// ---------------------------------------------------------------------------------------------

/** A class or function named by GLOBAL/STACK_GLOBAL: a name only, never resolved to code. */
class GlobalRef {
  constructor(readonly name: string) {}
}

type StackItem = PickleValue | GlobalRef;

const STORAGE_CLASSES: Record<string, DType> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8',
  ByteStorage: 'uint8', BoolStorage: 'bool',
};

const TORCH_DTYPES: Record<string, DType> = {
  float32: 'float32', float: 'float32', float64: 'float64', double: 'float64', float16: 'float16', half: 'float16',
  bfloat16: 'bfloat16', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16',
  int8: 'int8', uint8: 'uint8', bool: 'bool',
};

/** The dtype of a storage type named in a persistent id, or undefined. */
function storageDType(typeName: string): DType | undefined {
  if (typeName === 'torch.UntypedStorage' || typeName === 'torch.storage.UntypedStorage') return 'uint8';
  const m = /^torch\.(?:cuda\.)?(\w+Storage)$/.exec(typeName);
  if (m) return STORAGE_CLASSES[m[1]];
  const d = /^torch\.(\w+)$/.exec(typeName);
  return d && Object.hasOwn(TORCH_DTYPES, d[1]) ? TORCH_DTYPES[d[1]] : undefined;
}

const TENSOR_REBUILDS = new Set([
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
]);

/** Classes and functions whose result is recorded as an inert `PickleObject`. */
const INERT_RECORDS = new Set([
  'argparse.Namespace',
  'numpy.dtype',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
]);

/** Python 2 module names that protocol 0–2 pickles use (what Python's fix_imports maps). */
const MODULE_ALIASES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

const DEFAULTS = { maxDepth: 1000, maxStack: 1_000_000, maxMemo: 10_000_000, maxItems: 100_000_000 };
const MAX_INT_BYTES = 4096; // LONG1/LONG4 payload, far beyond any integer a checkpoint holds
const MAX_INT_DIGITS = 4300; // text INT/LONG: Python's own default limit for int() from text

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/** Runs the pickle in `data` and returns the value STOP leaves on the stack. */
export function unpickle(data: Uint8Array, options: PickleOptions = {}): PickleValue {
  return new Unpickler(data, options).run();
}

class Unpickler {
  private readonly label: string;
  private readonly maxDepth: number;
  private readonly maxStack: number;
  private readonly maxMemo: number;
  private readonly maxItems: number;
  private readonly view: DataView;
  private pos = 0;
  /** Start of the opcode being run, for messages. */
  private opPos = 0;
  private stack: StackItem[] = [];
  /** Stack lengths at each open MARK. */
  private marks: number[] = [];
  private memo = new Map<number, StackItem>();
  private items = 0;
  /** Nesting depth of each container (absent = 0). */
  private depth = new WeakMap<object, number>();
  /** Containers already inside another container (no longer modifiable). */
  private placed = new WeakSet<object>();

  constructor(private readonly data: Uint8Array, options: PickleOptions) {
    this.label = options.name ?? 'pickle';
    this.maxDepth = options.maxDepth ?? DEFAULTS.maxDepth;
    this.maxStack = options.maxStack ?? DEFAULTS.maxStack;
    this.maxMemo = options.maxMemo ?? DEFAULTS.maxMemo;
    this.maxItems = options.maxItems ?? DEFAULTS.maxItems;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  run(): PickleValue {
    const d = this.data;
    while (this.pos < d.length) {
      this.opPos = this.pos;
      const op = d[this.pos++];
      switch (op) {
        // --- framing and stack manipulation
        case 0x80: { // PROTO
          const version = this.u8();
          if (version > 5) this.fail('bad-pickle', `pickle protocol ${version} is not supported (0–5 are)`);
          break;
        }
        case 0x95: this.take(8); break; // FRAME: a length hint only
        case 0x2e: { // STOP
          const result = this.pop();
          return this.value(result);
        }
        case 0x28: // MARK
          if (this.marks.length >= this.maxDepth) this.fail('limit', `more than ${this.maxDepth} nested MARKs`);
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP: an empty frame pops its mark instead, as Python does
          if (this.stack.length > this.base()) this.stack.pop();
          else this.popMark();
          break;
        case 0x31: this.popMark(); break; // POP_MARK
        case 0x32: this.push(this.top()); break; // DUP

        // --- constants and numbers
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x49: { // INT (text; '01'/'00' are True/False)
          const line = this.line();
          this.push(line === '01' ? true : line === '00' ? false : this.parseIntText(line));
          break;
        }
        case 0x4c: this.push(this.parseIntText(this.line().replace(/L$/, ''))); break; // LONG (text)
        case 0x4a: this.push(this.view.getInt32(this.take(4), true)); break; // BININT
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.push(this.view.getUint16(this.take(2), true)); break; // BININT2
        case 0x8a: this.push(this.longBytes(this.u8())); break; // LONG1
        case 0x8b: this.push(this.longBytes(this.signedLength32())); break; // LONG4
        case 0x46: this.push(this.parseFloatText(this.line())); break; // FLOAT (text)
        case 0x47: this.push(this.view.getFloat64(this.take(8), false)); break; // BINFLOAT (big-endian)

        // --- strings and bytes
        case 0x53: this.push(utf8.decode(this.escapeDecode(this.line()))); break; // STRING (quoted repr)
        case 0x54: this.push(utf8.decode(this.bytes(this.signedLength32()))); break; // BINSTRING
        case 0x55: this.push(utf8.decode(this.bytes(this.u8()))); break; // SHORT_BINSTRING
        case 0x56: this.push(rawUnicodeEscapeDecode(this.line())); break; // UNICODE
        case 0x58: this.push(utf8.decode(this.bytes(this.length32()))); break; // BINUNICODE
        case 0x8c: this.push(utf8.decode(this.bytes(this.u8()))); break; // SHORT_BINUNICODE
        case 0x8d: this.push(utf8.decode(this.bytes(this.length64()))); break; // BINUNICODE8
        case 0x42: this.push(this.bytes(this.length32()).slice()); break; // BINBYTES
        case 0x43: this.push(this.bytes(this.u8()).slice()); break; // SHORT_BINBYTES
        case 0x8e: this.push(this.bytes(this.length64()).slice()); break; // BINBYTES8
        case 0x96: this.push(this.bytes(this.length64()).slice()); break; // BYTEARRAY8

        // --- lists, tuples, dicts, sets
        case 0x5d: this.push(this.container([])); break; // EMPTY_LIST
        case 0x6c: this.push(this.listOf(this.popMark())); break; // LIST
        case 0x61: { // APPEND
          const item = this.pop();
          this.appendTo(this.top(), [item], 'APPEND');
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark();
          this.appendTo(this.top(), items, 'APPENDS');
          break;
        }
        case 0x29: this.push(this.tupleOf([])); break; // EMPTY_TUPLE
        case 0x74: this.push(this.tupleOf(this.popMark())); break; // TUPLE
        case 0x85: this.push(this.tupleOf(this.popN(1))); break; // TUPLE1
        case 0x86: this.push(this.tupleOf(this.popN(2))); break; // TUPLE2
        case 0x87: this.push(this.tupleOf(this.popN(3))); break; // TUPLE3
        case 0x7d: this.push(this.container(new Map())); break; // EMPTY_DICT
        case 0x64: { // DICT
          const dict: PickleDict = this.container(new Map());
          this.setItems(dict, this.popMark(), 'DICT');
          this.push(dict);
          break;
        }
        case 0x73: { // SETITEM
          const [k, v] = this.popN(2);
          this.setItems(this.dictOnTop('SETITEM'), [k, v], 'SETITEM');
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popMark();
          this.setItems(this.dictOnTop('SETITEMS'), items, 'SETITEMS');
          break;
        }
        case 0x8f: this.push(this.container([])); break; // EMPTY_SET (sets are arrays)
        case 0x90: { // ADDITEMS
          const items = this.popMark();
          this.appendTo(this.top(), items, 'ADDITEMS');
          break;
        }
        case 0x91: this.push(this.listOf(this.popMark())); break; // FROZENSET

        // --- memo
        case 0x70: this.memoPut(this.parseIndex(this.line())); break; // PUT
        case 0x71: this.memoPut(this.u8()); break; // BINPUT
        case 0x72: this.memoPut(this.view.getUint32(this.take(4), true)); break; // LONG_BINPUT
        case 0x94: this.memoPut(this.memo.size); break; // MEMOIZE
        case 0x67: this.memoGet(this.parseIndex(this.line())); break; // GET
        case 0x68: this.memoGet(this.u8()); break; // BINGET
        case 0x6a: this.memoGet(this.view.getUint32(this.take(4), true)); break; // LONG_BINGET

        // --- names, calls and objects
        case 0x63: { // GLOBAL
          const module = this.line();
          this.push(this.global(module, this.line()));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const [module, name] = this.popN(2);
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('bad-pickle', 'STACK_GLOBAL needs two strings');
          this.push(this.global(module, name));
          break;
        }
        case 0x52: { // REDUCE: callable(*args)
          const [callable, args] = this.popN(2);
          if (!isPickleTuple(args as PickleValue)) this.fail('bad-pickle', 'REDUCE arguments are not a tuple');
          this.push(this.call(this.globalName(callable, 'REDUCE'), (args as PickleTuple).items));
          break;
        }
        case 0x69: { // INST module\nname\n: class(*args from the mark)
          const module = this.line();
          const cls = this.global(module, this.line());
          this.push(this.call(cls.name, this.popMark().map((x) => this.value(x))));
          break;
        }
        case 0x6f: { // OBJ: class and args from the mark
          const [cls, ...args] = this.popMark();
          this.push(this.call(this.globalName(cls, 'OBJ'), args.map((x) => this.value(x))));
          break;
        }
        case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
          const [cls, args] = this.popN(2);
          if (!isPickleTuple(args as PickleValue)) this.fail('bad-pickle', 'NEWOBJ arguments are not a tuple');
          this.push(this.newObject(this.globalName(cls, 'NEWOBJ'), (args as PickleTuple).items));
          break;
        }
        case 0x92: { // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
          const [cls, args, kwargs] = this.popN(3);
          if (!isPickleTuple(args as PickleValue) || !(kwargs instanceof Map)) this.fail('bad-pickle', 'NEWOBJ_EX needs an argument tuple and a keyword dict');
          if ((kwargs as PickleDict).size > 0) this.fail('bad-pickle', 'NEWOBJ_EX with keyword arguments is not supported');
          this.push(this.newObject(this.globalName(cls, 'NEWOBJ_EX'), (args as PickleTuple).items));
          break;
        }
        case 0x62: { // BUILD
          const state = this.value(this.pop());
          this.build(this.top(), state);
          break;
        }
        case 0x51: this.push(this.persistentLoad(this.value(this.pop()))); break; // BINPERSID
        case 0x50: this.push(this.persistentLoad(this.line())); break; // PERSID

        case 0x82: case 0x83: case 0x84: // EXT1/2/4
          this.fail('bad-pickle', 'the pickle uses the copyreg extension registry (EXT opcodes), which is not supported');
          break;
        case 0x97: case 0x98: // NEXT_BUFFER, READONLY_BUFFER
          this.fail('bad-pickle', 'the pickle uses out-of-band buffers, which are not supported');
          break;
        default:
          this.fail('bad-pickle', `unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
    throw new CheckpointError('truncated', `${this.label}: the pickle ends at byte ${d.length} without a STOP opcode (truncated?)`);
  }

  // --- errors

  private fail(code: 'bad-pickle' | 'limit' | 'truncated' | 'forbidden-call' | 'bad-tensor', message: string): never {
    throw new CheckpointError(code, `${this.label}: ${message} (pickle opcode at byte ${this.opPos})`);
  }

  // --- input

  /** Consumes `n` bytes and returns where they start. */
  private take(n: number): number {
    if (n > this.data.length - this.pos) {
      this.fail('truncated', `an opcode needs ${n} bytes but only ${this.data.length - this.pos} are left`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.data[this.take(1)];
  }

  private bytes(n: number): Uint8Array {
    const at = this.take(n);
    return this.data.subarray(at, at + n);
  }

  /** A 4-byte unsigned length. */
  private length32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  /** A 4-byte signed length (BINSTRING, LONG4); negative is refused, as Python does. */
  private signedLength32(): number {
    const n = this.view.getInt32(this.take(4), true);
    if (n < 0) this.fail('bad-pickle', `negative length ${n}`);
    return n;
  }

  /** An 8-byte length, checked against the remaining input before any allocation. */
  private length64(): number {
    const at = this.take(8);
    const hi = this.view.getUint32(at + 4, true);
    const n = hi * 0x100000000 + this.view.getUint32(at, true);
    if (hi >= 0x200000 || n > this.data.length - this.pos) {
      this.fail('truncated', `a length of ${hi >= 0x200000 ? 'over 2^53' : n} bytes runs past the end of the pickle`);
    }
    return n;
  }

  /** A text argument up to the next newline (newline consumed, not returned). */
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated', 'a text argument has no terminating newline');
    const s = latin1.decode(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private parseIntText(text: string): number | bigint {
    const t = text.trim();
    if (!/^[+-]?\d+$/.test(t)) this.fail('bad-pickle', `bad integer text ${JSON.stringify(t.slice(0, 40))}`);
    if (t.length > MAX_INT_DIGITS) this.fail('limit', `an integer of ${t.length} digits`);
    return normalizeInt(BigInt(t));
  }

  private parseFloatText(text: string): number {
    const t = text.trim().toLowerCase();
    if (/^[+-]?inf(inity)?$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/.test(t)) return NaN;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) this.fail('bad-pickle', `bad float text ${JSON.stringify(t.slice(0, 40))}`);
    return Number(t);
  }

  private parseIndex(text: string): number {
    const t = text.trim();
    if (!/^\d{1,15}$/.test(t)) this.fail('bad-pickle', `bad memo index ${JSON.stringify(t.slice(0, 40))}`);
    return Number(t);
  }

  /** LONG1/LONG4 payload: little-endian two's complement. */
  private longBytes(n: number): number | bigint {
    if (n > MAX_INT_BYTES) this.fail('limit', `an integer of ${n} bytes`);
    const b = this.bytes(n);
    if (n === 0) return 0;
    let x = 0n;
    for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
    if (b[n - 1] & 0x80) x -= 1n << BigInt(8 * n);
    return normalizeInt(x);
  }

  /** The argument of STRING: a quoted Python 2 str literal, escapes decoded to bytes. */
  private escapeDecode(line: string): Uint8Array {
    const q = line[0];
    if (line.length < 2 || (q !== '"' && q !== "'") || line[line.length - 1] !== q) {
      this.fail('bad-pickle', 'the STRING argument is not quoted');
    }
    const s = line.slice(1, -1);
    const out: number[] = [];
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34 };
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c !== '\\' || i + 1 >= s.length) { out.push(c.charCodeAt(0)); continue; }
      const e = s[++i];
      if (Object.hasOwn(simple, e)) out.push(simple[e]);
      else if (e === '\n') { /* line continuation */ }
      else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) { out.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
      else if (/[0-7]/.test(e)) {
        let j = i;
        while (j < i + 3 && j < s.length && /[0-7]/.test(s[j])) j++;
        out.push(parseInt(s.slice(i, j), 8) & 0xff);
        i = j - 1;
      } else out.push(92, e.charCodeAt(0));
    }
    return Uint8Array.from(out);
  }

  // --- stack

  private base(): number {
    return this.marks.length ? this.marks[this.marks.length - 1] : 0;
  }

  private push(v: StackItem): void {
    if (this.stack.length >= this.maxStack) this.fail('limit', `more than ${this.maxStack} values on the stack`);
    if (++this.items > this.maxItems) this.fail('limit', `more than ${this.maxItems} values`);
    this.stack.push(v);
  }

  private pop(): StackItem {
    if (this.stack.length <= this.base()) this.fail('bad-pickle', 'stack underflow');
    return this.stack.pop() as StackItem;
  }

  private popN(n: number): StackItem[] {
    if (this.stack.length - this.base() < n) this.fail('bad-pickle', 'stack underflow');
    return this.stack.splice(this.stack.length - n, n);
  }

  private top(): StackItem {
    if (this.stack.length <= this.base()) this.fail('bad-pickle', 'stack underflow');
    return this.stack[this.stack.length - 1];
  }

  /** Everything above the last MARK, removing the mark. */
  private popMark(): StackItem[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail('bad-pickle', 'no MARK to pop');
    return this.stack.splice(mark);
  }

  private memoPut(index: number): void {
    if (!this.memo.has(index) && this.memo.size >= this.maxMemo) this.fail('limit', `more than ${this.maxMemo} memo entries`);
    this.memo.set(index, this.top());
  }

  private memoGet(index: number): void {
    const v = this.memo.get(index);
    if (v === undefined) this.fail('bad-pickle', `memo entry ${index} is not defined`);
    this.push(v);
  }

  // --- values and containers

  /** A stack item as a data value: a class/function name becomes its dotted name. */
  private value(v: StackItem): PickleValue {
    return v instanceof GlobalRef ? v.name : v;
  }

  private container<T extends object>(c: T): T {
    this.depth.set(c, 0);
    return c;
  }

  /** Records that `child` is now inside `parent`: depth bookkeeping and the no-modification rule. */
  private adopt(parent: object, child: PickleValue): void {
    if (typeof child !== 'object' || child === null) return;
    if (child === parent) this.fail('bad-pickle', 'a container put inside itself (self-containing structures are not supported)');
    const d = (this.depth.get(child) ?? 0) + 1;
    if (d > this.maxDepth) this.fail('limit', `values nested more than ${this.maxDepth} deep`);
    if (d > (this.depth.get(parent) ?? 0)) this.depth.set(parent, d);
    if (this.depth.has(child)) this.placed.add(child);
  }

  private checkModifiable(c: object, op: string): void {
    if (this.placed.has(c)) {
      this.fail('bad-pickle', `${op} modifies a container that is already inside another one (self-containing structures are not supported)`);
    }
  }

  private listOf(items: StackItem[]): PickleValue[] {
    const list: PickleValue[] = this.container([]);
    for (const x of items) {
      const v = this.value(x);
      this.adopt(list, v);
      list.push(v);
    }
    return list;
  }

  private tupleOf(items: StackItem[]): PickleTuple {
    const t: PickleTuple = this.container({ kind: 'tuple', items: [] });
    for (const x of items) {
      const v = this.value(x);
      this.adopt(t, v);
      t.items.push(v);
    }
    return t;
  }

  private appendTo(target: StackItem, items: StackItem[], op: string): void {
    if (!Array.isArray(target)) this.fail('bad-pickle', `${op} on something that is not a list or set`);
    this.checkModifiable(target, op);
    for (const x of items) {
      const v = this.value(x);
      this.adopt(target, v);
      target.push(v);
    }
  }

  private dictOnTop(op: string): PickleDict {
    const d = this.top();
    if (!(d instanceof Map)) this.fail('bad-pickle', `${op} on something that is not a dict`);
    return d;
  }

  private setItems(dict: PickleDict, kv: StackItem[], op: string): void {
    if (kv.length % 2) this.fail('bad-pickle', `${op} with an odd number of keys and values`);
    this.checkModifiable(dict, op);
    for (let i = 0; i < kv.length; i += 2) {
      const value = this.value(kv[i + 1]);
      this.adopt(dict, value);
      dict.set(this.dictKey(this.value(kv[i])), value);
    }
  }

  private dictKey(k: PickleValue): string | number | bigint | boolean | null {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
    if (isPickleTuple(k)) {
      const parts = k.items.map((x) => (x === null || typeof x !== 'object' ? pyRepr(x) : undefined));
      if (parts.every((p) => p !== undefined)) return `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`;
    }
    this.fail('bad-pickle', 'a dict key that is not None, bool, int, float, str or a tuple of those');
  }

  // --- names and calls

  private global(module: string, name: string): GlobalRef {
    const m = MODULE_ALIASES[module] ?? module;
    if (!m || !name || /[\s]/.test(m + name)) this.fail('bad-pickle', `bad global name ${JSON.stringify(`${module} ${name}`).slice(0, 80)}`);
    return new GlobalRef(`${m}.${name}`);
  }

  /** The name a REDUCE/NEWOBJ/OBJ applies to; it must come from GLOBAL/STACK_GLOBAL. */
  private globalName(v: StackItem, op: string): string {
    if (!(v instanceof GlobalRef)) this.fail('bad-pickle', `${op} on a value that is not a class or function name`);
    return v.name;
  }

  /** What calling `name(*args)` would give, for the names this reader knows; others are refused. */
  private call(name: string, args: PickleValue[]): PickleValue {
    if (TENSOR_REBUILDS.has(name)) return this.rebuildTensor(name, args);
    if (INERT_RECORDS.has(name)) return this.record(name, args);
    switch (name) {
      case 'collections.OrderedDict':
        if (args.length !== 0) this.fail('bad-pickle', 'collections.OrderedDict with arguments is not supported');
        return this.container(new Map());
      case 'builtins.set':
      case 'builtins.frozenset': {
        if (args.length === 0) return this.container([]);
        const items = args[0];
        if (args.length !== 1 || !Array.isArray(items)) this.fail('bad-pickle', `${name} needs one list`);
        return this.listOf(items as PickleValue[]);
      }
      case '_codecs.encode':
      case 'builtins.bytes':
      case 'builtins.bytearray':
        return this.toBytes(name, args);
      case 'torch.Size': {
        const dims = args[0];
        if (args.length !== 1 || !isPickleTuple(dims)) this.fail('bad-pickle', 'torch.Size needs one tuple');
        return this.tupleOf((dims as PickleTuple).items);
      }
      case 'torch.device': {
        const [type, index] = args;
        if (typeof type !== 'string' || (index !== undefined && index !== null && typeof index !== 'number') || args.length > 2) {
          this.fail('bad-pickle', 'torch.device needs a type string and an optional index');
        }
        return typeof index === 'number' ? `${type}:${index}` : (type as string);
      }
      case 'copyreg._reconstructor': {
        const [cls, base, state] = args;
        if (typeof cls !== 'string' || !INERT_RECORDS.has(cls) || base !== 'builtins.object' || state !== null) {
          this.fail('forbidden-call', `the pickle asks to create ${typeof cls === 'string' ? cls : 'an object'} through copyreg._reconstructor; only data records like argparse.Namespace are allowed`);
        }
        return this.record(cls as string, []);
      }
    }
    if (name.startsWith('torch._utils._rebuild_')) {
      this.fail('bad-tensor', `the pickle rebuilds a tensor with ${name} (quantized, sparse or device-specific tensors are not supported)`);
    }
    this.fail('forbidden-call', `the pickle asks to call ${name}; only tensor-rebuild functions are allowed`);
  }

  /** NEWOBJ: data classes as for `call`, any other class as an inert record. */
  private newObject(cls: string, args: PickleValue[]): PickleValue {
    if (TENSOR_REBUILDS.has(cls) || cls === 'collections.OrderedDict' || cls === 'builtins.set' || cls === 'builtins.frozenset' || cls === 'torch.Size') {
      return this.call(cls, args);
    }
    return this.record(cls, args);
  }

  private record(className: string, args: PickleValue[]): PickleObject {
    const obj: PickleObject = this.container({ kind: 'object', className, args: [], state: null });
    for (const a of args) {
      this.adopt(obj, a);
      obj.args.push(a);
    }
    return obj;
  }

  private build(target: StackItem, state: PickleValue): void {
    if (target instanceof Map) return; // attributes of a dict subclass (OrderedDict._metadata): dropped
    if (!isPickleObject(target as PickleValue)) this.fail('bad-pickle', 'BUILD on a value that is not an object');
    const obj = target as PickleObject;
    this.checkModifiable(obj, 'BUILD');
    this.adopt(obj, state);
    obj.state = state;
  }

  private toBytes(name: string, args: PickleValue[]): Uint8Array {
    const [src, encoding] = args;
    if (args.length === 0) return new Uint8Array(0);
    if (src instanceof Uint8Array && args.length === 1) return src.slice();
    if (typeof src === 'string' && (args.length === 1 ? name === '_codecs.encode' : typeof encoding === 'string')) {
      const enc = typeof encoding === 'string' ? encoding.toLowerCase().replace(/[-_]/g, '') : 'utf8';
      if (enc === 'utf8') return new TextEncoder().encode(src);
      if (enc === 'latin1' || enc === 'iso88591') {
        const out = new Uint8Array(src.length);
        for (let i = 0; i < src.length; i++) {
          const c = src.charCodeAt(i);
          if (c > 0xff) this.fail('bad-pickle', `${name}: a character outside latin-1`);
          out[i] = c;
        }
        return out;
      }
    }
    this.fail('bad-pickle', `${name} with arguments other than bytes or (str, 'latin1'/'utf-8')`);
  }

  private rebuildTensor(name: string, args: PickleValue[]): TensorRef {
    const bad = (what: string): never => this.fail('bad-tensor', `${name}: ${what}`);
    switch (name) {
      case 'torch._utils._rebuild_tensor':
      case 'torch._utils._rebuild_tensor_v2': {
        const v2 = name.endsWith('_v2');
        if (v2 ? args.length !== 6 && args.length !== 7 : args.length !== 4) bad(`unexpected ${args.length} arguments`);
        const [storage, offset, size, stride, requiresGrad] = args;
        if (!isStorageRef(storage)) return bad('the first argument is not a storage');
        if (typeof offset !== 'number') return bad('the storage offset is not an integer');
        if (v2 && typeof requiresGrad !== 'boolean') bad('requires_grad is not a bool');
        const ref: TensorRef = {
          kind: 'tensor',
          storage,
          storageOffset: offset,
          shape: intList(size) ?? bad('the size is not a tuple of integers'),
          stride: intList(stride) ?? bad('the stride is not a tuple of integers'),
          requiresGrad: v2 && requiresGrad === true,
        };
        tensorViewExtent(ref, this.label);
        return ref;
      }
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state': {
        const [data, requiresGrad] = args;
        if (args.length !== (name.endsWith('_state') ? 4 : 3)) bad(`unexpected ${args.length} arguments`);
        if (!isTensorRef(data)) return bad('the data is not a tensor');
        if (typeof requiresGrad !== 'boolean') bad('requires_grad is not a bool');
        return { ...data, requiresGrad: requiresGrad as boolean };
      }
      default: { // torch._tensor._rebuild_from_type_v2(func, new_type, args, state)
        const [func, , inner] = args;
        if (args.length !== 4 || typeof func !== 'string' || !isPickleTuple(inner)) bad('expects (function, type, argument tuple, state)');
        if (!TENSOR_REBUILDS.has(func as string) || func === name) {
          this.fail('forbidden-call', `the pickle asks to call ${String(func)}; only tensor-rebuild functions are allowed`);
        }
        return this.rebuildTensor(func as string, (inner as PickleTuple).items);
      }
    }
  }

  /** A persistent id: torch's ('storage', storage type, key, location, numel). */
  private persistentLoad(pid: PickleValue): StorageRef {
    if (!isPickleTuple(pid) || pid.items[0] !== 'storage' || pid.items.length !== 5) {
      this.fail('bad-pickle', "a persistent id that is not a torch ('storage', type, key, location, numel) tuple");
    }
    const [, typeName, key, location, numel] = (pid as PickleTuple).items;
    if (typeof typeName !== 'string') return this.fail('bad-pickle', 'a storage persistent id without a storage type');
    const dtype = storageDType(typeName);
    if (!dtype) this.fail('bad-tensor', `storage type ${typeName} is not supported`);
    if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) this.fail('bad-pickle', 'a storage key that is not a plain name');
    if (typeof location !== 'string') this.fail('bad-pickle', 'a storage location that is not a string');
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) this.fail('bad-tensor', `storage data/${key} has a bad element count`);
    return { kind: 'storage', key, dtype: dtype as DType, numel, location };
  }
}

function isStorageRef(v: PickleValue | undefined): v is StorageRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Uint8Array) && v.kind === 'storage';
}

/** A tuple (or list) of safe integers as numbers, else undefined. */
function intList(v: PickleValue | undefined): number[] | undefined {
  const items = isPickleTuple(v) ? v.items : Array.isArray(v) ? v : undefined;
  if (!items || !items.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) return undefined;
  return items as number[];
}

function normalizeInt(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

/** Python-like repr of a scalar, for tuple dict keys. */
function pyRepr(x: null | boolean | number | bigint | string): string {
  if (x === null) return 'None';
  if (typeof x === 'boolean') return x ? 'True' : 'False';
  if (typeof x === 'string') return `'${x.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return String(x);
}

/** Python's raw-unicode-escape: latin-1 text with \uXXXX and \UXXXXXXXX escapes. */
function rawUnicodeEscapeDecode(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (m, u4: string | undefined, u8: string | undefined) => {
    const cp = parseInt(u4 ?? u8 ?? '', 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}
