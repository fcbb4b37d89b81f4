import { describe, it, expect } from 'vitest';
import { bytesSource, type ByteSource } from '../../src/io/byteSource.ts';
import { readCheckpoint, detectCheckpointFormat } from '../../src/checkpoint/index.ts';
import { readPytorchCheckpoint } from '../../src/checkpoint/pytorch.ts';
import type { PickleDict, TensorRef } from '../../src/checkpoint/pickle.ts';
import { halfToNumber, numberToHalf, toFloat32, type Tensor } from '../../src/checkpoint/tensor.ts';
import { expectCheckpointError } from './helpers.ts';
import { PickleWriter, torchPickle, type PV, type TensorSpec } from './pickleWriter.ts';
import { le, makeZip, torchZip } from './zipWriter.ts';

const f32 = (...v: number[]) => le(new Float32Array(v));
const tensor = (t: TensorSpec): PV => ({ tensor: t });
const floatStorage = (key: string, numel: number) => ({ key, type: 'FloatStorage', numel });
const values = (t: Tensor) => Array.from(toFloat32(t));

/** A source that counts the bytes read through it. */
function counting(src: ByteSource): ByteSource & { bytesRead: number } {
  const c = {
    size: src.size,
    name: src.name,
    bytesRead: 0,
    read(offset: number, length: number) {
      c.bytesRead += length;
      return src.read(offset, length);
    },
  };
  return c;
}

