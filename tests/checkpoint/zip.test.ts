import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { bytesSource } from '../../src/io/byteSource.ts';
import { crc32, openZip } from '../../src/checkpoint/zip.ts';
import { expectCheckpointError, T1_CHECKPOINT } from './helpers.ts';
import { concat, makeZip } from './zipWriter.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('openZip', () => {
  const big = new Uint8Array(5000).map((_, i) => (i * 7) % 251);

  for (const zip64 of [false, true]) {
    it(`reads stored and deflated entries (${zip64 ? 'ZIP64' : 'plain'} records)`, async () => {
      const bytes = makeZip([
        { name: 'top/a.txt', data: text('hello') },
        { name: 'top/big', data: big, method: 8 },
        { name: 'top/empty', data: new Uint8Array(0) },
      ], { zip64 });
      const zip = await openZip(bytesSource(bytes, 't.zip'));
      expect(zip.entries.map((e) => [e.name, e.method, e.uncompressedSize])).toEqual([
        ['top/a.txt', 0, 5], ['top/big', 8, 5000], ['top/empty', 0, 0],
      ]);
      expect(new TextDecoder().decode(await zip.readEntry(zip.get('top/a.txt')!))).toBe('hello');
      expect(await zip.readEntry(zip.get('top/big')!)).toEqual(big);
      expect((await zip.readEntry(zip.get('top/empty')!)).length).toBe(0);
      expect(await zip.readEntryRange(zip.get('top/a.txt')!, 1, 3)).toEqual(text('ell'));
      expect(await zip.readEntryRange(zip.get('top/big')!, 100, 10)).toEqual(big.subarray(100, 110));
    });
  }

  it('finds the end record behind an archive comment', async () => {
    const bytes = makeZip([{ name: 'a', data: text('x') }], {});
    const withComment = concat([bytes, text('a comment')]);
    new DataView(withComment.buffer).setUint16(bytes.length - 2, 9, true);
    const zip = await openZip(bytesSource(withComment));
    expect(zip.entries[0].name).toBe('a');
  });

  it('reads the central directory of the real torch file, never reading the entries', async () => {
    const file = readFileSync(T1_CHECKPOINT);
    const src = bytesSource(file, 'checkpoint.pth');
    let read = 0;
    const counting = { ...src, read: (o: number, n: number) => { read += n; return src.read(o, n); } };
    const zip = await openZip(counting);
    expect(zip.entries.length).toBe(2105);
    expect(zip.entries[0].name).toBe('checkpoint/data.pkl');
    expect(read).toBeLessThan(300_000);
  });

  it('refuses encrypted entries, unknown methods and multi-disk archives', async () => {
    const enc = makeZip([{ name: 'a', data: text('x'), flags: 1 }]);
    expect((await expectCheckpointError(() => openZip(bytesSource(enc, 'e.zip')), 'bad-zip')).message).toMatch(/e\.zip: a is encrypted/);
    const lzma = makeZip([{ name: 'a', data: text('x'), methodField: 14 }]);
    expect((await expectCheckpointError(() => openZip(bytesSource(lzma)), 'bad-zip')).message).toMatch(/method 14/);
    const multi = makeZip([{ name: 'a', data: text('x') }], { zip64: true, totalDisks: 2 });
    expect((await expectCheckpointError(() => openZip(bytesSource(multi)), 'bad-zip')).message).toMatch(/multi-disk/);
  });

  it('checks CRCs and deflate sizes', async () => {
    const badCrc = makeZip([{ name: 'a', data: text('hello'), crc: 1234 }]);
    const z1 = await openZip(bytesSource(badCrc));
    await expectCheckpointError(() => z1.readEntry(z1.entries[0]), 'bad-zip');
    const lying = makeZip([{ name: 'b', data: big, method: 8, declaredSize: 100 }]);
    const z2 = await openZip(bytesSource(lying));
    expect((await expectCheckpointError(() => z2.readEntry(z2.entries[0]), 'bad-zip')).message).toMatch(/inflates/);
  });

  it('refuses a deflated entry declaring more than the limit before inflating it', async () => {
    const bomb = makeZip([{ name: 'bomb', data: big, method: 8, declaredSize: 2 ** 40 }]);
    const zip = await openZip(bytesSource(bomb));
    await expectCheckpointError(() => zip.readEntry(zip.entries[0]), 'limit');
    await expectCheckpointError(() => openZip(bytesSource(bomb), { maxEntries: 0 }), 'limit');
  });

  it('reports truncation and non-zips', async () => {
    const bytes = makeZip([{ name: 'a', data: big }]);
    for (const cut of [10, 100, 2000, bytes.length - 30, bytes.length - 1]) {
      await expectCheckpointError(() => openZip(bytesSource(bytes.subarray(0, cut), 'cut.zip')), 'truncated');
    }
    await expectCheckpointError(() => openZip(bytesSource(text('not a zip at all'))), 'bad-zip');
    await expectCheckpointError(() => openZip(bytesSource(new Uint8Array(0))), 'bad-zip');
  });

  it('refuses ranges outside an entry and an entry pointing past the file', async () => {
    const bytes = makeZip([{ name: 'a', data: text('hello') }], {});
    const zip = await openZip(bytesSource(bytes));
    await expectCheckpointError(() => zip.readEntryRange(zip.entries[0], 3, 5), 'bad-zip');
    // Point the only entry's local header offset past the central directory.
    const broken = bytes.slice();
    const cdStart = bytes.length - 22 - (46 + 1);
    new DataView(broken.buffer).setUint32(cdStart + 42, 40, true);
    const z2 = await openZip(bytesSource(broken));
    await expectCheckpointError(() => z2.readEntry(z2.entries[0]), 'bad-zip');
  });
});
