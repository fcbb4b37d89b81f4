/**
 * The two reference training checkpoints (torch 1.13 zip files holding model, optimizer (AdamW),
 * epoch, scaler and args). Expected numbers were computed once with Python from the same files.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { bytesSource, type ByteSource } from '../../src/io/byteSource.ts';
import { openFileSource } from '../../src/io/nodeFileSource.ts';
import { readCheckpoint, type LoadedCheckpoint } from '../../src/checkpoint/index.ts';
import { isPickleObject, type PickleDict, type PickleValue } from '../../src/checkpoint/pickle.ts';
import { readPytorchCheckpoint } from '../../src/checkpoint/pytorch.ts';
import { encodeSafetensors, readSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { toFloat16, toFloat32, type Tensor } from '../../src/checkpoint/tensor.ts';
import { expectCheckpointError, T1_CHECKPOINT, T4_CHECKPOINT } from './helpers.ts';
import { concat } from './zipWriter.ts';

async function load(path: string): Promise<{ ck: LoadedCheckpoint; bytesRead: number; size: number }> {
  const src = await openFileSource(path);
  let bytesRead = 0;
  const counting: ByteSource = { size: src.size, name: src.name, read: (o, n) => { bytesRead += n; return src.read(o, n); } };
  try {
    return { ck: await readCheckpoint(counting), bytesRead, size: src.size };
  } finally {
    await src.close();
  }
}

const sum = (t: Tensor) => toFloat32(t).reduce((a, b) => a + b, 0);

const CASES = [
  {
    path: T1_CHECKPOINT, tensors: 825, float32: 692, bytes: 4_101_200, timeSteps: 1, kd: false, classes: 10,
    convSum: -0.15947620099177584, headSum: 3.6880587035848293, firstWeights: [0.04249815, -0.03640423],
  },
  {
    path: T4_CHECKPOINT, tensors: 827, float32: 694, bytes: 4_102_752, timeSteps: 4, kd: true, classes: 7,
    convSum: -2.165759623007034, headSum: -1.4696768156572944, firstWeights: [0.01891976, -0.01962777],
  },
];

describe.each(CASES)('reference checkpoint $path', (c) => {
  let loaded: ReturnType<typeof load> | undefined;
  const get = () => (loaded ??= load(c.path));

  it('loads the model state_dict only', async () => {
    const { ck, bytesRead, size } = await get();
    expect(ck.format).toBe('pytorch');
    expect(ck.tensors.size).toBe(c.tensors);
    const dtypes = [...ck.tensors.values()].map((t) => t.dtype);
    expect(dtypes.filter((d) => d === 'float32').length).toBe(c.float32);
    expect(dtypes.filter((d) => d === 'int64').length).toBe(c.tensors - c.float32);
    expect([...ck.tensors.values()].reduce((n, t) => n + t.data.length, 0)).toBe(c.bytes);
    // The optimizer state (two thirds of the file) is never read.
    expect(bytesRead).toBeLessThan(c.bytes + 400_000);
    expect(bytesRead).toBeLessThan(size / 2);
  });

  it('has the expected shapes and values', async () => {
    const { ck } = await get();
    const conv = ck.tensors.get('downsample1_1.encode_conv.weight')!;
    expect(conv.shape).toEqual([8, 3, 7, 7]);
    expect(toFloat32(conv)[0]).toBeCloseTo(c.firstWeights[0], 7);
    expect(toFloat32(conv)[1]).toBeCloseTo(c.firstWeights[1], 7);
    expect(sum(conv)).toBeCloseTo(c.convSum, 5);
    const head = ck.tensors.get('head.weight')!;
    expect(head.shape).toEqual([c.classes, 96]);
    expect(sum(head)).toBeCloseTo(c.headSum, 5);
    expect(ck.tensors.has('head_kd.weight')).toBe(c.kd);
    if (c.kd) expect(ck.tensors.get('head_kd.weight')!.shape).toEqual([c.classes, 96]);

    const nbt = ck.tensors.get('downsample1_1.encode_bn.num_batches_tracked')!;
    expect(nbt.dtype).toBe('int64');
    expect(nbt.shape).toEqual([]);
    expect(new BigInt64Array(nbt.data.slice().buffer)[0]).toBe(1n);
    for (const [name, t] of ck.tensors) {
      if (name.endsWith('running_var')) expect(Math.min(...toFloat32(t))).toBeGreaterThan(0);
    }
  });

  it('exposes args (argparse.Namespace) as a plain object', async () => {
    const { ck } = await get();
    expect(ck.args).not.toBeNull();
    expect(ck.args!.time_steps).toBe(c.timeSteps);
    expect(ck.args!.kd).toBe(c.kd);
    expect(ck.args!.nb_classes).toBe(c.classes);
  });

  it('round-trips through safetensors byte for byte', async () => {
    const { ck } = await get();
    const chunks = writeSafetensors(ck.tensors, { source: 'checkpoint.pth', time_steps: String(c.timeSteps) });
    const back = await readSafetensors(bytesSource(concat(chunks), 'rt.safetensors'));
    expect(back.metadata).toEqual({ source: 'checkpoint.pth', time_steps: String(c.timeSteps) });
    expect(back.tensors.size).toBe(ck.tensors.size);
    for (const [name, t] of ck.tensors) {
      const u = back.tensors.get(name)!;
      expect(u.dtype).toBe(t.dtype);
      expect(u.shape).toEqual(t.shape);
      expect(Buffer.from(u.data).equals(Buffer.from(t.data)), name).toBe(true);
    }
  });

  it('round-trips through float16 within half precision', async () => {
    const { ck } = await get();
    const halves = new Map([...ck.tensors].map(([k, t]) => [k, toFloat16(t)] as const));
    const back = await readSafetensors(bytesSource(encodeSafetensors(halves)));
    for (const [name, t] of ck.tensors) {
      const u = back.tensors.get(name)!;
      expect(u.dtype).toBe(t.dtype === 'float32' ? 'float16' : t.dtype);
      const a = toFloat32(t);
      const b = toFloat32(u);
      for (let i = 0; i < a.length; i++) {
        // float16 keeps 11 significant bits; values below 2^-14 are subnormal (absolute step 2^-24).
        const tol = Math.max(Math.abs(a[i]) * 2 ** -11, 2 ** -25);
        if (Math.abs(a[i] - b[i]) > tol) expect.fail(`${name}[${i}]: ${a[i]} became ${b[i]}`);
      }
    }
  });
});

describe('reference checkpoint, whole pickle', () => {
  it('parses optimizer, epoch, scaler and args without loading tensors', async () => {
    const src = await openFileSource(T1_CHECKPOINT);
    try {
      const ck = await readPytorchCheckpoint(src);
      expect(ck.archiveName).toBe('checkpoint');
      const root = ck.root as PickleDict;
      expect([...root.keys()]).toEqual(['model', 'optimizer', 'epoch', 'scaler', 'args']);
      expect(root.get('epoch')).toBe(199);
      expect(root.get('scaler')).toEqual(new Map([['scale', 65536], ['growth_factor', 2]]));
      const groups = (root.get('optimizer') as PickleDict).get('param_groups') as PickleValue[];
      expect((groups[0] as PickleDict).get('lr')).toBe(0.0001);
      expect((groups[0] as PickleDict).get('betas')).toEqual({ kind: 'tuple', items: [0.9, 0.999] });
      const args = root.get('args');
      expect(isPickleObject(args) && args.className).toBe('argparse.Namespace');
    } finally {
      await src.close();
    }
  });

  it('reports a truncated file as truncated wherever it is cut', async () => {
    const file = readFileSync(T1_CHECKPOINT);
    for (const cut of [4, 100, 50_000, 229_000, 6_000_000, file.length - 200_000, file.length - 60, file.length - 23, file.length - 1]) {
      await expectCheckpointError(() => readCheckpoint(bytesSource(file.subarray(0, cut), `cut-${cut}.pth`)), 'truncated');
    }
  });
});
