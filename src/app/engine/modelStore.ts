/**
 * Converted checkpoints kept in the origin-private file system (OPFS): `models/<id>.safetensors`
 * plus `models/index.json` (see `logic/modelCacheIndex.ts`). Files are written by the model worker
 * as it converts; this side reads the index, hands out files and deletes them.
 */
import { addEntry, parseIndex, removeEntry, type CacheIndex, type CachedModelEntry } from '../logic/modelCacheIndex.ts';

export const MODELS_DIR = 'models';
const INDEX_FILE = 'index.json';

async function modelsDir(): Promise<FileSystemDirectoryHandle | null> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!storage?.getDirectory) return null;
  try {
    return await (await storage.getDirectory()).getDirectoryHandle(MODELS_DIR, { create: true });
  } catch {
    return null;
  }
}

export class ModelStore {
  /** False when this browser has no OPFS (nothing is cached then). */
  available = false;

  async list(): Promise<CachedModelEntry[]> {
    return (await this.readIndex()).entries;
  }

  private async readIndex(): Promise<CacheIndex> {
    const dir = await modelsDir();
    this.available = dir !== null;
    if (!dir) return parseIndex(null);
    try {
      const file = await (await dir.getFileHandle(INDEX_FILE)).getFile();
      const index = parseIndex(await file.text());
      // Drop entries whose file has gone (storage cleared by the browser, a failed write).
      const present: CachedModelEntry[] = [];
      for (const e of index.entries) {
        try {
          await dir.getFileHandle(`${e.id}.safetensors`);
          present.push(e);
        } catch {
          /* missing */
        }
      }
      return { version: 1, entries: present };
    } catch {
      return parseIndex(null);
    }
  }

  private async writeIndex(index: CacheIndex): Promise<void> {
    const dir = await modelsDir();
    if (!dir) return;
    const w = await (await dir.getFileHandle(INDEX_FILE, { create: true })).createWritable();
    await w.write(JSON.stringify(index));
    await w.close();
  }

  /** Records a file the worker saved. */
  async add(entry: CachedModelEntry): Promise<CachedModelEntry[]> {
    const index = addEntry(await this.readIndex(), entry);
    await this.writeIndex(index);
    return index.entries;
  }

  async file(id: string): Promise<File> {
    const dir = await modelsDir();
    if (!dir) throw new Error('this browser has no origin-private file system');
    return (await dir.getFileHandle(`${id}.safetensors`)).getFile();
  }

  async remove(id: string): Promise<CachedModelEntry[]> {
    const dir = await modelsDir();
    const index = removeEntry(await this.readIndex(), id);
    if (dir) {
      await dir.removeEntry(`${id}.safetensors`).catch(() => {});
      await this.writeIndex(index);
    }
    return index.entries;
  }
}
