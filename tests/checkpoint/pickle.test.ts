import { describe, it, expect } from 'vitest';
import {
  isPickleObject, isPickleTuple, isTensorRef, unpickle,
  type PickleDict, type PickleObject, type PickleValue, type TensorRef,
} from '../../src/checkpoint/pickle.ts';
import { expectCheckpointError } from './helpers.ts';
import { PickleWriter, torchPickle } from './pickleWriter.ts';

const b64 = (s: string) => Uint8Array.from(Buffer.from(s, 'base64'));

/**
 * Python 3 `pickle.dumps(v, protocol=p)` for p = 0..5 of
 *   L = [1]
 *   v = {'a': [1, -2, 2**31, -2**63, 2**70, 1.5, 'str', 'ünï\n', b'by', None, True, False],
 *        't1': (1,), 't2': (1, 2), 't3': (1, 2, 3), 't4': (1, 2, 3, 4), 'set': {1, 2},
 *        'fs': frozenset([3]), 'od': OrderedDict(k=1), 'ns': argparse.Namespace(x=1),
 *        (1, 'a'): 'tuplekey', 'ba': bytearray(b'ab'), 'shared': [L, L], 'e': b''}
 * Between them they use every opcode Python writes, from the text opcodes of protocol 0 to
 * FRAME, MEMOIZE, STACK_GLOBAL and BYTEARRAY8.
 */
