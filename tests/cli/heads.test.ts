/**
 * `spikeformer infer --task detect|segment|all` end to end on a digits fixture scene (boxes.json,
 * mask.png, seg_logits.npy against the PyTorch reference), and the one-line errors.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectOneLineError } from '../helpers/cli.ts';
import { readNpy } from '../../src/io/npy.ts';
import { iou } from '../../src/tasks/index.ts';
import { digitsCase, digitsCases, DIGITS_FIXTURES, DIGITS_MODEL, readPngGrey } from '../helpers/digitsFixtures.ts';
import { maxAbsDiff, referencePath } from '../helpers/reference.ts';

const work = mkdtempSync(join(tmpdir(), 'spikeformer-heads-cli-'));

describe('spikeformer infer --task', () => {
  it('says so in one line when the checkpoint has no such head, or the task is unknown', async () => {
    const weights = referencePath('metaspikformer-tiny-t1', 'checkpoint.pth');
    const input = referencePath('metaspikformer-tiny-t1', 'cat', 'input.npy');
    const out = join(work, 'none');
    expectOneLineError(await cli('infer', '--weights', weights, '--input', input, '--out', out, '--task', 'segment'),
      /--task segment: the checkpoint has no segmentation head \(seg_head\.\* tensors\)/);
    expectOneLineError(await cli('infer', '--weights', weights, '--input', input, '--out', out, '--task', 'detect'), /no detection head/);
    expectOneLineError(await cli('infer', '--weights', weights, '--input', input, '--out', out, '--task', 'pose'), /unknown task "pose"/);
    expect(existsSync(join(out, 'logits.npy'))).toBe(false);
  });

  const scene = digitsCases('scene')[0];
  // cpu: CPU decoding of the maps (written with --save-logits); webgpu (Dawn): boxes and mask decoded
  // on the GPU, maps not read back.
  for (const [backend, saveLogits] of [['cpu', true], ['webgpu', false]] as const) {
    it(`--backend ${backend}: detect + segment on ${scene} (image.png at its own size) match the reference`, async () => {
      const ref = digitsCase(scene);
      const out = join(work, `${scene}-${backend}`);
      const r = await cli('infer', '--weights', DIGITS_MODEL, '--input', join(DIGITS_FIXTURES, scene, 'image.png'), '--out', out,
        '--task', 'all', '--backend', backend, ...(saveLogits ? ['--save-logits'] : []));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/error/i); // (Dawn on SwiftShader prints a Vulkan feature warning)
      expect(r.stdout).toMatch(/input 128x128, T=2, .* \d+ box(es)?.*; mask of \d+ class/);
      const boxes = JSON.parse(readFileSync(join(out, 'boxes.json'), 'utf8')).boxes as { class: number; label: string; score: number; x0: number; y0: number; x1: number; y1: number; cell: number[] }[];
      expect(boxes.map((b) => [b.class, ...b.cell])).toEqual(ref.boxes!.map((b) => [b.class, ...b.cell]));
      expect(boxes.map((b) => b.label)).toEqual(ref.boxes!.map((b) => b.label));
      boxes.forEach((b, i) => expect(iou(b, ref.boxes![i])).toBeGreaterThanOrEqual(0.99));
      const mask = readPngGrey(join(out, 'mask.png'));
      expect([mask.height, mask.width]).toEqual([128, 128]);
      let agree = 0;
      mask.data.forEach((v, i) => { if (v === ref.mask![i]) agree++; });
      expect(agree / mask.data.length).toBeGreaterThanOrEqual(0.995);
      if (saveLogits) {
        const seg = readNpy(readFileSync(join(out, 'seg_logits.npy')));
        expect(seg.shape).toEqual([1, 11, 32, 32]);
        expect(maxAbsDiff(seg.data as Float32Array, ref.segLogits!)).toBeLessThan(1e-4);
        expect(readNpy(readFileSync(join(out, 'det_heatmap.npy'))).shape).toEqual([1, 10, 32, 32]);
      } else {
        expect(existsSync(join(out, 'seg_logits.npy'))).toBe(false);
      }
      const spikes = JSON.parse(readFileSync(join(out, 'spikes.json'), 'utf8'));
      expect(spikes.tasks).toEqual(['classify', 'segment', 'detect']);
      expect(spikes.layers.map((l: { ones: number }) => l.ones)).toEqual(ref.spikes.layers.map((l) => l.ones));
      // The summary line: per-stage rates from the same counts, and the energy estimate.
      const rate = (re: RegExp) => {
        const ls = (spikes.layers as { name: string; ones: number; total: number }[]).filter((l) => re.test(l.name));
        return (100 * ls.reduce((a, l) => a + l.ones, 0) / ls.reduce((a, l) => a + l.total, 0)).toFixed(1);
      };
      expect(r.stdout).toContain(`firing rate by stage: Stage 1 ${rate(/^(ConvBlock1_|downsample1_)/)}%, Stage 2 ${rate(/^(ConvBlock2_|downsample2\.)/)}%`);
      expect(r.stdout).toContain(`FPN ${rate(/^fpn\./)}%, Segmentation head ${rate(/^seg_head\./)}%, Detection head ${rate(/^det_head\./)}%`);
      expect(r.stdout).toMatch(/energy \(paper's 45 nm formula\): [\d.]+ µJ \([\d.]+ M SOPs \+ [\d.]+ M stem MACs\) vs [\d.]+ mJ for an ANN/);
    });
  }

  it('classify on the digits model runs the backbone and its head only', async () => {
    const out = join(work, 'classify');
    const r = await cli('infer', '--weights', DIGITS_MODEL, '--input', join(DIGITS_FIXTURES, scene, 'input.npy'), '--out', out);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'boxes.json')) || existsSync(join(out, 'mask.png'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'spikes.json'), 'utf8')).layers.length).toBe(77);
  });
});
