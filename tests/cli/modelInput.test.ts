/**
 * `infer` takes the input size and crop from the model file (`spikeformer.tasks`), `--size`
 * overrides them, `info` prints them; and `infer --input <folder>` classifies every image of a
 * folder into `predictions.jsonl`. On the built-in digits model and its fixtures.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { readNpy } from '../../src/io/npy.ts';
import { defaultConfig } from '../../src/model/config.ts';
import { inputForTasks, inputsFromMetadata } from '../../src/model/inputSpec.ts';
import { cli } from '../helpers/cli.ts';
import { digitsCase, DIGITS_FIXTURES, DIGITS_MODEL } from '../helpers/digitsFixtures.ts';
import { maxAbsDiff, referencePath } from '../helpers/reference.ts';
import { randomStateDict } from '../helpers/randomCheckpoint.ts';

const work = mkdtempSync(join(tmpdir(), 'spikeformer-input-'));
const digitPng = (name: string) => join(DIGITS_FIXTURES, name, 'image.png');
const top1Of = (logits: Float32Array) => logits.indexOf(Math.max(...logits));

/** The PNG scaled up ×`f` by repeating pixels, inside a white border of `border` pixels. */
function enlarged(path: string, f: number, border: number): Buffer {
  const src = PNG.sync.read(readFileSync(path));
  const w = src.width * f + 2 * border, h = src.height * f + 2 * border;
  const out = new PNG({ width: w, height: h });
  out.data.fill(255);
  for (let y = 0; y < src.height * f; y++) {
    for (let x = 0; x < src.width * f; x++) {
      const s = ((y / f | 0) * src.width + (x / f | 0)) * 4, d = ((y + border) * w + x + border) * 4;
      for (let k = 0; k < 4; k++) out.data[d + k] = src.data[s + k];
    }
  }
  return PNG.sync.write(out);
}

