/** Node-only: a file on disk as a `ByteSource`, read with positioned reads (never loaded whole). */
import { open, type FileHandle } from 'node:fs/promises';
import { ByteRangeError, type ByteSource } from './byteSource.ts';

export interface NodeFileSource extends ByteSource {
  close(): Promise<void>;
}

export async function openFileSource(path: string): Promise<NodeFileSource> {
  const handle: FileHandle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    size,
    name: path,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
        throw new ByteRangeError(path, offset, length, size);
      }
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new ByteRangeError(path, offset + done, length - done, size);
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}
