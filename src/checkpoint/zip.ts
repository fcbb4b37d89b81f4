/**
 * A read-only zip reader over a `ByteSource`: just enough of the format for torch.save files.
 *
 * Why not a package:
 * - jszip (`loadAsync`) and fflate (`unzipSync`/`unzip`) take the whole archive as one buffer
 *   (jszip turns a Blob into an ArrayBuffer first), and fflate's streaming `Unzip` has to be fed
 *   the archive from its first byte. We want random access over a Blob or a file instead: read
 *   the central directory at the end, then only the records we need, so the optimizer state of
 *   a 600 MB training checkpoint is never read at all. jszip also handles ZIP64 only while every
 *   64-bit field fits in 32 bits.
 * - fflate is used for one thing: `inflateSync` for a deflated entry (torch.save stores entries
 *   uncompressed, but a re-zipped checkpoint may not).
 * - (pickleparser, for data.pkl, is discussed in `pickle.ts`: not used.)
 *
 * Format facts used here (PKWARE APPNOTE 6.3):
 * - End Of Central Directory (EOCD, signature PK\5\6, 22 bytes + a comment of up to 65535 bytes)
 *   at the very end; it gives the central directory's offset, size and entry count.
 * - ZIP64: when a field is saturated (0xFFFF / 0xFFFFFFFF) the real values are in the ZIP64 EOCD
 *   record (PK\6\6), found through the ZIP64 EOCD locator (PK\6\7, 20 bytes right before the
 *   EOCD), and per entry in the zip64 extra field (id 0x0001). torch always writes the ZIP64
 *   records.
 * - Each central directory header (PK\1\2) points at a local header (PK\3\4) whose own name and
 *   extra lengths decide where the data starts; torch pads that local extra field so storage
 *   data starts on a 64-byte boundary, and leaves sizes/CRC in the local header at 0 (flag bit 3,
 *   data descriptor), so sizes and CRC are always taken from the central directory.
 */
import { inflateSync } from 'fflate';
import { ByteRangeError, type ByteSource } from '../io/byteSource.ts';
import { CheckpointError } from './errors.ts';

export interface ZipEntry {
  /** Path inside the archive, decoded as UTF-8. */
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  /** 0 = stored, 8 = deflate (the only two accepted). */
  method: number;
  localHeaderOffset: number;
  /** CRC-32 of the uncompressed data, from the central directory. */
  crc32: number;
}

export interface ZipLimits {
  /** Most entries accepted (default 1,000,000). */
  maxEntries?: number;
  /** Largest central directory read, in bytes (default 256 MiB). */
  maxCentralDirectoryBytes?: number;
  /** Largest entry `readEntry` returns, in bytes (default 2 GiB − 1, a JS typed array's practical bound). */
  maxEntryBytes?: number;
}

export interface ZipArchive {
  readonly source: ByteSource;
  /** Entries in central directory order. */
  readonly entries: readonly ZipEntry[];
  /** Entry by exact name. */
  get(name: string): ZipEntry | undefined;
  /** The entry's whole (uncompressed) content, CRC-checked. */
  readEntry(entry: ZipEntry): Promise<Uint8Array>;
  /**
   * `length` bytes starting at `offset` of a stored (method 0) entry, read directly from the
   * source without reading the rest of the entry (not CRC-checked). Deflated entries are read
   * whole and sliced.
   */
  readEntryRange(entry: ZipEntry, offset: number, length: number): Promise<Uint8Array>;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_EOCD64 = 0x06064b50;
const EOCD_SIZE = 22;
const EOCD64_LOCATOR_SIZE = 20;
const EOCD64_MIN_SIZE = 56;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const MAX_COMMENT = 0xffff;

const DEFAULT_MAX_ENTRIES = 1_000_000;
const DEFAULT_MAX_CD_BYTES = 256 * 1024 * 1024;
const DEFAULT_MAX_ENTRY_BYTES = 2 ** 31 - 1;

/** `true` when the bytes start like a zip archive (a local file header). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/** Reads `source`'s central directory. Refuses what it cannot read with a `CheckpointError`. */
export async function openZip(source: ByteSource, limits: ZipLimits = {}): Promise<ZipArchive> {
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxCdBytes = limits.maxCentralDirectoryBytes ?? DEFAULT_MAX_CD_BYTES;
  const maxEntryBytes = limits.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const name = source.name;

  const dir = await findCentralDirectory(source);
  if (dir.entryCount > maxEntries) {
    throw new CheckpointError('limit', `${name}: the zip declares ${dir.entryCount} entries; at most ${maxEntries} are accepted`);
  }
  if (dir.size > maxCdBytes) {
    throw new CheckpointError('limit', `${name}: the zip central directory is ${dir.size} bytes; at most ${maxCdBytes} are accepted`);
  }
  const cd = await readAt(source, dir.offset, dir.size, 'the zip central directory');
  const entries = parseCentralDirectory(cd, dir.entryCount, name);
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) {
    if (byName.has(e.name)) throw new CheckpointError('bad-zip', `${name}: the zip has two entries named ${e.name}`);
    byName.set(e.name, e);
  }