const PYTHON_PICKLES = [
  'KGRwMApWYQpwMQoobHAyCkkxCmFJLTIKYUwyMTQ3NDgzNjQ4TAphTC05MjIzMzcyMDM2ODU0Nzc1ODA4TAphTDExODA1OTE2MjA3MTc0MTEzMDM0MjRMCmFGMS41CmFWc3RyCnAzCmFW/G7vXHUwMDBhCnA0CmFjX2NvZGVjcwplbmNvZGUKcDUKKFZieQpwNgpWbGF0aW4xCnA3CnRwOApScDkKYU5hSTAxCmFJMDAKYXNWdDEKcDEwCihJMQp0cDExCnNWdDIKcDEyCihJMQpJMgp0cDEzCnNWdDMKcDE0CihJMQpJMgpJMwp0cDE1CnNWdDQKcDE2CihJMQpJMgpJMwpJNAp0cDE3CnNWc2V0CnAxOApjX19idWlsdGluX18Kc2V0CnAxOQooKGxwMjAKSTEKYUkyCmF0cDIxClJwMjIKc1ZmcwpwMjMKY19fYnVpbHRpbl9fCmZyb3plbnNldApwMjQKKChscDI1CkkzCmF0cDI2ClJwMjcKc1ZvZApwMjgKY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnAyOQoodFJwMzAKVmsKcDMxCkkxCnNzVm5zCnAzMgpjY29weV9yZWcKX3JlY29uc3RydWN0b3IKcDMzCihjYXJncGFyc2UKTmFtZXNwYWNlCnAzNApjX19idWlsdGluX18Kb2JqZWN0CnAzNQpOdHAzNgpScDM3CihkcDM4ClZ4CnAzOQpJMQpzYnMoSTEKZzEKdHA0MApWdHVwbGVrZXkKcDQxCnNWYmEKcDQyCmNfX2J1aWx0aW5fXwpieXRlYXJyYXkKcDQzCihnNQooVmFiCnA0NApnNwp0cDQ1ClJwNDYKdHA0NwpScDQ4CnNWc2hhcmVkCnA0OQoobHA1MAoobHA1MQpJMQphYWc1MQphc1ZlCnA1MgpjX19idWlsdGluX18KYnl0ZXMKcDUzCih0UnA1NApzLg==',
  'fXEAKFgBAAAAYXEBXXECKEsBSv7///9MMjE0NzQ4MzY0OEwKTC05MjIzMzcyMDM2ODU0Nzc1ODA4TApMMTE4MDU5MTYyMDcxNzQxMTMwMzQyNEwKRz/4AAAAAAAAWAMAAABzdHJxA1gGAAAAw7xuw68KcQRjX2NvZGVjcwplbmNvZGUKcQUoWAIAAABieXEGWAYAAABsYXRpbjFxB3RxCFJxCU5JMDEKSTAwCmVYAgAAAHQxcQooSwF0cQtYAgAAAHQycQwoSwFLAnRxDVgCAAAAdDNxDihLAUsCSwN0cQ9YAgAAAHQ0cRAoSwFLAksDSwR0cRFYAwAAAHNldHESY19fYnVpbHRpbl9fCnNldApxEyhdcRQoSwFLAmV0cRVScRZYAgAAAGZzcRdjX19idWlsdGluX18KZnJvemVuc2V0CnEYKF1xGUsDYXRxGlJxG1gCAAAAb2RxHGNjb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxHSlScR5YAQAAAGtxH0sBc1gCAAAAbnNxIGNjb3B5X3JlZwpfcmVjb25zdHJ1Y3RvcgpxIShjYXJncGFyc2UKTmFtZXNwYWNlCnEiY19fYnVpbHRpbl9fCm9iamVjdApxI050cSRScSV9cSZYAQAAAHhxJ0sBc2IoSwFoAXRxKFgIAAAAdHVwbGVrZXlxKVgCAAAAYmFxKmNfX2J1aWx0aW5fXwpieXRlYXJyYXkKcSsoaAUoWAIAAABhYnEsaAd0cS1ScS50cS9ScTBYBgAAAHNoYXJlZHExXXEyKF1xM0sBYWgzZVgBAAAAZXE0Y19fYnVpbHRpbl9fCmJ5dGVzCnE1KVJxNnUu',
  'gAJ9cQAoWAEAAABhcQFdcQIoSwFK/v///4oFAAAAgACKCAAAAAAAAACAigkAAAAAAAAAAEBHP/gAAAAAAABYAwAAAHN0cnEDWAYAAADDvG7DrwpxBGNfY29kZWNzCmVuY29kZQpxBVgCAAAAYnlxBlgGAAAAbGF0aW4xcQeGcQhScQlOiIllWAIAAAB0MXEKSwGFcQtYAgAAAHQycQxLAUsChnENWAIAAAB0M3EOSwFLAksDh3EPWAIAAAB0NHEQKEsBSwJLA0sEdHERWAMAAABzZXRxEmNfX2J1aWx0aW5fXwpzZXQKcRNdcRQoSwFLAmWFcRVScRZYAgAAAGZzcRdjX19idWlsdGluX18KZnJvemVuc2V0CnEYXXEZSwNhhXEaUnEbWAIAAABvZHEcY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnEdKVJxHlgBAAAAa3EfSwFzWAIAAABuc3EgY2FyZ3BhcnNlCk5hbWVzcGFjZQpxISmBcSJ9cSNYAQAAAHhxJEsBc2JLAWgBhnElWAgAAAB0dXBsZWtleXEmWAIAAABiYXEnY19fYnVpbHRpbl9fCmJ5dGVhcnJheQpxKGgFWAIAAABhYnEpaAeGcSpScSuFcSxScS1YBgAAAHNoYXJlZHEuXXEvKF1xMEsBYWgwZVgBAAAAZXExY19fYnVpbHRpbl9fCmJ5dGVzCnEyKVJxM3Uu',
  'gAN9cQAoWAEAAABhcQFdcQIoSwFK/v///4oFAAAAgACKCAAAAAAAAACAigkAAAAAAAAAAEBHP/gAAAAAAABYAwAAAHN0cnEDWAYAAADDvG7DrwpxBEMCYnlxBU6IiWVYAgAAAHQxcQZLAYVxB1gCAAAAdDJxCEsBSwKGcQlYAgAAAHQzcQpLAUsCSwOHcQtYAgAAAHQ0cQwoSwFLAksDSwR0cQ1YAwAAAHNldHEOY2J1aWx0aW5zCnNldApxD11xEChLAUsCZYVxEVJxElgCAAAAZnNxE2NidWlsdGlucwpmcm96ZW5zZXQKcRRdcRVLA2GFcRZScRdYAgAAAG9kcRhjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcRkpUnEaWAEAAABrcRtLAXNYAgAAAG5zcRxjYXJncGFyc2UKTmFtZXNwYWNlCnEdKYFxHn1xH1gBAAAAeHEgSwFzYksBaAGGcSFYCAAAAHR1cGxla2V5cSJYAgAAAGJhcSNjYnVpbHRpbnMKYnl0ZWFycmF5CnEkQwJhYnElhXEmUnEnWAYAAABzaGFyZWRxKF1xKShdcSpLAWFoKmVYAQAAAGVxK0MAcSx1Lg==',
  'gASVRAEAAAAAAAB9lCiMAWGUXZQoSwFK/v///4oFAAAAgACKCAAAAAAAAACAigkAAAAAAAAAAEBHP/gAAAAAAACMA3N0cpSMBsO8bsOvCpRDAmJ5lE6IiWWMAnQxlEsBhZSMAnQylEsBSwKGlIwCdDOUSwFLAksDh5SMAnQ0lChLAUsCSwNLBHSUjANzZXSUj5QoSwFLApCMAmZzlChLA5GUjAJvZJSMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5QpUpSMAWuUSwFzjAJuc5SMCGFyZ3BhcnNllIwJTmFtZXNwYWNllJOUKYGUfZSMAXiUSwFzYksBaAGGlIwIdHVwbGVrZXmUjAJiYZSMCGJ1aWx0aW5zlIwJYnl0ZWFycmF5lJOUQwJhYpSFlFKUjAZzaGFyZWSUXZQoXZRLAWFoKmWMAWWUQwCUdS4=',
  'gAWVLgEAAAAAAAB9lCiMAWGUXZQoSwFK/v///4oFAAAAgACKCAAAAAAAAACAigkAAAAAAAAAAEBHP/gAAAAAAACMA3N0cpSMBsO8bsOvCpRDAmJ5lE6IiWWMAnQxlEsBhZSMAnQylEsBSwKGlIwCdDOUSwFLAksDh5SMAnQ0lChLAUsCSwNLBHSUjANzZXSUj5QoSwFLApCMAmZzlChLA5GUjAJvZJSMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5QpUpSMAWuUSwFzjAJuc5SMCGFyZ3BhcnNllIwJTmFtZXNwYWNllJOUKYGUfZSMAXiUSwFzYksBaAGGlIwIdHVwbGVrZXmUjAJiYZSWAgAAAAAAAABhYpSMBnNoYXJlZJRdlChdlEsBYWglZYwBZZRDAJR1Lg==',
];

