/**
 * Files people open by mistake, or written by other tools, each told what it is and what to do in
 * one line that names the file: a Git LFS pointer, a TorchScript archive, a whole pickled model
 * (`torch.save(model)`, alone or under 'model' as YOLOv5 writes it), a plain pickle, a foreign
 * state_dict; and state_dicts whose names all carry a wrapper prefix, which load. All hand-made.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/checkpoint/index.ts';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { Tensor } from '../../src/checkpoint/tensor.ts';
import { bytesSource } from '../../src/io/byteSource.ts';
import { defaultConfig } from '../../src/model/config.ts';
import { ModelDescriptionError } from '../../src/model/describe.ts';
import { loadModel } from '../../src/model/loadModel.ts';
import { cli, expectOneLineError } from '../helpers/cli.ts';
import { randomStateDict } from '../helpers/randomCheckpoint.ts';
import { expectCheckpointError } from './helpers.ts';
import { PickleWriter, type PV } from './pickleWriter.ts';
import { le, makeZip, torchZip } from './zipWriter.ts';

const encode = (s: string) => new TextEncoder().encode(s);
const floatTensor = (key: string, shape: number[]): PV => ({
  tensor: { storage: { key, type: 'FloatStorage', numel: shape.reduce((a, b) => a * b, 1) }, shape, parameter: true },
});
const zeros = (n: number) => le(new Float32Array(n));

/** An MNIST MLP's state_dict as torch.save writes it. */
function mlpStateDict(): { root: PV; storages: Record<string, Uint8Array> } {
  const shapes: [string, number[]][] = [['fc1.weight', [128, 784]], ['fc1.bias', [128]], ['fc2.weight', [10, 128]], ['fc2.bias', [10]]];
  return {
    root: { ordered: shapes.map(([k, s], i) => [k, floatTensor(String(i), s)] as [string, PV]) },
    storages: Object.fromEntries(shapes.map(([, s], i) => [String(i), zeros(s.reduce((a, b) => a * b, 1))])),
  };
}

function safetensorsBytes(tensors: Map<string, Tensor>): Uint8Array {
  const chunks = writeSafetensors(tensors, { format: 'pt' });
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out;
}

const tinyConfig = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, depths: [1, 1] });
const prefixed = (prefix: string) => new Map([...randomStateDict(tinyConfig, 5)].map(([k, t]) => [prefix + k, t]));