  // Data start of each entry, found from its local header on first use (a few bytes per entry).
  const dataStarts = new Map<ZipEntry, number>();
  async function dataStart(entry: ZipEntry): Promise<number> {
    let start = dataStarts.get(entry);
    if (start === undefined) {
      const h = await readAt(source, entry.localHeaderOffset, LOCAL_HEADER_SIZE, `the local header of ${entry.name}`);
      const v = view(h);
      if (v.getUint32(0, true) !== SIG_LOCAL) {
        throw new CheckpointError('bad-zip', `${name}: no local header where the central directory puts ${entry.name} (byte ${entry.localHeaderOffset})`);
      }
      start = entry.localHeaderOffset + LOCAL_HEADER_SIZE + v.getUint16(26, true) + v.getUint16(28, true);
      if (start + entry.compressedSize > source.size) {
        throw new CheckpointError('truncated', `${name}: ${entry.name} ends at byte ${start + entry.compressedSize} but the file has ${source.size} bytes (truncated file?)`);
      }
      dataStarts.set(entry, start);
    }
    return start;
  }

  async function readEntry(entry: ZipEntry): Promise<Uint8Array> {
    if (entry.uncompressedSize > maxEntryBytes) {
      throw new CheckpointError('limit', `${name}: ${entry.name} is ${entry.uncompressedSize} bytes; at most ${maxEntryBytes} are read`);
    }
    const raw = await readAt(source, await dataStart(entry), entry.compressedSize, entry.name);
    let data: Uint8Array;
    if (entry.method === 0) {
      data = raw;
    } else {
      // One spare byte: fflate truncates output to the buffer, so a stream that inflates to more
      // than the declared size shows up as a longer result.
      let out: Uint8Array;
      try {
        out = inflateSync(raw, { out: new Uint8Array(entry.uncompressedSize + 1) });
      } catch (err) {
        throw new CheckpointError('bad-zip', `${name}: ${entry.name} does not inflate (${(err as Error).message})`);
      }
      if (out.length !== entry.uncompressedSize) {
        throw new CheckpointError('bad-zip', `${name}: ${entry.name} inflates to a size other than the declared ${entry.uncompressedSize} bytes`);
      }
      data = out;
    }
    if (crc32(data) !== entry.crc32) {
      throw new CheckpointError('bad-zip', `${name}: ${entry.name} fails its CRC-32 check (corrupt file)`);
    }
    return data;
  }

  async function readEntryRange(entry: ZipEntry, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > entry.uncompressedSize) {
      throw new CheckpointError('bad-zip', `${name}: bytes ${offset}..${offset + length} are outside ${entry.name} (${entry.uncompressedSize} bytes)`);
    }
    if (entry.method !== 0) return (await readEntry(entry)).subarray(offset, offset + length);
    return readAt(source, (await dataStart(entry)) + offset, length, entry.name);
  }

  return {
    source,
    entries,
    get: (n) => byName.get(n),
    readEntry,
    readEntryRange,
  };
}

/**
 * Position of the EOCD in `tail` (the file's last bytes), or -1. Searches backwards for the
 * signature whose comment length exactly reaches the end; a comment may itself contain the
 * signature bytes, so a candidate that does not fit is skipped.
 */
function findEocd(tail: Uint8Array): number {
  const tv = view(tail);
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) === tail.length) return i;
  }
  return -1;
}