const tuple = (...items: PickleValue[]) => ({ kind: 'tuple', items });
const enc = (s: string) => new TextEncoder().encode(s);

describe('unpickle: what Python writes', () => {
  PYTHON_PICKLES.forEach((data, protocol) => {
    it(`decodes protocol ${protocol}`, () => {
      const v = unpickle(b64(data)) as PickleDict;
      expect(v).toBeInstanceOf(Map);
      expect(v.get('a')).toEqual([1, -2, 2 ** 31, -(2n ** 63n), 2n ** 70n, 1.5, 'str', 'ünï\n', enc('by'), null, true, false]);
      expect(v.get('t1')).toEqual(tuple(1));
      expect(v.get('t2')).toEqual(tuple(1, 2));
      expect(v.get('t3')).toEqual(tuple(1, 2, 3));
      expect(v.get('t4')).toEqual(tuple(1, 2, 3, 4));
      expect(v.get('set')).toEqual([1, 2]);
      expect(v.get('fs')).toEqual([3]);
      expect(v.get('od')).toEqual(new Map([['k', 1]]));
      const ns = v.get('ns') as PickleObject;
      expect(isPickleObject(ns)).toBe(true);
      expect(ns.className).toBe('argparse.Namespace');
      expect(ns.state).toEqual(new Map([['x', 1]]));
      expect(v.get("(1, 'a')")).toBe('tuplekey');
      expect(v.get('ba')).toEqual(enc('ab'));
      expect(v.get('e')).toEqual(new Uint8Array(0));
      const shared = v.get('shared') as PickleValue[][];
      expect(shared).toEqual([[1], [1]]);
      expect(shared[0]).toBe(shared[1]); // memo references stay shared
    });
  });

  it('decodes STRING escapes, text INT/LONG/FLOAT and a class name left as data', () => {
    const w = new PickleWriter().mark()
      .raw(...enc("S'a\\'b\\n\\x41\\101'\n"))
      .raw(...enc('I-42\n'))
      .raw(...enc('L123456789012345678901234567890L\n'))
      .raw(...enc('F-inf\n'))
      .raw(...enc('F1e-08\n'))
      .global('torch', 'float32')
      .raw(0x6c) // LIST
      .stop();
    expect(unpickle(w.toBytes())).toEqual(["a'b\nAA", -42, 123456789012345678901234567890n, -Infinity, 1e-8, 'torch.float32']);
  });
});

