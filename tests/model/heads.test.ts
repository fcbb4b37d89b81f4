/**
 * The task heads in the model description: graph layout and neuron order (HEADS.md), the
 * parameters they imply, and inference/checking from tensor shapes and metadata.
 */
import { describe, expect, it } from 'vitest';
import { availableTasks, configForTasks, DEFAULT_DETECTION_DECODE } from '../../src/model/config.ts';
import { describeModel, inferHeads, ModelDescriptionError, type TensorShapes } from '../../src/model/describe.ts';
import { buildModelGraph, expectedParameters, lifOps } from '../../src/model/graph.ts';
import { taskHintsFromMetadata } from '../../src/model/loadModel.ts';
import { digitsConfig } from '../helpers/headsModel.ts';

const config = digitsConfig();

function shapesOf(c = config): TensorShapes {
  return new Map(expectedParameters(c).map((p) => [p.key, { shape: p.shape, dtype: p.dtype }]));
}

describe('graph with task heads', () => {
  it('puts the head neurons after the backbone in HEADS.md execution order', () => {
    const names = lifOps(buildModelGraph(config, 128, 128)).map((op) => op.name);
    expect(names.length).toBe(77 + 6 + 5 + 2);
    expect(names.slice(76)).toEqual([
      'lif',
      'fpn.lateral.0.lif', 'fpn.lateral.1.lif', 'fpn.lateral.2.lif',
      'fpn.output.0.lif', 'fpn.output.1.lif', 'fpn.output.2.lif',
      'seg_head.scale_heads.0.0.lif', 'seg_head.scale_heads.1.0.lif', 'seg_head.scale_heads.2.0.lif', 'seg_head.scale_heads.2.1.lif',
      'seg_head.cls_lif', 'det_head.stem.lif', 'det_head.out_lif',
    ]);
  });

  it('has named outputs at stride 4 and taps the right backbone values', () => {
    const g = buildModelGraph(config, 128, 96);
    expect(g.outputs).toEqual({ logits: 'logits', seg_logits: 'seg_logits', det_heatmap: 'det_heatmap', det_boxreg: 'det_boxreg' });
    expect(g.output).toBe('logits');
    expect(g.tasks).toEqual(['classify', 'segment', 'detect']);
    expect(g.shapes.get('seg_logits')).toEqual([11, 32, 24]);
    expect(g.shapes.get('det_heatmap')).toEqual([10, 32, 24]);
    expect(g.shapes.get('det_boxreg')).toEqual([4, 32, 24]);
    const input = (name: string) => g.ops.find((op) => op.name === name)!.inputs;
    expect(input('fpn.lateral.0.lif')).toEqual(['ConvBlock1_2.0.residual']);
    expect(input('fpn.lateral.1.lif')).toEqual(['ConvBlock2_2.0.residual']);
    expect(input('fpn.lateral.2.lif')).toEqual(['block4.1.mlp.residual']);
    expect(input('fpn.merge.1')).toEqual(['fpn.lateral.1.bn', 'fpn.up.1']);
    expect(input('fpn.up.1')).toEqual(['fpn.lateral.2.bn']);
    expect(input('fpn.up.0')).toEqual(['fpn.merge.1']);
    expect(input('fpn.output.2.lif')).toEqual(['fpn.lateral.2.bn']);
    expect(input('det_head.stem.lif')).toEqual(['fpn.output.0.bn']);
    expect(g.shapes.get('fpn.output.2.bn')).toEqual([32, 8, 6]);
    expect(g.shapes.get('seg_head.scale_heads.2.0.up')).toEqual([32, 16, 12]);
    expect(g.shapes.get('seg_head.scale_heads.2.1.up')).toEqual([32, 32, 24]);
    expect(g.ops.filter((op) => op.kind === 'upsample').map((op) => op.kind === 'upsample' && `${op.name}:${op.mode}`)).toEqual([
      'fpn.up.1:nearest', 'fpn.up.0:nearest', 'seg_head.scale_heads.1.0.up:bilinear',
      'seg_head.scale_heads.2.0.up:bilinear', 'seg_head.scale_heads.2.1.up:bilinear',
    ]);
  });

  it('builds only the asked tasks; refuses a head the model lacks', () => {
    expect(lifOps(buildModelGraph(config, 64, 64, { tasks: ['classify'] })).length).toBe(77);
    const det = buildModelGraph(config, 64, 64, { tasks: ['detect'] });
    expect(Object.keys(det.outputs)).toEqual(['logits', 'det_heatmap', 'det_boxreg']);
    expect(lifOps(det).some((op) => op.name.startsWith('seg_head'))).toBe(false);
    const segOnly = digitsConfig({ det: false });
    expect(availableTasks(segOnly)).toEqual(['classify', 'segment']);
    expect(configForTasks(config, ['classify']).heads).toBeNull();
    expect(lifOps(buildModelGraph(configForTasks(config, ['classify', 'detect']), 64, 64)).map((op) => op.name)).toEqual(lifOps(det).map((op) => op.name));
    expect(() => configForTasks(segOnly, ['detect'])).toThrowError(/no detection head \(det_head\.\* tensors\)/);
    expect(() => buildModelGraph(segOnly, 64, 64, { tasks: ['detect'] })).toThrowError(/no detection head \(det_head\.\* tensors\)/);
  });

  it('implies the HEADS.md parameters', () => {
    const params = new Map(expectedParameters(config).map((p) => [p.key, p.shape]));
    const heads = [...params].filter(([k]) => /^(fpn|seg_head|det_head)\./.test(k));
    expect(heads.length).toBe(6 * 6 + 4 * 6 + 2 + 6 + 4);
    expect(params.get('fpn.lateral.0.conv.weight')).toEqual([32, 16, 1, 1]);
    expect(params.get('fpn.lateral.1.conv.weight')).toEqual([32, 32, 1, 1]);
    expect(params.get('fpn.lateral.2.conv.weight')).toEqual([32, 96, 1, 1]);
    expect(params.get('fpn.output.1.conv.weight')).toEqual([32, 32, 3, 3]);
    expect(params.get('fpn.output.1.bn.num_batches_tracked')).toEqual([]);
    expect(params.get('seg_head.scale_heads.2.1.conv.weight')).toEqual([32, 32, 3, 3]);
    expect(params.get('seg_head.conv_seg.weight')).toEqual([11, 32, 1, 1]);
    expect(params.get('seg_head.conv_seg.bias')).toEqual([11]);
    expect(params.get('det_head.stem.conv.weight')).toEqual([32, 32, 3, 3]);
    expect(params.get('det_head.cls_conv.bias')).toEqual([10]);
    expect(params.get('det_head.reg_conv.weight')).toEqual([4, 32, 1, 1]);
    expect(params.has('seg_head.scale_heads.0.1.conv.weight')).toBe(false);
  });
});

