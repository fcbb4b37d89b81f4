/**
 * Test helper: writes zip archives the way torch.save does (stored entries, data aligned to 64
 * bytes through the local extra field, sizes in the central directory only, ZIP64 end records),
 * with switches for the variants the reader must handle or refuse.
 */
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../../src/checkpoint/zip.ts';
import { torchPickle, type PV } from './pickleWriter.ts';

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** 0 = stored (default), 8 = deflate. */
  method?: 0 | 8;
  /** General purpose flags to set in addition (e.g. 1 = encrypted). */
  flags?: number;
  /** Overrides the method number written (to test unknown methods). */
  methodField?: number;
  /** Overrides the CRC written. */
  crc?: number;
  /** Overrides the uncompressed size written in the central directory. */
  declaredSize?: number;
}

export interface ZipOptions {
  /** Write ZIP64 end records and per-entry zip64 extra fields (torch always writes the end records). */
  zip64?: boolean;
  /** Disk count in the ZIP64 locator (multi-disk test). */
  totalDisks?: number;
}

const ALIGN = 64;

export function makeZip(inputs: ZipInput[], opts: ZipOptions = { zip64: true }): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const enc = new TextEncoder();
  for (const e of inputs) {
    const name = enc.encode(e.name);
    const payload = e.method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    // Local header: torch pads the extra field (id 'FB') so the data starts on a 64-byte boundary.
    const pad = (ALIGN - ((offset + 30 + name.length + 4) % ALIGN)) % ALIGN;
    const localExtra = new Uint8Array(4 + pad);
    new DataView(localExtra.buffer).setUint16(0, 0x4246, true);
    new DataView(localExtra.buffer).setUint16(2, pad, true);
    const local = new Uint8Array(30);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 45, true);
    lv.setUint16(6, 0x0808 | (e.flags ?? 0), true); // data descriptor + UTF-8, as torch writes
    lv.setUint16(8, e.methodField ?? e.method ?? 0, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, localExtra.length, true);
    const localOffset = offset;
    parts.push(local, name, localExtra, payload);
    offset += local.length + name.length + localExtra.length + payload.length;

    const cdExtra = opts.zip64 ? new Uint8Array(28) : new Uint8Array(0);
    if (opts.zip64) {
      const xv = new DataView(cdExtra.buffer);
      xv.setUint16(0, 0x0001, true);
      xv.setUint16(2, 24, true);
      xv.setBigUint64(4, BigInt(e.declaredSize ?? e.data.length), true);
      xv.setBigUint64(12, BigInt(payload.length), true);
      xv.setBigUint64(20, BigInt(localOffset), true);
    }
    const cd = new Uint8Array(46);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 0x031e, true);
    cv.setUint16(6, 45, true);
    cv.setUint16(8, 0x0808 | (e.flags ?? 0), true);
    cv.setUint16(10, e.methodField ?? e.method ?? 0, true);
    cv.setUint32(16, e.crc ?? crc32(e.data), true);
    cv.setUint32(20, opts.zip64 ? 0xffffffff : payload.length, true);
    cv.setUint32(24, opts.zip64 ? 0xffffffff : e.declaredSize ?? e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, cdExtra.length, true);
    cv.setUint32(42, opts.zip64 ? 0xffffffff : localOffset, true);
    central.push(cd, name, cdExtra);
  }
  const cdOffset = offset;
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  parts.push(...central);
  offset += cdSize;

  if (opts.zip64) {
    const r = new Uint8Array(56);
    const rv = new DataView(r.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 0x031e, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(inputs.length), true);
    rv.setBigUint64(32, BigInt(inputs.length), true);
    rv.setBigUint64(40, BigInt(cdSize), true);
    rv.setBigUint64(48, BigInt(cdOffset), true);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(offset), true);
    lv.setUint32(16, opts.totalDisks ?? 1, true);
    parts.push(r, loc);
  }
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, opts.zip64 ? 0xffff : inputs.length, true);
  ev.setUint16(10, opts.zip64 ? 0xffff : inputs.length, true);
  ev.setUint32(12, opts.zip64 ? 0xffffffff : cdSize, true);
  ev.setUint32(16, opts.zip64 ? 0xffffffff : cdOffset, true);
  parts.push(eocd);
  return concat(parts);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A torch.save-style zip: `<top>/data.pkl`, the storage records, `<top>/version`. */
export function torchZip(root: PV | Uint8Array, storages: Record<string, Uint8Array>, opts: { top?: string; byteorder?: string } = {}): Uint8Array {
  const top = opts.top ?? 'archive';
  const pkl = root instanceof Uint8Array ? root : torchPickle(root);
  const entries: ZipInput[] = [{ name: `${top}/data.pkl`, data: pkl }];
  if (opts.byteorder) entries.push({ name: `${top}/byteorder`, data: new TextEncoder().encode(opts.byteorder) });
  for (const [key, data] of Object.entries(storages)) entries.push({ name: `${top}/data/${key}`, data });
  entries.push({ name: `${top}/version`, data: new TextEncoder().encode('3\n') });
  return makeZip(entries);
}

/** Little-endian bytes of typed-array values. */
export function le(values: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array | Int16Array | Int8Array | Uint8Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}
