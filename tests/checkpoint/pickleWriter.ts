/**
 * Test helper: a small pickle writer. `PickleWriter` emits individual opcodes (for crafting
 * hostile streams); `torchPickle` writes a value description the way torch.save's protocol 2
 * pickler would (tensors as `_rebuild_tensor_v2` calls over persistent-id storages).
 */

export class PickleWriter {
  private bytes: number[] = [];

  raw(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }

  /** Appends a byte array (no argument spreading, so any size works). */
  blob(b: Uint8Array): this {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]);
    return this;
  }

  u32(n: number): this {
    return this.raw(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }

  u64(n: bigint): this {
    for (let i = 0n; i < 8n; i++) this.raw(Number((n >> (8n * i)) & 0xffn));
    return this;
  }

  proto(v = 2): this { return this.raw(0x80, v); }
  stop(): this { return this.raw(0x2e); }
  mark(): this { return this.raw(0x28); }
  none(): this { return this.raw(0x4e); }
  bool(b: boolean): this { return this.raw(b ? 0x88 : 0x89); }
  emptyTuple(): this { return this.raw(0x29); }
  emptyList(): this { return this.raw(0x5d); }
  emptyDict(): this { return this.raw(0x7d); }
  tuple(): this { return this.raw(0x74); }
  tuple1(): this { return this.raw(0x85); }
  append(): this { return this.raw(0x61); }
  appends(): this { return this.raw(0x65); }
  setitem(): this { return this.raw(0x73); }
  setitems(): this { return this.raw(0x75); }
  reduce(): this { return this.raw(0x52); }
  build(): this { return this.raw(0x62); }
  newobj(): this { return this.raw(0x81); }
  binpersid(): this { return this.raw(0x51); }
  dup(): this { return this.raw(0x32); }
  binput(i: number): this { return this.raw(0x71, i); }
  binget(i: number): this { return this.raw(0x68, i); }

  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.raw(0x4a).u32(n >>> 0);
    // LONG1 with 8 bytes, two's complement
    this.raw(0x8a, 8);
    return this.u64(BigInt.asUintN(64, BigInt(n)));
  }

  float(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return this.raw(0x47, ...b);
  }

  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.raw(0x58).u32(b.length).raw(...b);
  }

  /** GLOBAL 'module\nname\n'. */
  global(module: string, name: string): this {
    return this.raw(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }

  /** STACK_GLOBAL with the two names as strings. */
  stackGlobal(module: string, name: string): this {
    return this.str(module).str(name).raw(0x93);
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** A storage persistent id: ('storage', torch.<type>, key, 'cpu', numel). */
export interface StorageSpec {
  key: string;
  /** A storage class ('FloatStorage') or a dtype name ('float32'), both under `torch`. */
  type: string;
  numel: number;
}

export interface TensorSpec {
  storage: StorageSpec;
  offset?: number;
  shape: number[];
  /** Defaults to C-contiguous. */
  stride?: number[];
  requiresGrad?: boolean;
  /** Wrap in `torch._utils._rebuild_parameter` as nn.Parameter does. */
  parameter?: boolean;
}

export type PV =
  | null | boolean | number | string | PV[]
  | { tuple: PV[] }
  | { dict: [PV, PV][] }
  | { ordered: [string, PV][] }
  | { tensor: TensorSpec }
  | { namespace: [string, PV][] }
  /** An instance as pickle protocol 2 writes any class: `cls.__new__(cls)`, then BUILD with its `__dict__`. */
  | { object: { className: string; state: [PV, PV][] } };

export function contiguousStride(shape: number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= shape[i];
  }
  return stride;
}

function writeValue(w: PickleWriter, v: PV): void {
  if (v === null) { w.none(); return; }
  if (typeof v === 'boolean') { w.bool(v); return; }
  if (typeof v === 'number') { if (Number.isInteger(v)) w.int(v); else w.float(v); return; }
  if (typeof v === 'string') { w.str(v); return; }
  if (Array.isArray(v)) {
    w.emptyList();
    if (v.length) { w.mark(); for (const x of v) writeValue(w, x); w.appends(); }
    return;
  }
  if ('tuple' in v) { w.mark(); for (const x of v.tuple) writeValue(w, x); w.tuple(); return; }
  if ('dict' in v) {
    w.emptyDict();
    if (v.dict.length) { w.mark(); for (const [k, x] of v.dict) { writeValue(w, k); writeValue(w, x); } w.setitems(); }
    return;
  }
  if ('ordered' in v) {
    w.global('collections', 'OrderedDict').emptyTuple().reduce();
    if (v.ordered.length) { w.mark(); for (const [k, x] of v.ordered) { w.str(k); writeValue(w, x); } w.setitems(); }
    // torch's state_dict carries a _metadata attribute, set through BUILD
    w.mark().str('_metadata').global('collections', 'OrderedDict').emptyTuple().reduce().raw(0x64).build();
    return;
  }
  if ('namespace' in v) {
    writeValue(w, { object: { className: 'argparse.Namespace', state: v.namespace } });
    return;
  }
  if ('object' in v) {
    const dot = v.object.className.lastIndexOf('.');
    w.global(v.object.className.slice(0, dot), v.object.className.slice(dot + 1)).emptyTuple().newobj();
    writeValue(w, { dict: v.object.state });
    w.build();
    return;
  }
  const t = v.tensor;
  if (t.parameter) w.global('torch._utils', '_rebuild_parameter');
  w.global('torch._utils', '_rebuild_tensor_v2').mark();
  w.mark().str('storage').global('torch', t.storage.type).str(t.storage.key).str('cpu').int(t.storage.numel).tuple().binpersid();
  w.int(t.offset ?? 0);
  writeValue(w, { tuple: t.shape });
  writeValue(w, { tuple: t.stride ?? contiguousStride(t.shape) });
  w.bool(t.requiresGrad ?? false);
  w.global('collections', 'OrderedDict').emptyTuple().reduce();
  w.tuple().reduce();
  if (t.parameter) {
    // _rebuild_parameter(tensor, requires_grad, backward_hooks): the tensor is already on the stack
    w.bool(t.requiresGrad ?? false).global('collections', 'OrderedDict').emptyTuple().reduce().raw(0x87).reduce();
  }
}

/** A protocol 2 pickle of `v` (what torch.save writes). */
export function torchPickle(v: PV): Uint8Array {
  const w = new PickleWriter().proto(2);
  writeValue(w, v);
  return w.stop().toBytes();
}