interface CentralDirectoryLocation {
  offset: number;
  size: number;
  entryCount: number;
}

/** Finds the EOCD (and ZIP64 records) and returns where the central directory is. */
async function findCentralDirectory(source: ByteSource): Promise<CentralDirectoryLocation> {
  const name = source.name;
  // Most archives have no comment: look in the last KiB first, then in the most a comment allows.
  let tailStart = 0;
  let tail: Uint8Array = new Uint8Array(0);
  let eocd = -1;
  for (const span of [1024, EOCD_SIZE + MAX_COMMENT + EOCD64_LOCATOR_SIZE]) {
    const tailLength = Math.min(source.size, span);
    if (tailLength <= tail.length) break;
    tailStart = source.size - tailLength;
    tail = await readAt(source, tailStart, tailLength, 'the end of the zip');
    eocd = findEocd(tail);
    // Done unless a ZIP64 locator in front of the EOCD could lie before the bytes read.
    if (eocd >= 0 && (eocd >= EOCD64_LOCATOR_SIZE || tailStart === 0)) break;
  }
  const tv = view(tail);

  if (eocd < 0) {
    const head = await readAt(source, 0, Math.min(4, source.size), 'the start of the file');
    if (looksLikeZip(head)) {
      throw new CheckpointError('truncated', `${name}: the zip has no end-of-central-directory record (truncated file?)`);
    }
    throw new CheckpointError('bad-zip', `${name}: not a zip archive (no end-of-central-directory record)`);
  }

  const diskNumber = tv.getUint16(eocd + 4, true);
  const cdDisk = tv.getUint16(eocd + 6, true);
  const entriesOnDisk = tv.getUint16(eocd + 8, true);
  let entryCount = tv.getUint16(eocd + 10, true);
  let size = tv.getUint32(eocd + 12, true);
  let offset = tv.getUint32(eocd + 16, true);
  let cdEnd = tailStart + eocd; // the central directory must end before this

  const locator = eocd - EOCD64_LOCATOR_SIZE;
  const hasLocator = locator >= 0 && tv.getUint32(locator, true) === SIG_EOCD64_LOCATOR;
  if (hasLocator) {
    const eocd64Disk = tv.getUint32(locator + 4, true);
    const eocd64Offset = readUint64(tv, locator + 8, name, 'ZIP64 end-of-central-directory offset');
    const totalDisks = tv.getUint32(locator + 16, true);
    if (eocd64Disk !== 0 || totalDisks > 1) {
      throw new CheckpointError('bad-zip', `${name}: multi-disk zip archives are not supported`);
    }
    const absLocator = tailStart + locator;
    if (eocd64Offset + EOCD64_MIN_SIZE > absLocator) {
      throw new CheckpointError('bad-zip', `${name}: the ZIP64 end-of-central-directory offset ${eocd64Offset} is out of place`);
    }
    const r = view(await readAt(source, eocd64Offset, EOCD64_MIN_SIZE, 'the ZIP64 end of central directory'));
    if (r.getUint32(0, true) !== SIG_EOCD64) {
      throw new CheckpointError('bad-zip', `${name}: no ZIP64 end-of-central-directory record at byte ${eocd64Offset}`);
    }
    if (r.getUint32(16, true) !== 0 || r.getUint32(20, true) !== 0) {
      throw new CheckpointError('bad-zip', `${name}: multi-disk zip archives are not supported`);
    }
    const onDisk64 = readUint64(r, 24, name, 'ZIP64 entry count');
    entryCount = readUint64(r, 32, name, 'ZIP64 entry count');
    size = readUint64(r, 40, name, 'ZIP64 central directory size');
    offset = readUint64(r, 48, name, 'ZIP64 central directory offset');
    if (onDisk64 !== entryCount) throw new CheckpointError('bad-zip', `${name}: multi-disk zip archives are not supported`);
    cdEnd = eocd64Offset;
  } else {
    if (diskNumber !== 0 || cdDisk !== 0 || entriesOnDisk !== entryCount) {
      throw new CheckpointError('bad-zip', `${name}: multi-disk zip archives are not supported`);
    }
    if (entryCount === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
      throw new CheckpointError('bad-zip', `${name}: the zip needs ZIP64 records but has no ZIP64 locator`);
    }
  }
  if (offset + size > cdEnd) {
    throw new CheckpointError('bad-zip', `${name}: the central directory (bytes ${offset}..${offset + size}) overlaps the end records`);
  }
  return { offset, size, entryCount };
}