describe('unpickle: torch tensors', () => {
  it('turns _rebuild_tensor_v2 and _rebuild_parameter into TensorRefs', () => {
    const v = unpickle(torchPickle({
      dict: [
        ['w', { tensor: { storage: { key: '0', type: 'FloatStorage', numel: 12 }, offset: 2, shape: [2, 5], stride: [5, 1] } }],
        ['p', { tensor: { storage: { key: '1', type: 'float16', numel: 6 }, shape: [3, 2], stride: [1, 3], parameter: true, requiresGrad: true } }],
      ],
    })) as PickleDict;
    const w = v.get('w') as TensorRef;
    expect(isTensorRef(w)).toBe(true);
    expect(w).toEqual({
      kind: 'tensor', storage: { kind: 'storage', key: '0', dtype: 'float32', numel: 12, location: 'cpu' },
      storageOffset: 2, shape: [2, 5], stride: [5, 1], requiresGrad: false,
    });
    const p = v.get('p') as TensorRef;
    expect(p.storage.dtype).toBe('float16');
    expect(p.stride).toEqual([1, 3]);
    expect(p.requiresGrad).toBe(true);
  });

  it('accepts every storage class and refuses unknown ones', () => {
    const types: Record<string, string> = {
      DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', LongStorage: 'int64',
      IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool',
      bfloat16: 'bfloat16', int64: 'int64', UntypedStorage: 'uint8',
    };
    for (const [type, dtype] of Object.entries(types)) {
      const v = unpickle(torchPickle({ tensor: { storage: { key: 'k', type, numel: 1 }, shape: [] } })) as TensorRef;
      expect(v.storage.dtype).toBe(dtype);
    }
    return expectCheckpointError(() => unpickle(torchPickle({ tensor: { storage: { key: 'k', type: 'ComplexFloatStorage', numel: 1 }, shape: [] } })), 'bad-tensor');
  });

  it('refuses a view outside its storage at parse time', async () => {
    const err = await expectCheckpointError(() => unpickle(torchPickle({
      tensor: { storage: { key: '0', type: 'FloatStorage', numel: 10 }, shape: [3, 4], stride: [4, 1] },
    }), { name: 'x.pth: archive/data.pkl' }), 'bad-tensor');
    expect(err.message).toMatch(/^x\.pth: archive\/data\.pkl: .*reads past the end of its storage/);
    await expectCheckpointError(() => unpickle(torchPickle({
      tensor: { storage: { key: '0', type: 'FloatStorage', numel: 10 }, shape: [2], stride: [-1] },
    })), 'bad-tensor');
  });

  it('keeps a storage class outside a persistent id from being called', async () => {
    const w = new PickleWriter().proto().global('torch', 'FloatStorage').emptyTuple().reduce().stop();
    await expectCheckpointError(() => unpickle(w.toBytes()), 'forbidden-call');
  });
});

