import { describe, expect, test } from 'vitest';
import { addEntry, cacheId, describeEntry, EMPTY_INDEX, parseIndex, removeEntry, type CachedModelEntry } from '../../src/app/logic/modelCacheIndex.ts';

const summary = { embedDims: [128, 256, 512, 640] as [number, number, number, number], numClasses: 1000, timeSteps: 4, kd: true, labels: 'imagenet-1k' };

function entry(id: string, addedAt: number, name = `${id}.pth`): CachedModelEntry {
  return { id, name, bytes: 220_000_000, addedAt, summary };
}

describe('cache index', () => {
  test('ids are stable, file-name safe, and differ when the file or model differs', () => {
    const a = cacheId('55M_kd_T4.pth', 643_000_000, summary);
    expect(a).toBe(cacheId('55M_kd_T4.pth', 643_000_000, summary));
    expect(a).toMatch(/^55M_kd_T4-[0-9a-f]{8}$/);
    expect(cacheId('55M_kd_T4.pth', 643_000_001, summary)).not.toBe(a);
    expect(cacheId('55M_kd_T4.pth', 643_000_000, { ...summary, timeSteps: 1 })).not.toBe(a);
    expect(cacheId('../../weird name?.pth', 1, summary)).toMatch(/^weird-name-[0-9a-f]{8}$/);
    expect(cacheId('.pth', 1, summary)).toMatch(/^model-[0-9a-f]{8}$/);
  });

  test('adding keeps newest first and replaces an entry with the same id', () => {
    let index = addEntry(EMPTY_INDEX, entry('a', 1));
    index = addEntry(index, entry('b', 3));
    index = addEntry(index, entry('c', 2));
    expect(index.entries.map((e) => e.id)).toEqual(['b', 'c', 'a']);
    index = addEntry(index, entry('a', 4, 'again.pth'));
    expect(index.entries.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(index.entries[0].name).toBe('again.pth');
    expect(removeEntry(index, 'b').entries.map((e) => e.id)).toEqual(['a', 'c']);
    expect(removeEntry(index, 'nope').entries).toHaveLength(3);
  });

  test('a stored index round-trips; a broken one reads as empty; bad entries are dropped', () => {
    const index = addEntry(addEntry(EMPTY_INDEX, entry('a', 1)), entry('b', 2));
    expect(parseIndex(JSON.stringify(index))).toEqual(index);
    expect(parseIndex(null)).toEqual(EMPTY_INDEX);
    expect(parseIndex('{not json')).toEqual(EMPTY_INDEX);
    expect(parseIndex('{"entries": 3}')).toEqual(EMPTY_INDEX);
    const mixed = { version: 1, entries: [entry('ok', 1), { id: '../escape', name: 'x', bytes: 1, addedAt: 1, summary }, { id: 'nosummary', name: 'x', bytes: 1, addedAt: 1 }, null] };
    expect(parseIndex(JSON.stringify(mixed)).entries.map((e) => e.id)).toEqual(['ok']);
  });

  test('describeEntry', () => {
    expect(describeEntry(entry('a', 1))).toBe('dims 128·256·512·640 · 1000 classes · T=4 · kd · 220.0 MB');
  });
});
