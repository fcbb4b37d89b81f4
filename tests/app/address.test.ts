/**
 * Links that open the same view (issue #22 point 4): the address holds the backend, the size, the
 * model (random weights or a URL), the task, and the spike map's layer, channel and time step;
 * `addressFor` writes what `readParams` reads. And the page's keys (space, the right arrow).
 */
import { describe, expect, test } from 'vitest';
import { TINY_CONFIG } from '../../src/app/engine/builtinModel.ts';
import type { AppModel } from '../../src/app/engine/types.ts';
import { pageKey } from '../../src/app/hooks/useKeyboard.ts';
import { addressFor, DEFAULT_LAYER, DEFAULT_PICKS, initialPicks, readParams } from '../../src/app/logic/view.ts';

const model = (o: Partial<AppModel>): AppModel => ({ id: 'builtin:digits-tiny', name: 'm', config: TINY_CONFIG, weights: new Map(), trained: true, ...o });
const URL_MODEL = 'https://example.org/models/tiny.safetensors?v=2';

describe('the address restores the view', () => {
  test('a full link reads back into the same picks, and writes back the same', () => {
    const search = `?backend=webgpu&size=48&model=${encodeURIComponent(URL_MODEL)}&task=detect&layer=block3.0.attn.q_lif&channel=5&t=1`;
    const params = readParams(search);
    expect(params).toMatchObject({ backend: 'webgpu', size: 48, modelUrl: URL_MODEL, randomOnly: false, task: 'detect', layer: 'block3.0.attn.q_lif', channel: 5, t: 1 });
    const picks = initialPicks(params);
    expect(picks).toEqual({ ...DEFAULT_PICKS, layer: 'block3.0.attn.q_lif', channel: 5, t: 1 });
    // While the model loads the address keeps its own; once it runs, the model's URL.
    expect(addressFor({ params, model: null, task: params.task, picks })).toBe(search);
    expect(addressFor({ params, model: model({ id: 'cache:x', url: URL_MODEL }), task: params.task, picks })).toBe(search);
  });

  test('defaults are left out; random weights are "random"; a model opened from disk is not in the link', () => {
    const params = readParams('');
    expect(params).toMatchObject({ modelUrl: null, layer: null, channel: 'sum', t: 0 });
    expect(initialPicks(params).layer).toBe(DEFAULT_LAYER);
    expect(addressFor({ params, model: model({}), task: 'classify', picks: DEFAULT_PICKS })).toBe('');
    expect(addressFor({ params, model: model({ id: 'random:tiny:1' }), task: 'classify', picks: DEFAULT_PICKS })).toBe('?model=random');
    expect(addressFor({ params, model: model({ id: 'cache:abc' }), task: 'all', picks: { ...DEFAULT_PICKS, t: 1 } })).toBe('?task=all&t=1');
    expect(addressFor({ params: readParams('?model=random'), model: null, task: 'classify', picks: DEFAULT_PICKS })).toBe('?model=random');
  });

  test('what is not a model URL, a channel or a time step is ignored', () => {
    expect(readParams('?model=javascript:alert(1)&channel=-3&t=x&layer=')).toMatchObject({ modelUrl: null, randomOnly: false, channel: 'sum', t: 0, layer: null });
  });
});

describe('keys', () => {
  const on = (selector: string | null) => ({ closest: (s: string) => (selector && s.split(', ').includes(selector) ? {} : null) }) as unknown as EventTarget;
  test('space pauses or resumes, the right arrow steps, on the page', () => {
    expect(pageKey(' ', on(null), false)).toBe('toggle');
    expect(pageKey('ArrowRight', on(null), false)).toBe('step');
    expect(pageKey('ArrowLeft', on(null), false)).toBeNull();
    expect(pageKey(' ', null, false)).toBe('toggle');
  });

  test('keys typed into a control, or with a modifier, are left alone', () => {
    for (const control of ['button', 'select', 'input', '[tabindex]']) expect(pageKey(' ', on(control), false)).toBeNull();
    expect(pageKey('ArrowRight', on('[tabindex]'), false)).toBeNull();
    expect(pageKey('ArrowRight', on(null), true)).toBeNull();
  });
});
