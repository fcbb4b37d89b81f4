import { describe, expect, test } from 'vitest';
import { groupByStage, roleOf, stageOf } from '../../src/model/stages.ts';
import { boxToOverlay, classColor, classCss, colorMask, mirrorRgba } from '../../src/app/logic/taskOverlay.ts';
import { taskChoices, tasksFor } from '../../src/model/tasks.ts';

describe('task choices', () => {
  test('only the tasks the model has, plus "all" when it has a head', () => {
    expect(taskChoices(['classify'])).toEqual(['classify']);
    expect(taskChoices(['classify', 'segment', 'detect'])).toEqual(['classify', 'detect', 'segment', 'all']);
    expect(taskChoices(['classify', 'detect'])).toEqual(['classify', 'detect', 'all']);
  });
  test('tasks run for a choice', () => {
    const all = ['classify', 'segment', 'detect'] as const;
    expect(tasksFor('all', all)).toEqual(['classify', 'segment', 'detect']);
    expect(tasksFor('detect', all)).toEqual(['classify', 'detect']);
    expect(tasksFor('segment', ['classify'])).toEqual(['classify']);
    expect(tasksFor('classify', all)).toEqual(['classify']);
  });
});

describe('box → overlay coordinates', () => {
  const box = { x0: 10, y0: 20, x1: 30, y1: 60 };
  test('scales input pixels to the display', () => {
    expect(boxToOverlay(box, 128, 128, 256, 256, false)).toEqual({ x: 20, y: 40, w: 40, h: 80 });
  });
  test('mirrored: flipped horizontally, same size and row', () => {
    expect(boxToOverlay(box, 128, 128, 256, 256, true)).toEqual({ x: (128 - 30) * 2, y: 40, w: 40, h: 80 });
    // A box touching the left edge ends up touching the right edge.
    const b = boxToOverlay({ x0: 0, y0: 0, x1: 16, y1: 16 }, 64, 64, 64, 64, true);
    expect(b.x + b.w).toBe(64);
  });
  test('non-square display', () => {
    expect(boxToOverlay(box, 128, 128, 128, 64, false)).toEqual({ x: 10, y: 10, w: 20, h: 20 });
  });
});

describe('mask colouring', () => {
  test('background transparent, classes in their colour at the opacity', () => {
    const rgba = colorMask(new Uint8Array([0, 1, 3]), 0.5);
    expect([...rgba.slice(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...rgba.slice(4, 8)]).toEqual([...classColor(0), 128]);
    expect([...rgba.slice(8, 12)]).toEqual([...classColor(2), 128]);
  });
  test('segmentation class c and detection class c − 1 share a colour (same digit)', () => {
    expect(classCss(4, true)).toBe(classCss(3, false));
    expect(classCss(0, true)).toBe('rgba(0,0,0,0)');
  });
  test('opacity is clamped', () => {
    expect(colorMask(new Uint8Array([1]), 2)[3]).toBe(255);
    expect(colorMask(new Uint8Array([1]), -1)[3]).toBe(0);
  });
  test('mirroring flips rows', () => {
    const img = new Uint8ClampedArray([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]); // 2×2
    expect([...mirrorRgba(img, 2, 2)]).toEqual([2, 2, 2, 2, 1, 1, 1, 1, 4, 4, 4, 4, 3, 3, 3, 3]);
  });
});

describe('head neurons in the stage grouping', () => {
  test('FPN, segmentation head and detection head groups, after the classifier', () => {
    const names = ['block4.1.mlp.fc2_lif', 'lif', 'fpn.lateral.0.lif', 'fpn.output.2.lif', 'seg_head.scale_heads.2.1.lif', 'seg_head.cls_lif', 'det_head.stem.lif', 'det_head.out_lif'];
    expect(groupByStage(names, (n) => n).map((g) => [g.title, g.layers.length])).toEqual([
      ['Stage 4 · transformer', 1], ['Head', 1], ['FPN', 2], ['Segmentation head', 2], ['Detection head', 2],
    ]);
    expect(stageOf('det_head.out_lif')).toBe('det');
    expect(roleOf('fpn.lateral.1.lif')).toBe('fpn.lateral.1 conv input');
  });
});
