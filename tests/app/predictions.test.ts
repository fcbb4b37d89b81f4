import { describe, expect, test } from 'vitest';
import { labelSetFor } from '../../src/app/logic/labels.ts';
import { formatProbability, softmax, topK, UNCERTAIN_BELOW, verdict } from '../../src/app/logic/predictions.ts';

describe('softmax', () => {
  test('sums to 1 and keeps the order of the logits', () => {
    const p = softmax([1, 3, 2, -1]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[1]).toBeGreaterThan(p[2]);
    expect(p[2]).toBeGreaterThan(p[0]);
    expect(p[0]).toBeCloseTo(Math.exp(1) / (Math.exp(1) + Math.exp(3) + Math.exp(2) + Math.exp(-1)), 12);
  });

  test('does not overflow on large logits', () => {
    const p = softmax(new Float32Array([1000, 999, -1000]));
    expect(Number.isFinite(p[0])).toBe(true);
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(p[2]).toBe(0);
  });

  test('equal logits give equal probabilities; empty input gives nothing', () => {
    expect(Array.from(softmax([2, 2, 2, 2]))).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(softmax([]).length).toBe(0);
  });
});

describe('topK', () => {
  const digits = labelSetFor('mnist-digits', 10);

  test('the five most probable classes, most probable first, with names', () => {
    const probs = softmax([0.1, 0.5, 3, 0.2, 2, 0.3, 1, 0.4, 0, -1]);
    const top = topK(probs, 5, digits);
    expect(top.map((p) => p.classIndex)).toEqual([2, 4, 6, 1, 7]);
    expect(top.map((p) => p.label)).toEqual(['2', '4', '6', '1', '7']);
    expect(top[0].probability).toBeCloseTo(probs[2], 12);
  });

  test('ties keep the lower class first; k larger than the classes gives them all', () => {
    const top = topK([0.25, 0.25, 0.25, 0.25], 10, labelSetFor(null, 4));
    expect(top.map((p) => p.classIndex)).toEqual([0, 1, 2, 3]);
    expect(top[0].label).toBe('class 0');
  });

  test('ImageNet labels: short name first synonym, full label kept', () => {
    const logits = new Float32Array(1000);
    logits[0] = 5;
    const [first] = topK(softmax(logits), 5, labelSetFor('imagenet-1k', 1000));
    expect(first.label).toBe('tench');
    expect(first.fullLabel).toBe('tench, Tinca tinca');
  });
});

test('formatProbability', () => {
  expect(formatProbability(0.9731)).toBe('97.3 %');
  expect(formatProbability(0.0004)).toBe('<0.1 %');
  expect(formatProbability(0)).toBe('0.0 %');
});

describe('how far to trust the top class', () => {
  const labels = labelSetFor(null, 3, ['3', '7', 'no digit']);
  test('under 0.5 is uncertain; the model\'s "no digit" class is said as such', () => {
    expect(UNCERTAIN_BELOW).toBe(0.5);
    expect(verdict(topK([0.49, 0.3, 0.21], 3, labels))).toEqual({ uncertain: true, noDigit: false });
    expect(verdict(topK([0.5, 0.3, 0.2], 3, labels))).toEqual({ uncertain: false, noDigit: false });
    expect(verdict(topK([0.1, 0.1, 0.8], 3, labels))).toEqual({ uncertain: false, noDigit: true });
    expect(verdict([])).toEqual({ uncertain: false, noDigit: false });
    // the model's threshold (classify.noDigitBelow): a top digit under it is "no digit", and says why
    expect(verdict(topK([0.6, 0.3, 0.1], 3, labels), 0.65)).toEqual({ uncertain: false, noDigit: true, noDigitBelow: 0.65 });
    expect(verdict(topK([0.7, 0.2, 0.1], 3, labels), 0.65)).toEqual({ uncertain: false, noDigit: false });
    expect(verdict(topK([0.1, 0.1, 0.8], 3, labels), 0.65)).toEqual({ uncertain: false, noDigit: true });
  });

  test('the file\'s class names win where they say more than the label set', () => {
    expect(labels.name(2)).toBe('no digit');
    expect(labels.description).toBe("the model file's class names");
    // The digits' own names: the label set's description stays.
    expect(labelSetFor('mnist-digits', 10, '0123456789'.split('')).description).toBe('MNIST digits');
    // A wrong count is ignored.
    expect(labelSetFor('mnist-digits', 10, ['a']).description).toBe('MNIST digits');
  });
});