describe('the input a model file declares', () => {
  it('is read from spikeformer.tasks; a dense task wins over classification', () => {
    const inputs = inputsFromMetadata({ 'spikeformer.tasks': JSON.stringify({ classify: { input: [64, 64] }, detect: { input: [128, 96] }, segment: { input: [7, 7] } }) });
    expect(inputs).toEqual({ classify: { height: 64, width: 64, crop: 'centre-square' }, detect: { height: 128, width: 96, crop: 'centre-square' } });
    expect(inputForTasks(inputs, ['classify'])).toEqual(inputs.classify);
    expect(inputForTasks(inputs, ['classify', 'detect'])).toEqual(inputs.detect);
    expect(inputForTasks(inputs, ['classify', 'segment'])).toBeUndefined();
    expect(inputsFromMetadata({})).toEqual({});
    expect(inputsFromMetadata({ 'spikeformer.tasks': '{not json' })).toEqual({});
  });

  it('info prints it, or says that none is declared', async () => {
    const digits = await cli('info', DIGITS_MODEL);
    expect(digits.stdout).toContain('input:       classify 64×64, segment 128×128, detect 128×128 (centre square of the image, resized)');
    const official = await cli('info', referencePath('metaspikformer-tiny-t1', 'checkpoint.pth'));
    expect(official.stdout).toContain('input:       none declared: images get the official crop (shorter side 256, centre 224×224)');
  });

  it('infer classifies a 64×64 digit PNG at 64×64 without --size, exactly as the fixture', async () => {
    const ref = digitsCase('digit-a');
    const out = join(work, 'digit-a');
    const r = await cli('infer', '--weights', DIGITS_MODEL, '--input', digitPng('digit-a'), '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^cpu: input 64x64, T=2, top-1 class ${top1Of(ref.logits)},`));
    expect(maxAbsDiff(readNpy(readFileSync(join(out, 'logits.npy'))).data as Float32Array, ref.logits)).toBeLessThan(1e-4);
  });

  it('a larger photo is cut to its centre square and resized to 64×64; --size overrides it', async () => {
    const photo = join(work, 'photo.png');
    writeFileSync(photo, enlarged(digitPng('digit-a'), 4, 32)); // 320×320, the digit in the middle 256×256
    const declared = await cli('infer', '--weights', DIGITS_MODEL, '--input', photo, '--out', join(work, 'photo'));
    expect(declared.code, declared.stderr).toBe(0);
    expect(declared.stdout).toMatch(new RegExp(`^cpu: input 64x64, T=2, top-1 class ${top1Of(digitsCase('digit-a').logits)},`));
    const sized = await cli('infer', '--weights', DIGITS_MODEL, '--input', photo, '--out', join(work, 'photo-96'), '--size', '96x96');
    expect(sized.code, sized.stderr).toBe(0);
    expect(sized.stdout).toMatch(/^cpu: input 96x96,/);
  });
});

describe('infer --input <folder>', () => {
  it('writes one JSON line per image, in name order, with the top 5 and a line of images per second', async () => {
    const folder = join(work, 'photos');
    mkdirSync(folder);
    copyFileSync(digitPng('digit-a'), join(folder, 'a.png'));
    copyFileSync(digitPng('digit-b'), join(folder, 'b.PNG'));
    writeFileSync(join(folder, 'c.jpg'), 'not a jpeg');
    writeFileSync(join(folder, 'notes.txt'), 'not an image');
    const out = join(work, 'folder-out');
    const r = await cli('infer', '--weights', DIGITS_MODEL, '--input', folder, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^cpu: 3 images at 64x64 in [\d.]+ s \([\d.]+ images\/s\) → .*predictions\.jsonl$/);

    const lines = readFileSync(join(out, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual(['a.png', 'b.PNG', 'c.jpg']);
    for (const [line, name] of [[lines[0], 'digit-a'], [lines[1], 'digit-b']] as const) {
      expect(line.top5).toHaveLength(5);
      expect(line.top5[0].label).toBe(String(top1Of(digitsCase(name).logits)));
      const p = line.top5.map((t: { probability: number }) => t.probability);
      expect(p).toEqual([...p].sort((x, y) => y - x));
      expect(p.reduce((a: number, b: number) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-5);
      // the built-in model has the 'no digit' class: its probability, and the answer by the file's rule
      expect(line.no_digit).toBeGreaterThanOrEqual(0);
      expect(line.no_digit).toBeLessThanOrEqual(1);
      expect(line.answer).toBe(line.top5[0].label);
    }
    expect(lines[2]).toEqual({ file: 'c.jpg', error: expect.stringMatching(/c\.jpg/) });
  });

  it("adds no_digit, the probability of a class named 'no digit', where the model has one", async () => {
    const config = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 11, timeSteps: 1, depths: [1, 1] });
    const names = ['no digit', ...Array.from({ length: 10 }, (_, i) => String(i))];
    const weights = join(work, 'eleven.safetensors');
    const tasks = { classify: { input: [32, 32], classNames: names } };
    const chunks = writeSafetensors(randomStateDict(config, 9), { 'spikeformer.tasks': JSON.stringify(tasks) });
    writeFileSync(weights, Buffer.concat(chunks));
    const folder = join(work, 'one');
    mkdirSync(folder);
    copyFileSync(digitPng('digit-a'), join(folder, 'a.png'));
    const r = await cli('infer', '--weights', weights, '--input', folder, '--out', join(work, 'one-out'));
    expect(r.code, r.stderr).toBe(0);
    const line = JSON.parse(readFileSync(join(work, 'one-out', 'predictions.jsonl'), 'utf8'));

    // The same image alone: its logits give the probability of class 0, 'no digit'.
    const single = await cli('infer', '--weights', weights, '--input', join(folder, 'a.png'), '--out', join(work, 'one-single'));
    expect(single.code, single.stderr).toBe(0);
    const logits = readNpy(readFileSync(join(work, 'one-single', 'logits.npy'))).data as Float32Array;
    const exp = Array.from(logits, (v) => Math.exp(v - Math.max(...logits)));
    expect(line.no_digit).toBeCloseTo(exp[0] / exp.reduce((a, b) => a + b, 0), 5);
    expect(line.top5.map((t: { label: string }) => t.label).every((l: string) => names.includes(l))).toBe(true);
    expect(line.answer).toBe(line.top5[0].label); // no threshold in this file: the top class
  });

  it('answers "no digit" by the file\'s threshold: a top class under classify.noDigitBelow', async () => {
    const config = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 11, timeSteps: 1, depths: [1, 1] });
    const names = [...Array.from({ length: 10 }, (_, i) => String(i)), 'no digit'];
    const folder = join(work, 'threshold');
    mkdirSync(folder);
    copyFileSync(digitPng('digit-a'), join(folder, 'a.png'));
    const answers: string[] = [];
    for (const noDigitBelow of [0, 1]) {
      const weights = join(work, `threshold-${noDigitBelow}.safetensors`);
      const tasks = { classify: { input: [32, 32], classNames: names, noDigitBelow } };
      writeFileSync(weights, Buffer.concat(writeSafetensors(randomStateDict(config, 9), { 'spikeformer.tasks': JSON.stringify(tasks) })));
      const r = await cli('infer', '--weights', weights, '--input', folder, '--out', join(work, `threshold-out-${noDigitBelow}`));
      expect(r.code, r.stderr).toBe(0);
      answers.push(JSON.parse(readFileSync(join(work, `threshold-out-${noDigitBelow}`, 'predictions.jsonl'), 'utf8')).answer);
      const single = await cli('infer', '--weights', weights, '--input', join(folder, 'a.png'), '--out', join(work, `threshold-single-${noDigitBelow}`));
      expect(single.stdout).toContain(`answer "${answers.at(-1)}"`);
      if (noDigitBelow === 1) {
        const info = await cli('info', weights);
        expect(info.stdout).toMatch(/answers "no digit" when that class is on top or the top class is under 1/);
      }
    }
    // at threshold 0 the answer is the top class (random weights: any of the 11); at 1 nothing clears it
    expect(names).toContain(answers[0]);
    expect(answers[1]).toBe('no digit');
  });

  it('refuses a dense task or spike dumps on a folder, in one line', async () => {
    const r = await cli('infer', '--weights', DIGITS_MODEL, '--input', DIGITS_FIXTURES, '--out', join(work, 'x'), '--task', 'detect');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/is a folder: it is classified image by image/);
  });
});
