import { describe, expect, test } from 'vitest';
import { classifyClassNames, classifyLabels, noDigitIndex } from '../../src/model/classNames.ts';
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
});
