/**
 * The list of converted checkpoints kept in the browser (OPFS), as pure data: the store saves the
 * files; this decides ids, order and what the list shows.
 */
import type { ModelConfig } from '../../model/config.ts';

export interface CachedModelEntry {
  /** Stable id (also the file name stem in the store). */
  id: string;
  /** The file the user opened. */
  name: string;
  /** Size of the cached safetensors file. */
  bytes: number;
  /** When it was added (ms since epoch). */
  addedAt: number;
  summary: Pick<ModelConfig, 'embedDims' | 'numClasses' | 'timeSteps' | 'kd' | 'labels'>;
}

export interface CacheIndex {
  version: 1;
  entries: CachedModelEntry[];
}

export const EMPTY_INDEX: CacheIndex = { version: 1, entries: [] };

/** 32-bit FNV-1a of a string, as 8 hex digits. */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** An id from what identifies a file: its name, its size and the model it holds. */
export function cacheId(name: string, sourceBytes: number, config: Pick<ModelConfig, 'embedDims' | 'numClasses' | 'timeSteps' | 'kd'>): string {
  const stem = name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'model';
  return `${stem}-${fnv1a(JSON.stringify([name, sourceBytes, config.embedDims, config.numClasses, config.timeSteps, config.kd]))}`;
}

/** The index with `entry` added (replacing one with the same id), newest first. */
export function addEntry(index: CacheIndex, entry: CachedModelEntry): CacheIndex {
  const rest = index.entries.filter((e) => e.id !== entry.id);
  return { version: 1, entries: [entry, ...rest].sort((a, b) => b.addedAt - a.addedAt) };
}

export function removeEntry(index: CacheIndex, id: string): CacheIndex {
  return { version: 1, entries: index.entries.filter((e) => e.id !== id) };
}

/** Reads a stored index, dropping anything malformed (a broken index must not break the app). */
export function parseIndex(text: string | null): CacheIndex {
  if (!text) return EMPTY_INDEX;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return EMPTY_INDEX;
  }
  const entries = (raw as { entries?: unknown })?.entries;
  if (!Array.isArray(entries)) return EMPTY_INDEX;
  const ok = entries.filter((e): e is CachedModelEntry =>
    !!e && typeof e.id === 'string' && /^[A-Za-z0-9_-]+$/.test(e.id) && typeof e.name === 'string' &&
    typeof e.bytes === 'number' && typeof e.addedAt === 'number' && !!e.summary && Array.isArray(e.summary.embedDims) &&
    typeof e.summary.numClasses === 'number' && typeof e.summary.timeSteps === 'number');
  return { version: 1, entries: ok.sort((a, b) => b.addedAt - a.addedAt) };
}

/** "dims 128·256·512·640 · 1000 classes · T=4 · kd · 220.1 MB" */
export function describeEntry(e: CachedModelEntry): string {
  const mb = (e.bytes / 1e6).toFixed(1);
  return `dims ${e.summary.embedDims.join('·')} · ${e.summary.numClasses} classes · T=${e.summary.timeSteps}${e.summary.kd ? ' · kd' : ''} · ${mb} MB`;
}