describe('files that are not checkpoints are told what they are', () => {
  it('a Git LFS pointer: says so, and to fetch the real file', async () => {
    const pointer = encode('version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 124156912\n');
    const err = await expectCheckpointError(() => readCheckpoint(bytesSource(pointer, 'metaspikformer_15M.pth')), 'not-a-checkpoint');
    expect(err.message).toBe('metaspikformer_15M.pth: a Git LFS pointer, not the checkpoint itself; fetch the real file (git lfs pull) and open that');
  });

  it('a TorchScript archive (torch.jit.save): says so, and to save model.state_dict()', async () => {
    const data = new PickleWriter().proto(2).global('__torch__', 'Net').emptyTuple().newobj().emptyDict().build().stop().toBytes();
    const archive = makeZip([
      { name: 'net/data.pkl', data },
      { name: 'net/code/__torch__.py', data: encode('class Net(Module):\n  __parameters__ = []\n') },
      { name: 'net/constants.pkl', data: new PickleWriter().proto(2).emptyTuple().stop().toBytes() },
      { name: 'net/version', data: encode('3\n') },
    ]);
    const err = await expectCheckpointError(() => readCheckpoint(bytesSource(archive, 'scripted.pt')), 'not-a-checkpoint');
    expect(err.message).toBe('scripted.pt: a TorchScript archive (torch.jit.save), not a state_dict; in Python, save model.state_dict() with torch.save and open that file');
  });

  it('a whole pickled model (torch.save(model)): names its class, and nothing is run', async () => {
    const { storages } = mlpStateDict();
    const model: PV = {
      object: {
        className: '__main__.MnistNet',
        state: [['training', false], ['_parameters', { ordered: [['fc1.weight', floatTensor('0', [128, 784])]] }], ['_modules', { ordered: [] }]],
      },
    };
    const err = await expectCheckpointError(() => readCheckpoint(bytesSource(torchZip(model, { 0: storages[0] }), 'mnist_model.pt')), 'no-weights');
    expect(err.message).toBe('mnist_model.pt: holds a whole pickled model of class __main__.MnistNet (torch.save(model)), not a state_dict; '
      + 'in Python, save model.state_dict() with torch.save and open that file (nothing in this file was imported or run)');
  });

  it("a pickled model under 'model', as YOLOv5 saves it: names the class", async () => {
    const root: PV = { dict: [['epoch', -1], ['model', { object: { className: 'models.yolo.Model', state: [['yaml_file', 'yolov5s.yaml']] } }], ['optimizer', null]] };
    const err = await expectCheckpointError(() => readCheckpoint(bytesSource(torchZip(root, {}), 'yolov5s.pt')), 'no-weights');
    expect(err.message).toMatch(/^yolov5s\.pt: holds a whole pickled model of class models\.yolo\.Model \(torch\.save\(model\)\), not a state_dict; in Python, save model\.state_dict\(\)/);
  });

  it('a dict without tensors: says what it holds', async () => {
    const root: PV = { dict: [['epoch', 12], ['best_acc', 0.9], ['notes', 'run 3']] };
    const err = await expectCheckpointError(() => readCheckpoint(bytesSource(torchZip(root, {}), 'metrics.pth')), 'no-weights');
    expect(err.message).toBe("metrics.pth: no state_dict found: the file holds a dict with keys epoch, best_acc, notes and no tensors under them (looked under 'model', 'state_dict', 'model_state_dict', 'module', 'net' and at the top)");
  });

  it('a plain pickle (protocols 2 to 5) is not called a torch file', async () => {
    for (const protocol of [2, 3, 4, 5]) {
      const pickle = new PickleWriter().proto(protocol).emptyDict().str('weights').emptyList().setitem().stop().toBytes();
      const err = await expectCheckpointError(() => readCheckpoint(bytesSource(pickle, 'classifier.pkl')), 'not-a-checkpoint');
      expect(err.message).toBe('classifier.pkl: a plain Python pickle, not a torch.save file; load it in Python and save the weights with torch.save(state_dict, path) or as safetensors');
      expect(err.message).not.toMatch(/pre-1\.6/);
    }
  });

  it('a foreign state_dict: how many tensors, two of them, and what a Meta-SpikeFormer starts with', async () => {
    const { root, storages } = mlpStateDict();
    let caught: unknown;
    try {
      await loadModel(bytesSource(torchZip(root, storages), 'mnist_mlp.pth'));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ModelDescriptionError);
    expect((caught as Error).message).toBe('mnist_mlp.pth: not a Meta-SpikeFormer checkpoint: it holds 4 tensors, e.g. fc1.weight [128, 784], fc1.bias [128]; '
      + 'a Meta-SpikeFormer state_dict starts with downsample1_1.encode_conv.weight [E0/2, 3, 7, 7]');
  });
});

describe('wrapper prefixes', () => {
  const work = mkdtempSync(join(tmpdir(), 'spikeformer-prefix-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  for (const prefix of ['model.', 'module.', 'net.', 'backbone.']) {
    it(`a Meta-SpikeFormer whose every key starts with '${prefix}' loads, and says so`, async () => {
      const model = await loadModel(bytesSource(safetensorsBytes(prefixed(prefix)), 'wrapped.safetensors'));
      expect(model.checkpoint.removedPrefix).toBe(prefix);
      expect(model.config.embedDims).toEqual([16, 32, 64, 96]);
      expect(model.tensors.has('downsample1_1.encode_conv.weight')).toBe(true);
    });
  }

  it("Lightning's layout (a 'state_dict' of 'model.'-prefixed tensors) loads from a torch file", async () => {
    const root: PV = { dict: [['epoch', 3], ['state_dict', { ordered: [['model.conv.weight', floatTensor('0', [2, 3])], ['model.conv.bias', floatTensor('1', [2])]] }]] };
    const ck = await readCheckpoint(bytesSource(torchZip(root, { 0: zeros(6), 1: zeros(2) })));
    expect([...ck.tensors.keys()]).toEqual(['conv.weight', 'conv.bias']);
    expect(ck.removedPrefix).toBe('model.');
  });

  it('spikeformer info names the removed prefix; a foreign file is one line naming it', async () => {
    const wrapped = join(work, 'lightning.safetensors');
    writeFileSync(wrapped, safetensorsBytes(prefixed('model.')));
    const r = await cli('info', wrapped);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("names:       the prefix 'model.' on every tensor name was removed");
    expect(r.stdout).toContain('embed dims 16, 32, 64, 96');

    const { root, storages } = mlpStateDict();
    const foreign = join(work, 'mnist_mlp.pth');
    writeFileSync(foreign, torchZip(root, storages));
    expectOneLineError(await cli('info', foreign), /mnist_mlp\.pth: not a Meta-SpikeFormer checkpoint: it holds 4 tensors, e.g\. fc1\.weight \[128, 784\]/);
  });
});
