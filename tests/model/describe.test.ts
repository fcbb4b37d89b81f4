import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig, publishedSizeName } from '../../src/model/config.ts';
import { compareWithConfig, describeModel, ModelDescriptionError, type TensorShapes } from '../../src/model/describe.ts';
import { buildModelGraph, countLearnableParameters, expectedParameters, lifOps } from '../../src/model/graph.ts';
import { referenceCase, referencePath } from '../helpers/reference.ts';

function readKeyList(file: string): { header: string; shapes: TensorShapes } {
  const [header, ...lines] = readFileSync(referencePath('keys', file), 'utf8').trim().split('\n');
  const shapes: TensorShapes = new Map();
  for (const line of lines) {
    const [key, shape, dtype] = line.split('\t');
    shapes.set(key, { shape: JSON.parse(shape), dtype });
  }
  return { header, shapes };
}

const keyFiles = readdirSync(referencePath('keys')).filter((f) => f.endsWith('.tsv'));

describe('architecture inference on the published key lists', () => {
  it('finds all four key lists', () => expect(keyFiles.length).toBe(4));

  for (const file of keyFiles) {
    it(`${file}: dims, kd, classes, exact key set and parameter count`, () => {
      const { header, shapes } = readKeyList(file);
      const dims = JSON.parse(/embed_dim=(\[[^\]]+\])/.exec(header)![1]);
      const kd = /kd=True/.test(header);
      const learnable = Number(/(\d+) learnable parameters/.exec(header)![1]);
      const config = describeModel(shapes);
      expect(config.embedDims).toEqual(dims);
      expect(config.kd).toBe(kd);
      expect(config.numClasses).toBe(1000);
      expect(config.depths).toEqual([6, 2]);
      expect(config.labels).toBe('imagenet-1k');
      expect(publishedSizeName(config.embedDims)).toBe(/metaspikformer-(\d+M)/.exec(file)![1]);
      // Every tensor of the official state_dict is expected, with its shape, and nothing else.
      const expected = expectedParameters(config);
      expect(expected.map((p) => p.key).sort()).toEqual([...shapes.keys()].sort());
      for (const p of expected) expect(p.shape, p.key).toEqual(shapes.get(p.key)!.shape);
      expect(countLearnableParameters(config)).toBe(learnable);
    });
  }
});

describe('mismatch reports', () => {
  const { shapes } = readKeyList('metaspikformer-15M.tsv');

  it('names a missing tensor', () => {
    const s = new Map(shapes);
    s.delete('block3.2.attn.k_conv.0.body.2.0.weight');
    expect(() => describeModel(s)).toThrowError(/1 missing \(block3\.2\.attn\.k_conv\.0\.body\.2\.0\.weight\)/);
  });

  it('names an unexpected tensor', () => {
    const s = new Map(shapes);
    s.set('block3.0.attn.extra.weight', { shape: [3], dtype: 'float32' });
    expect(() => describeModel(s)).toThrowError(/1 unexpected \(block3\.0\.attn\.extra\.weight\)/);
  });

  it('names a mis-shaped tensor with both shapes', () => {
    const s = new Map(shapes);
    s.set('block4.1.mlp.fc2_conv.weight', { shape: [360, 1440, 3], dtype: 'float32' });
    expect(() => describeModel(s)).toThrowError(/block4\.1\.mlp\.fc2_conv\.weight is \[360,1440,3\], expected \[360,1440,1\]/);
  });

  it('refuses a foreign state_dict clearly', () => {
    const s: TensorShapes = new Map([['conv1.weight', { shape: [64, 3, 7, 7], dtype: 'float32' }]]);
    expect(() => describeModel(s)).toThrowError(ModelDescriptionError);
    expect(() => describeModel(s)).toThrowError('not a Meta-SpikeFormer checkpoint: it holds 1 tensor, e.g. conv1.weight [64, 3, 7, 7]; a Meta-SpikeFormer state_dict starts with downsample1_1.encode_conv.weight [E0/2, 3, 7, 7]');
  });

  it('lets num_batches_tracked be absent but reports everything else', () => {
    const s = new Map([...shapes].filter(([k]) => !k.endsWith('num_batches_tracked')));
    expect(() => describeModel(s)).not.toThrow();
    expect(compareWithConfig(s, describeModel(s)).missing.length).toBe(133);
  });

  it('checks task-head tensors (fpn., seg_head., det_head.) like the backbone', () => {
    const s = new Map(shapes);
    s.set('fpn.lateral.0.weight', { shape: [64, 128, 1, 1], dtype: 'float32' });
    s.set('det_head.cls.weight', { shape: [10, 64, 3, 3], dtype: 'float32' });
    // Not the HEADS.md layout: named precisely (tests/model/heads.test.ts has the full cases).
    expect(() => describeModel(s)).toThrowError(/fpn\.lateral\.0\.conv\.weight/);
    const t = new Map(shapes);
    t.set('segmentation.weight', { shape: [3], dtype: 'float32' });
    expect(() => describeModel(t)).toThrowError(/1 unexpected \(segmentation\.weight\)/);
  });

  it('takes T from the overrides', () => {
    expect(describeModel(shapes, { timeSteps: 4 }).timeSteps).toBe(4);
    expect(() => describeModel(shapes, { timeSteps: 0 })).toThrowError(/time steps 0/);
  });
});

describe('model graph', () => {
  const config = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10 });

  it('has the 77 neurons of the official code, in execution order', () => {
    const graph = buildModelGraph(config, 128, 128);
    const names = lifOps(graph).map((op) => op.name);
    expect(names).toEqual(referenceCase('metaspikformer-tiny-t1', 'cat').spikes.layers.map((l) => l.name));
  });

  it('gives the paper\'s stage shapes for 15M at 224x224', () => {
    const graph = buildModelGraph(defaultConfig({ embedDims: [64, 128, 256, 360], numClasses: 1000 }), 224, 224);
    expect(graph.shapes.get('downsample1_1.encode_bn')).toEqual([32, 112, 112]);
    expect(graph.shapes.get('downsample1_2.encode_bn')).toEqual([64, 56, 56]);
    expect(graph.shapes.get('downsample2.encode_bn')).toEqual([128, 28, 28]);
    expect(graph.shapes.get('downsample3.encode_bn')).toEqual([256, 14, 14]);
    expect(graph.shapes.get('block4.1.mlp.residual')).toEqual([360, 14, 14]);
    expect(graph.shapes.get(graph.output)).toEqual([1000, 1, 1]);
    // RepConv pads with BN(0) before its unpadded depthwise conv: size is kept.
    expect(graph.shapes.get('block3.0.attn.q_conv.0.body.1.bn')).toEqual([256, 16, 16]);
    expect(graph.shapes.get('block3.0.attn.q_conv.0.body.2.0')).toEqual([256, 14, 14]);
  });

  it('refuses input sizes not divisible by 16', () => {
    expect(() => buildModelGraph(config, 120, 128)).toThrowError(/multiples of 16/);
  });
});
