import { describe, expect, test } from 'vitest';
import { classifyAnswer, classifyAnswerInfo, classifyClassNames, classifyLabels, noDigitIndex, noDigitThreshold } from '../../src/model/classNames.ts';
import { defaultConfig } from '../../src/model/config.ts';

describe('the classifier\'s class names from spikeformer.tasks (shared by the CLI and the app)', () => {
  const meta = (names: unknown) => ({ 'spikeformer.tasks': JSON.stringify({ classify: { classNames: names } }) });
  test('the names when there is one per class; else null (the CLI: the indices)', () => {
    expect(classifyClassNames(meta(['a', 'b']), 2)).toEqual(['a', 'b']);
    expect(classifyClassNames(meta(['a']), 2)).toBeNull();
    expect(classifyClassNames(meta([1, 2]), 2)).toBeNull();
    expect(classifyClassNames({ 'spikeformer.tasks': '{not json' }, 2)).toBeNull();
    const config = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 3 });
    expect(classifyLabels({ config, checkpoint: { metadata: {} } as never })).toEqual(['0', '1', '2']);
    expect(classifyLabels({ config, checkpoint: { metadata: meta(['x', 'y', 'no_digit']) } as never })).toEqual(['x', 'y', 'no_digit']);
  });

  test('"no digit" in its spellings', () => {
    expect(noDigitIndex(['0', 'no digit'])).toBe(1);
    expect(noDigitIndex(['NoDigit'])).toBe(0);
    expect(noDigitIndex(['no-digit', 'x'])).toBe(0);
    expect(noDigitIndex(['digit', 'no digits'])).toBe(-1);
  });

  test('the no-digit threshold: read from classify.noDigitBelow, only in [0, 1], only for a model with that class', () => {
    const tasks = (classify: unknown) => ({ 'spikeformer.tasks': JSON.stringify({ classify }) });
    expect(noDigitThreshold(tasks({ noDigitBelow: 0.55 }))).toBe(0.55);
    expect(noDigitThreshold(tasks({ noDigitBelow: 1.5 }))).toBeUndefined();
    expect(noDigitThreshold(tasks({ noDigitBelow: '0.5' }))).toBeUndefined();
    expect(noDigitThreshold({})).toBeUndefined();
    expect(classifyAnswerInfo(tasks({ classNames: ['0', '1', 'no digit'], noDigitBelow: 0.6 }), 3)).toEqual({ classNames: ['0', '1', 'no digit'], noDigitBelow: 0.6 });
    // a threshold without a "no digit" class means nothing: dropped
    expect(classifyAnswerInfo(tasks({ classNames: ['0', '1', '2'], noDigitBelow: 0.6 }), 3)).toEqual({ classNames: ['0', '1', '2'] });
    expect(classifyAnswerInfo({}, 3)).toEqual({});
  });

  test('the answer: the top class, or "no digit" when that class is on top or the top class is under the threshold', () => {
    const names = ['0', '1', 'no digit'];
    expect(classifyAnswer([0.7, 0.2, 0.1], names, 0.6)).toEqual({ index: 0, noDigit: false });
    expect(classifyAnswer([0.55, 0.4, 0.05], names, 0.6)).toEqual({ index: 2, noDigit: true });
    expect(classifyAnswer([0.55, 0.4, 0.05], names)).toEqual({ index: 0, noDigit: false });
    expect(classifyAnswer([0.2, 0.3, 0.5], names)).toEqual({ index: 2, noDigit: true });
    // a model without the class always answers its top class
    expect(classifyAnswer([0.4, 0.35, 0.25], ['a', 'b', 'c'], 0.9)).toEqual({ index: 0, noDigit: false });
  });
});
