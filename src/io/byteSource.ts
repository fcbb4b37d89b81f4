/**
 * Random-access bytes: the one input type of every checkpoint reader.
 *
 * Readers ask for the ranges they need (a zip's central directory, one storage record)
 * instead of loading a whole file, so a 600 MB training checkpoint whose optimizer state
 * we skip never sits in memory. Browser (`Blob`/`File`), Node (a file path, see
 * `nodeFileSource.ts`) and in-memory buffers all provide it.
 */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /** A label for error messages (a file name). */
  readonly name: string;
  /** Exactly `length` bytes starting at `offset`; rejects when the range leaves the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export class ByteRangeError extends Error {
  constructor(source: string, offset: number, length: number, size: number) {
    super(`${source}: asked for bytes ${offset}..${offset + length} but it has ${size} bytes (truncated file?)`);
    this.name = 'ByteRangeError';
  }
}

function checkRange(src: ByteSource, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > src.size) {
    throw new ByteRangeError(src.name, offset, length, src.size);
  }
}

/** Bytes already in memory. `read` returns views, not copies. */
export function bytesSource(data: ArrayBuffer | Uint8Array, name = 'buffer'): ByteSource {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const src: ByteSource = {
    size: bytes.byteLength,
    name,
    async read(offset, length) {
      checkRange(src, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
  return src;
}

/** A `Blob` or `File` (browser, Node 20's global Blob): reads slices on demand. */
export function blobSource(blob: Blob, name?: string): ByteSource {
  const src: ByteSource = {
    size: blob.size,
    name: name ?? ((blob as File).name || 'blob'),
    async read(offset, length) {
      checkRange(src, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
  return src;
}

/**
 * `source.read`, returning bytes that own their buffer: a view into a larger buffer (what
 * `bytesSource` returns) is copied, so a caller may keep or modify the result without pinning or
 * changing the source's memory.
 */
export async function readOwned(source: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  return ownBytes(await source.read(offset, length));
}

/** `bytes` itself when it spans its whole buffer, else a copy. */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}