function parseCentralDirectory(cd: Uint8Array, entryCount: number, name: string): ZipEntry[] {
  const v = view(cd);
  const decoder = new TextDecoder('utf-8');
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < entryCount; i++) {
    if (p + CENTRAL_HEADER_SIZE > cd.length || v.getUint32(p, true) !== SIG_CENTRAL) {
      throw new CheckpointError('bad-zip', `${name}: central directory header ${i} of ${entryCount} is missing or broken`);
    }
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    let compressedSize = v.getUint32(p + 20, true);
    let uncompressedSize = v.getUint32(p + 24, true);
    const nameLength = v.getUint16(p + 28, true);
    const extraLength = v.getUint16(p + 30, true);
    const commentLength = v.getUint16(p + 32, true);
    const diskStart = v.getUint16(p + 34, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    const end = p + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    if (end > cd.length) throw new CheckpointError('bad-zip', `${name}: central directory header ${i} runs past the directory`);
    const entryName = decoder.decode(cd.subarray(p + CENTRAL_HEADER_SIZE, p + CENTRAL_HEADER_SIZE + nameLength));

    // zip64 extra field: the saturated fields, in this fixed order.
    const extraStart = p + CENTRAL_HEADER_SIZE + nameLength;
    let q = extraStart;
    let diskStart64 = diskStart;
    while (q + 4 <= extraStart + extraLength) {
      const id = v.getUint16(q, true);
      const len = v.getUint16(q + 2, true);
      const fieldEnd = q + 4 + len;
      if (fieldEnd > extraStart + extraLength) break;
      if (id === 0x0001) {
        let r = q + 4;
        const take = (what: string): number => {
          if (r + 8 > fieldEnd) throw new CheckpointError('bad-zip', `${name}: the zip64 extra field of ${entryName} lacks the ${what}`);
          const value = readUint64(v, r, name, what);
          r += 8;
          return value;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take('uncompressed size');
        if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
        if (diskStart === 0xffff) {
          if (r + 4 > fieldEnd) throw new CheckpointError('bad-zip', `${name}: the zip64 extra field of ${entryName} lacks the disk number`);
          diskStart64 = v.getUint32(r, true);
        }
      }
      q = fieldEnd;
    }

    if (flags & 0x0001 || flags & 0x0040) throw new CheckpointError('bad-zip', `${name}: ${entryName} is encrypted`);
    if (diskStart64 !== 0) throw new CheckpointError('bad-zip', `${name}: multi-disk zip archives are not supported`);
    if (method !== 0 && method !== 8) {
      throw new CheckpointError('bad-zip', `${name}: ${entryName} uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    }
    if (method === 0 && compressedSize !== uncompressedSize) {
      throw new CheckpointError('bad-zip', `${name}: stored entry ${entryName} has different compressed and uncompressed sizes`);
    }
    entries.push({ name: entryName, compressedSize, uncompressedSize, method, localHeaderOffset, crc32: crc });
    p = end;
  }
  return entries;
}

/** A little-endian 64-bit unsigned field as a number; over 2^53 is refused. */
function readUint64(v: DataView, at: number, name: string, what: string): number {
  const lo = v.getUint32(at, true);
  const hi = v.getUint32(at + 4, true);
  if (hi >= 0x200000) throw new CheckpointError('bad-zip', `${name}: the zip's ${what} is too large`);
  return hi * 0x100000000 + lo;
}

/** `source.read`, turning a range past the end into a `truncated` error. */
async function readAt(source: ByteSource, offset: number, length: number, what: string): Promise<Uint8Array> {
  if (offset < 0 || offset + length > source.size) {
    throw new CheckpointError('truncated', `${source.name}: ${what} (bytes ${offset}..${offset + length}) lies past the end of the file (${source.size} bytes; truncated?)`);
  }
  try {
    return await source.read(offset, length);
  } catch (err) {
    if (err instanceof ByteRangeError) throw new CheckpointError('truncated', err.message);
    throw err;
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip uses it. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const table = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