describe('unpickle: hostile input', () => {
  /** `callable(arg)` through REDUCE, the callable named by GLOBAL or STACK_GLOBAL. */
  const callWith = (module: string, name: string, stack: boolean) => {
    const w = new PickleWriter().proto(stack ? 4 : 2);
    if (stack) w.stackGlobal(module, name);
    else w.global(module, name);
    return w.mark().str('echo pwned').tuple().reduce().stop().toBytes();
  };

  for (const [module, name, stack] of [
    ['posix', 'system', false], ['os', 'system', false], ['nt', 'system', false], ['builtins', 'eval', true],
    ['builtins', 'getattr', true], ['subprocess', 'Popen', false], ['__builtin__', 'exec', false],
  ] as const) {
    it(`refuses ${module}.${name} via ${stack ? 'STACK_GLOBAL' : 'GLOBAL'}`, async () => {
      const err = await expectCheckpointError(() => unpickle(callWith(module, name, stack), { name: 'evil.pth' }), 'forbidden-call');
      const shown = module === '__builtin__' ? 'builtins' : module;
      expect(err.message).toContain(`asks to call ${shown}.${name}; only tensor-rebuild functions are allowed`);
      expect(err.message).toMatch(/^evil\.pth: /);
    });
  }

  it('refuses calls through INST and OBJ, and a disguised rebuild', async () => {
    const inst = new PickleWriter().mark().str('id').raw(...enc('iposix\nsystem\n')).stop();
    expect((await expectCheckpointError(() => unpickle(inst.toBytes()), 'forbidden-call')).message).toContain('posix.system');
    const obj = new PickleWriter().mark().global('os', 'system').str('id').raw(0x6f).stop();
    await expectCheckpointError(() => unpickle(obj.toBytes()), 'forbidden-call');
    // _rebuild_from_type_v2 whose inner function is not a tensor rebuild
    const fromType = new PickleWriter().proto().global('torch._tensor', '_rebuild_from_type_v2')
      .mark().global('os', 'system').global('torch', 'Tensor').mark().str('id').tuple().emptyDict().tuple().reduce().stop();
    expect((await expectCheckpointError(() => unpickle(fromType.toBytes()), 'forbidden-call')).message).toContain('os.system');
    // copyreg._reconstructor only for data-record classes
    const recon = new PickleWriter().global('copy_reg', '_reconstructor').mark().global('subprocess', 'Popen').global('__builtin__', 'object').none().tuple().reduce().stop();
    expect((await expectCheckpointError(() => unpickle(recon.toBytes()), 'forbidden-call')).message).toContain('subprocess.Popen');
  });

  it('records NEWOBJ of any class as inert data, running nothing', () => {
    const w = new PickleWriter().proto().global('posix', 'system').mark().str('id').tuple().newobj().stop();
    const v = unpickle(w.toBytes()) as PickleObject;
    expect(v).toEqual({ kind: 'object', className: 'posix.system', args: ['id'], state: null });
  });

  it('refuses REDUCE on something that is not a global name', async () => {
    const w = new PickleWriter().str('posix.system').mark().str('id').tuple().reduce().stop();
    await expectCheckpointError(() => unpickle(w.toBytes()), 'bad-pickle');
  });

  const deep = 100_000;

  it('gives "limit" for 100k nested lists, quickly', async () => {
    const w = new PickleWriter();
    for (let i = 0; i < deep; i++) w.emptyList();
    for (let i = 0; i < deep - 1; i++) w.append();
    w.stop();
    const t0 = performance.now();
    await expectCheckpointError(() => unpickle(w.toBytes()), 'limit');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('gives "limit" for 100k nested MARKs and for 100k nested TUPLE1s', async () => {
    const marks = new PickleWriter();
    for (let i = 0; i < deep; i++) marks.mark();
    await expectCheckpointError(() => unpickle(marks.stop().toBytes()), 'limit');
    const tuples = new PickleWriter().none();
    for (let i = 0; i < deep; i++) tuples.tuple1();
    await expectCheckpointError(() => unpickle(tuples.stop().toBytes()), 'limit');
  });

  it('refuses self-containing structures instead of building cycles', async () => {
    const self = new PickleWriter().emptyList().dup().append().stop();
    await expectCheckpointError(() => unpickle(self.toBytes()), 'bad-pickle');
    // a = []; b = [a]; then a.append(b) through the memo
    const w = new PickleWriter().emptyList().binput(0).mark().binget(0).raw(0x6c).binput(1).binget(0).binget(1).append().stop();
    await expectCheckpointError(() => unpickle(w.toBytes()), 'bad-pickle');
  });

  it('refuses lengths past the input without allocating them', async () => {
    const unicode8 = new PickleWriter().proto(4).raw(0x8d).u64(1n << 60n).raw(1, 2, 3).stop();
    await expectCheckpointError(() => unpickle(unicode8.toBytes()), 'truncated');
    const bytes8 = new PickleWriter().proto(4).raw(0x8e).u64(2n ** 40n).stop();
    await expectCheckpointError(() => unpickle(bytes8.toBytes()), 'truncated');
    const binunicode = new PickleWriter().raw(0x58).u32(0xfffffff0).stop();
    await expectCheckpointError(() => unpickle(binunicode.toBytes()), 'truncated');
    const long4 = new PickleWriter().raw(0x8b).u32(1_000_000).blob(new Uint8Array(1_000_000)).stop();
    await expectCheckpointError(() => unpickle(long4.toBytes()), 'limit');
  });

  it('names an unknown opcode and its position', async () => {
    const err = await expectCheckpointError(() => unpickle(new PickleWriter().proto().none().raw(0xff).stop().toBytes()), 'bad-pickle');
    expect(err.message).toMatch(/unknown opcode 0xff .*byte 3/);
  });

  it('refuses malformed streams', async () => {
    await expectCheckpointError(() => unpickle(new Uint8Array(0)), 'truncated');
    await expectCheckpointError(() => unpickle(new PickleWriter().proto().none().toBytes()), 'truncated');
    await expectCheckpointError(() => unpickle(new PickleWriter().append().stop().toBytes()), 'bad-pickle');
    await expectCheckpointError(() => unpickle(new PickleWriter().binget(7).stop().toBytes()), 'bad-pickle');
    await expectCheckpointError(() => unpickle(new PickleWriter().proto(6).none().stop().toBytes()), 'bad-pickle');
    await expectCheckpointError(() => unpickle(new PickleWriter().raw(0x30).stop().toBytes()), 'bad-pickle'); // POP on nothing
    await expectCheckpointError(() => unpickle(new PickleWriter().emptyList().mark().none().append().append().stop().toBytes()), 'bad-pickle'); // APPEND across a MARK
  });

  it('bounds memo size and total items', async () => {
    const memo = new PickleWriter().none();
    for (let i = 0; i < 20; i++) memo.binput(i);
    await expectCheckpointError(() => unpickle(memo.stop().toBytes(), { maxMemo: 10 }), 'limit');
    const dups = new PickleWriter().emptyList().mark();
    for (let i = 0; i < 100; i++) dups.none().dup();
    await expectCheckpointError(() => unpickle(dups.appends().stop().toBytes(), { maxItems: 50 }), 'limit');
  });
});