describe('readCheckpoint on hand-made torch files', () => {
  it("takes a state_dict from 'state_dict', drops 'module.' and ignores non-tensors", async () => {
    const file = torchZip({
      dict: [
        ['epoch', 3],
        ['state_dict', {
          ordered: [
            ['module.conv.weight', tensor({ storage: floatStorage('0', 6), shape: [2, 3] })],
            ['module.conv.bias', tensor({ storage: floatStorage('1', 2), shape: [2], parameter: true, requiresGrad: true })],
            ['module.note', 'not a tensor'],
          ],
        }],
      ],
    }, { '0': f32(1, 2, 3, 4, 5, 6), '1': f32(-1, 1) }, { top: 'my_model' });
    const progress: [number, number][] = [];
    const ck = await readCheckpoint(bytesSource(file, 'wrapped.pth'), { onProgress: (d, t) => progress.push([d, t]) });
    expect(ck.format).toBe('pytorch');
    expect(ck.source).toBe('wrapped.pth');
    expect([...ck.tensors.keys()]).toEqual(['conv.weight', 'conv.bias']);
    expect(ck.tensors.get('conv.weight')!.shape).toEqual([2, 3]);
    expect(values(ck.tensors.get('conv.weight')!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(values(ck.tensors.get('conv.bias')!)).toEqual([-1, 1]);
    expect(ck.metadata).toEqual({});
    expect(ck.args).toBeNull();
    expect(progress).toEqual([[0, 32], [24, 32], [32, 32]]);
  });

  it('reads a bare state_dict at the top, and args from a dict', async () => {
    const file = torchZip({
      dict: [['w', tensor({ storage: floatStorage('0', 1), shape: [] })]],
    }, { '0': f32(7) }, { top: 'archive' });
    const ck = await readCheckpoint(bytesSource(file));
    expect(ck.tensors.get('w')).toEqual({ dtype: 'float32', shape: [], data: f32(7) });

    const withArgs = torchZip({
      dict: [['model', { dict: [['w', tensor({ storage: floatStorage('0', 1), shape: [1] })]] }], ['args', { dict: [['time_steps', 4], ['kd', true]] }]],
    }, { '0': f32(7) });
    expect((await readCheckpoint(bytesSource(withArgs))).args).toEqual({ time_steps: 4, kd: true });
  });

  it('gathers non-contiguous views into C order', async () => {
    const storage = f32(...Array.from({ length: 24 }, (_, i) => i));
    const s = floatStorage('0', 24);
    const file = torchZip({
      ordered: [
        ['transposed', tensor({ storage: s, shape: [3, 2], stride: [1, 3] })], // [[0,3],[1,4],[2,5]]
        ['permuted', tensor({ storage: s, shape: [4, 3, 2], stride: [1, 8, 4] })], // x.permute(2,0,1) of a [3,2,4]
        ['strided', tensor({ storage: s, offset: 1, shape: [2, 3], stride: [12, 2] })],
        ['slice', tensor({ storage: s, offset: 10, shape: [2, 2], stride: [2, 1] })],
        ['broadcast', tensor({ storage: s, offset: 5, shape: [2, 3], stride: [0, 1] })],
        ['empty', tensor({ storage: s, shape: [0, 4] })],
      ],
    }, { '0': storage });
    const ck = await readCheckpoint(bytesSource(file));
    expect(values(ck.tensors.get('transposed')!)).toEqual([0, 3, 1, 4, 2, 5]);
    const permuted: number[] = [];
    for (let c = 0; c < 4; c++) for (let a = 0; a < 3; a++) for (let b = 0; b < 2; b++) permuted.push(a * 8 + b * 4 + c);
    expect(values(ck.tensors.get('permuted')!)).toEqual(permuted);
    expect(values(ck.tensors.get('strided')!)).toEqual([1, 3, 5, 13, 15, 17]);
    expect(values(ck.tensors.get('slice')!)).toEqual([10, 11, 12, 13]);
    expect(values(ck.tensors.get('broadcast')!)).toEqual([5, 6, 7, 5, 6, 7]);
    expect(ck.tensors.get('empty')!.data.length).toBe(0);
  });

  it('reads only the part of a storage a view needs', async () => {
    const big = new Float32Array(100_000).map((_, i) => i);
    const file = torchZip({ ordered: [['tail', tensor({ storage: floatStorage('0', big.length), offset: 99_990, shape: [10] })]] }, { '0': le(big) });
    const src = counting(bytesSource(file));
    const ck = await readCheckpoint(src);
    expect(values(ck.tensors.get('tail')!)).toEqual(Array.from(big.subarray(99_990)));
    expect(src.bytesRead).toBeLessThan(5_000);
  });

  it('decodes float16, bfloat16, int64 and the other storage types', async () => {
    const halves = [1, -2, 0.5, 65504, 0.0999755859375];
    const half = le(new Uint16Array(halves.map(numberToHalf)));
    const bf = le(new Uint16Array([0x3f80, 0xc000, 0x4049])); // 1, -2, 3.140625
    const i64 = le(new BigInt64Array([1n, -5n, 2n ** 40n]));
    const file = torchZip({
      ordered: [
        ['h', tensor({ storage: { key: 'h', type: 'HalfStorage', numel: 5 }, shape: [5] })],
        ['b', tensor({ storage: { key: 'b', type: 'BFloat16Storage', numel: 3 }, shape: [3] })],
        ['l', tensor({ storage: { key: 'l', type: 'LongStorage', numel: 3 }, shape: [3] })],
        ['lt', tensor({ storage: { key: 'l', type: 'int64', numel: 3 }, offset: 1, shape: [2], stride: [1] })],
        ['i', tensor({ storage: { key: 'i', type: 'IntStorage', numel: 2 }, shape: [2] })],
        ['c', tensor({ storage: { key: 'c', type: 'CharStorage', numel: 2 }, shape: [2] })],
        ['u', tensor({ storage: { key: 'u', type: 'ByteStorage', numel: 2 }, shape: [2] })],
        ['q', tensor({ storage: { key: 'q', type: 'BoolStorage', numel: 2 }, shape: [2] })],
        ['d', tensor({ storage: { key: 'd', type: 'DoubleStorage', numel: 1 }, shape: [] })],
      ],
    }, {
      h: half, b: bf, l: i64, i: le(new Int32Array([-7, 9])), c: le(new Int8Array([-3, 4])),
      u: Uint8Array.of(200, 1), q: Uint8Array.of(1, 0), d: le(new Float64Array([Math.PI])),
    });
    const ck = await readCheckpoint(bytesSource(file));
    const t = (k: string) => ck.tensors.get(k)!;
    expect(t('h').dtype).toBe('float16');
    expect(t('h').data).toEqual(half);
    expect(values(t('h'))).toEqual(halves.map((x) => halfToNumber(numberToHalf(x))));
    expect(t('b').dtype).toBe('bfloat16');
    expect(values(t('b'))).toEqual([1, -2, 3.140625]);
    expect(t('l').dtype).toBe('int64');
    expect(Array.from(new BigInt64Array(t('l').data.slice().buffer))).toEqual([1n, -5n, 2n ** 40n]);
    expect(Array.from(new BigInt64Array(t('lt').data.slice().buffer))).toEqual([-5n, 2n ** 40n]);
    expect([t('i').dtype, ...values(t('i'))]).toEqual(['int32', -7, 9]);
    expect([t('c').dtype, ...values(t('c'))]).toEqual(['int8', -3, 4]);
    expect([t('u').dtype, ...values(t('u'))]).toEqual(['uint8', 200, 1]);
    expect([t('q').dtype, ...values(t('q'))]).toEqual(['bool', 1, 0]);
    expect(t('d').dtype).toBe('float64');
    expect(new Float64Array(t('d').data.slice().buffer)[0]).toBe(Math.PI);
  });

  it('reads deflated records (a re-zipped checkpoint) and refuses big-endian ones', async () => {
    const root: PV = { ordered: [['w', tensor({ storage: floatStorage('0', 2), shape: [2] })]] };
    const zip = makeZip([
      { name: 'a/data.pkl', data: torchPickle(root), method: 8 },
      { name: 'a/byteorder', data: new TextEncoder().encode('little') },
      { name: 'a/data/0', data: f32(1.5, 2.5), method: 8 },
    ]);
    expect(values((await readCheckpoint(bytesSource(zip))).tensors.get('w')!)).toEqual([1.5, 2.5]);
    const big = torchZip(root, { '0': f32(1.5, 2.5) }, { byteorder: 'big' });
    expect((await expectCheckpointError(() => readCheckpoint(bytesSource(big, 'be.pth')), 'bad-tensor')).message).toMatch(/be\.pth: .*'big' byte order/);
  });

  it('exposes the whole pickle and the archive name', async () => {
    const file = torchZip({ dict: [['epoch', 5], ['w', tensor({ storage: floatStorage('0', 2), shape: [2] })]] }, { '0': f32(1, 2) }, { top: 'checkpoint' });
    const ck = await readPytorchCheckpoint(bytesSource(file));
    expect(ck.archiveName).toBe('checkpoint');
    const root = ck.root as PickleDict;
    expect(root.get('epoch')).toBe(5);
    const t = await ck.loadTensor(root.get('w') as TensorRef);
    expect(values(t)).toEqual([1, 2]);
  });
});

describe('readCheckpoint refusals', () => {
  it('refuses a storage record whose size does not match its element count', async () => {
    const file = torchZip({ ordered: [['w', tensor({ storage: floatStorage('0', 4), shape: [4] })]] }, { '0': f32(1, 2, 3) });
    const err = await expectCheckpointError(() => readCheckpoint(bytesSource(file, 'm.pth')), 'bad-tensor');
    expect(err.message).toBe('m.pth: storage record archive/data/0 is 12 bytes but its 4 float32 elements need 16');
  });

  it('refuses a missing storage record', async () => {
    const file = torchZip({ ordered: [['w', tensor({ storage: floatStorage('9', 1), shape: [1] })]] }, {});
    expect((await expectCheckpointError(() => readCheckpoint(bytesSource(file)), 'bad-tensor')).message).toMatch(/archive\/data\/9 is missing/);
  });

  it('refuses strides that leave the storage', async () => {
    const file = torchZip({ ordered: [['w', tensor({ storage: floatStorage('0', 6), shape: [3, 2], stride: [1, 4] })]] }, { '0': f32(1, 2, 3, 4, 5, 6) });
    expect((await expectCheckpointError(() => readCheckpoint(bytesSource(file)), 'bad-tensor')).message).toMatch(/reads past the end of its storage/);
    const offset = torchZip({ ordered: [['w', tensor({ storage: floatStorage('0', 6), offset: 5, shape: [2] })]] }, { '0': f32(1, 2, 3, 4, 5, 6) });
    await expectCheckpointError(() => readCheckpoint(bytesSource(offset)), 'bad-tensor');
  });

  it('refuses a tensor claiming 10^12 elements before allocating anything', async () => {
    const n = 1e12;
    const huge = torchZip({ ordered: [['w', tensor({ storage: floatStorage('0', n), shape: [1e6, 1e6] })]] }, { '0': f32(1) });
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    await expectCheckpointError(() => readCheckpoint(bytesSource(huge)), 'limit');
    expect(performance.now() - t0).toBeLessThan(500);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50e6);
    // Within the byte limit but the record is far too small: refused by the size check.
    const lying = torchZip({ ordered: [['w', tensor({ storage: floatStorage('0', 1e8), shape: [1e8] })]] }, { '0': f32(1) });
    await expectCheckpointError(() => readCheckpoint(bytesSource(lying)), 'bad-tensor');
  });

  it('refuses a checkpoint without tensors', async () => {
    const file = torchZip({ dict: [['epoch', 1], ['model', { dict: [['x', 1]] }]] }, {});
    await expectCheckpointError(() => readCheckpoint(bytesSource(file)), 'no-weights');
  });

  it('removes a wrapper prefix only when every tensor name carries it', async () => {
    const s = floatStorage('0', 1);
    const mixed = await readCheckpoint(bytesSource(torchZip({ ordered: [['module.w', tensor({ storage: s, shape: [1] })], ['w', tensor({ storage: s, shape: [1] })]] }, { '0': f32(1) })));
    expect([...mixed.tensors.keys()]).toEqual(['module.w', 'w']);
    expect(mixed.removedPrefix).toBe('');
    const nested = await readCheckpoint(bytesSource(torchZip({ ordered: [['module.model.a', tensor({ storage: s, shape: [1] })], ['module.model.b', tensor({ storage: s, shape: [1] })]] }, { '0': f32(1) })));
    expect([...nested.tensors.keys()]).toEqual(['a', 'b']);
    expect(nested.removedPrefix).toBe('module.model.');
  });

  it('refuses a zip that is not a torch file', async () => {
    const zip = makeZip([{ name: 'readme.txt', data: new TextEncoder().encode('hi') }]);
    await expectCheckpointError(() => readCheckpoint(bytesSource(zip)), 'not-a-checkpoint');
  });

  it('refuses a pickle that calls os.system inside a checkpoint', async () => {
    const evil = new PickleWriter().proto().emptyDict().str('model').global('os', 'system').mark().str('rm -rf /').tuple().reduce().setitem().stop();
    const file = torchZip(evil.toBytes(), {});
    const err = await expectCheckpointError(() => readCheckpoint(bytesSource(file, 'evil.pth')), 'forbidden-call');
    expect(err.message).toMatch(/^evil\.pth: archive\/data\.pkl: the pickle asks to call os\.system; only tensor-rebuild functions are allowed/);
  });

  it('recognises a legacy (pre-1.6) torch file', async () => {
    // What torch < 1.6 writes first: pickle protocol 2, LONG1 of the magic number 0x1950a86a20f9469cfc6c.
    const legacy = Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e);
    expect(detectCheckpointFormat(legacy)).toBe('pytorch-legacy');
    const err = await expectCheckpointError(() => readCheckpoint(bytesSource(legacy, 'old.pth')), 'legacy-torch');
    expect(err.message).toBe('old.pth: this is a pre-1.6 torch.save file; re-save it with torch >= 1.6 (torch.save(torch.load(f), f2))');
    await expectCheckpointError(() => readPytorchCheckpoint(bytesSource(legacy)), 'legacy-torch');
  });

  it('refuses empty files and random bytes', async () => {
    expect((await expectCheckpointError(() => readCheckpoint(bytesSource(new Uint8Array(0), 'empty.pth')), 'not-a-checkpoint')).message).toBe('empty.pth: the file is empty');
    let seed = 12345;
    const random = new Uint8Array(4096).map(() => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    });
    expect(detectCheckpointFormat(random)).toBe('unknown');
    await expectCheckpointError(() => readCheckpoint(bytesSource(random, 'noise.bin')), 'not-a-checkpoint');
    await expectCheckpointError(() => readPytorchCheckpoint(bytesSource(random)), 'not-a-checkpoint');
    await expectCheckpointError(() => readCheckpoint(bytesSource(Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 1, 2, 3))), 'truncated');
  });
});
