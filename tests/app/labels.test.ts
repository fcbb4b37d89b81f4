import { describe, expect, test } from 'vitest';
import imagenet from '../../src/app/labels/imagenet.json';
import { labelSetFor } from '../../src/app/logic/labels.ts';

describe('label lookup', () => {
  test('MNIST digits: 10 names "0".."9"', () => {
    const l = labelSetFor('mnist-digits', 10);
    expect(l.named).toBe(true);
    expect(l.description).toBe('MNIST digits');
    expect(Array.from({ length: 10 }, (_, i) => l.name(i))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(l.name(10)).toBe('class 10');
  });

  test('ImageNet-1k: 1000 names in class order, by label set or for any unnamed 1000-class model', () => {
    expect(imagenet).toHaveLength(1000);
    // ImageNet-1k's one duplicate name: "crane" is both a bird (134) and a machine (517).
    expect(new Set(imagenet).size).toBe(999);
    expect([imagenet[134], imagenet[517]]).toEqual(['crane', 'crane']);
    for (const l of [labelSetFor('imagenet-1k', 1000), labelSetFor(null, 1000)]) {
      expect(l.description).toBe('ImageNet-1k');
      expect(l.name(0)).toBe('tench, Tinca tinca');
      expect(l.shortName(1)).toBe('goldfish');
      expect(l.shortName(999)).toBe('toilet tissue');
      expect(l.name(1000)).toBe('class 1000');
    }
  });

  test('anything else: "class N", saying why', () => {
    const unknown = labelSetFor('cifar-10', 10);
    expect(unknown.named).toBe(false);
    expect(unknown.name(3)).toBe('class 3');
    expect(unknown.description).toMatch(/cifar-10/);
    expect(labelSetFor(null, 7).shortName(6)).toBe('class 6');
    // A digits label set on a model that does not have 10 classes is not trusted.
    expect(labelSetFor('mnist-digits', 12).named).toBe(false);
    expect(labelSetFor('imagenet-1k', 100).named).toBe(false);
  });
});