describe('describing task heads from tensor shapes', () => {
  it('infers the heads of the digits layout', () => {
    const c = describeModel(shapesOf());
    expect(c.heads).toEqual(config.heads);
  });

  it('loads other class counts, FPN widths and names from metadata', () => {
    const other = digitsConfig({ segClasses: 3, detClasses: 2, fpn: 24 });
    const hints = taskHintsFromMetadata({
      'spikeformer.tasks': JSON.stringify({
        segment: { classNames: ['background', 'cat', 'dog'] },
        detect: { classNames: ['cat', 'dog'], decode: { scoreThreshold: 0.5, preNmsTopK: 10, nmsIou: 0.6, maxDetections: 5 } },
      }),
    });
    const c = describeModel(shapesOf(other), {}, hints);
    expect(c.heads!.fpn.channels).toBe(24);
    expect(c.heads!.segment).toMatchObject({ numClasses: 3, classNames: ['background', 'cat', 'dog'], channels: 24 });
    expect(c.heads!.detect).toMatchObject({ numClasses: 2, classNames: ['cat', 'dog'] });
    expect(c.heads!.detect!.decode).toEqual({ stride: 4, logitThreshold: 0, preNmsTopK: 10, nmsIou: 0.6, maxDetections: 5 });
    expect(() => describeModel(shapesOf(other), {}, { detectClassNames: ['a'] })).toThrowError(/names 1 detection classes, but the head has 2/);
  });

  it('reads training/export.py metadata (logit threshold as written)', () => {
    const hints = taskHintsFromMetadata({
      'spikeformer.tasks': JSON.stringify({
        segment: { classNames: ['background', ...'0123456789'] },
        detect: { classNames: [...'0123456789'], decode: { scoreThreshold: 0.3, logitThreshold: -0.8472978603872037, preNmsTopK: 50, nmsIou: 0.5, maxDetections: 20 } },
      }),
    });
    const c = describeModel(shapesOf(), {}, hints);
    expect(c.heads!.detect!.decode).toEqual(DEFAULT_DETECTION_DECODE);
    expect(c.heads!.segment!.classNames[0]).toBe('background');
  });

  it('names missing, unexpected and mis-shaped head tensors', () => {
    const s = shapesOf();
    s.delete('seg_head.scale_heads.2.1.bn.running_var');
    s.set('seg_head.scale_heads.0.1.conv.weight', { shape: [32, 32, 3, 3], dtype: 'float32' });
    s.set('det_head.reg_conv.weight', { shape: [5, 32, 1, 1], dtype: 'float32' });
    let error: ModelDescriptionError | null = null;
    try { describeModel(s); } catch (e) { error = e as ModelDescriptionError; }
    expect(error).toBeInstanceOf(ModelDescriptionError);
    expect(error!.mismatch).toEqual({
      missing: ['seg_head.scale_heads.2.1.bn.running_var'],
      unexpected: ['seg_head.scale_heads.0.1.conv.weight'],
      misshaped: [{ key: 'det_head.reg_conv.weight', expected: [4, 32, 1, 1], found: [5, 32, 1, 1] }],
    });
    expect(error!.message).toMatch(/with segmentation and detection heads: 1 missing/);
  });

  it('checks the FPN inputs against the backbone widths', () => {
    const s = shapesOf();
    s.set('fpn.lateral.1.conv.weight', { shape: [32, 16, 1, 1], dtype: 'float32' });
    expect(() => describeModel(s)).toThrowError(/fpn\.lateral\.1\.conv\.weight is \[32,16,1,1\], expected \[32,32,1,1\]/);
  });

  it('refuses heads without an FPN, or an FPN without heads', () => {
    const noFpn = new Map([...shapesOf()].filter(([k]) => !k.startsWith('fpn.')));
    expect(() => describeModel(noFpn)).toThrowError(/no FPN: tensor fpn\.lateral\.0\.conv\.weight is missing/);
    const onlyFpn = new Map([...shapesOf()].filter(([k]) => !k.startsWith('seg_head.') && !k.startsWith('det_head.')));
    expect(() => describeModel(onlyFpn)).toThrowError(/fpn\.\* tensors but no seg_head/);
    const noSegClasses = new Map([...shapesOf()].filter(([k]) => !k.startsWith('seg_head.conv_seg')));
    expect(() => describeModel(noSegClasses)).toThrowError(/seg_head\.conv_seg\.weight \(it gives the number of classes\) is missing/);
  });

  it('reads other FPN layouts: two levels, or the third level on block3', () => {
    const two = digitsConfig();
    two.heads!.fpn.levels = two.heads!.fpn.levels.slice(0, 2);
    const c2 = describeModel(shapesOf(two));
    expect(c2.heads!.fpn.levels.map((l) => l.stride)).toEqual([4, 8]);
    expect([...shapesOf(two).keys()].filter((k) => k.startsWith('seg_head.scale_heads.') && k.endsWith('conv.weight'))).toEqual([
      'seg_head.scale_heads.0.0.conv.weight', 'seg_head.scale_heads.1.0.conv.weight']);
    const b3 = digitsConfig();
    b3.heads!.fpn.levels[2] = { stage: 3, inChannels: 64, stride: 16 };
    const c3 = describeModel(shapesOf(b3));
    expect(c3.heads!.fpn.levels[2]).toEqual({ stage: 3, inChannels: 64, stride: 16 });
    const g = buildModelGraph(c3, 64, 64);
    expect(g.ops.find((op) => op.name === 'fpn.lateral.2.lif')!.inputs).toEqual(['block3.5.mlp.residual']);
  });

  it('has no heads for a classification checkpoint', () => {
    const plain = new Map([...shapesOf()].filter(([k]) => !/^(fpn|seg_head|det_head)\./.test(k)));
    expect(inferHeads(plain, [16, 32, 64, 96])).toBeNull();
    expect(describeModel(plain).heads).toBeNull();
  });
});
