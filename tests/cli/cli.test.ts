/**
 * The `spikeformer` command end to end, as a user runs it (`node bin/spikeformer.mjs …`).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliWithEnv, expectOneLineError } from '../helpers/cli.ts';
import { bytesSource } from '../../src/io/byteSource.ts';
import { readNpy } from '../../src/io/npy.ts';
import { readCheckpoint } from '../../src/checkpoint/index.ts';
import { openFileSource } from '../../src/io/nodeFileSource.ts';
import { defaultConfig } from '../../src/model/config.ts';
import { maxAbsDiff, referenceCase, referencePath } from '../helpers/reference.ts';
import { randomSafetensors } from '../helpers/randomCheckpoint.ts';

const work = mkdtempSync(join(tmpdir(), 'spikeformer-cli-'));

describe('spikeformer convert / info', () => {
  const t4 = referencePath('metaspikformer-tiny-t4-kd', 'checkpoint.pth');
  const out = join(work, 't4.safetensors');

  it('converts an official checkpoint with the config in the metadata and identical tensors', async () => {
    const r = await cli('convert', t4, '-o', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/827 tensors.*dims 16\/32\/64\/96, 7 classes, T=4, kd head/);
    const src = await openFileSource(t4);
    const pth = await readCheckpoint(src);
    await src.close();
    const st = await readCheckpoint(bytesSource(readFileSync(out)));
    expect(JSON.parse(st.metadata['spikeformer.config'])).toMatchObject({ embedDims: [16, 32, 64, 96], numClasses: 7, timeSteps: 4, kd: true });
    expect([...st.tensors.keys()].sort()).toEqual([...pth.tensors.keys()].sort());
    for (const [k, t] of pth.tensors) {
      expect(st.tensors.get(k)!.shape, k).toEqual(t.shape);
      expect(Buffer.from(st.tensors.get(k)!.data).equals(Buffer.from(t.data)), k).toBe(true);
    }
  });

  it('info describes the converted file and the .pth alike', async () => {
    for (const file of [out, t4]) {
      const r = await cli('info', file);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/embed dims 16, 32, 64, 96/);
      expect(r.stdout).toMatch(/classes:\s+7/);
      expect(r.stdout).toMatch(/time steps:\s+4/);
      expect(r.stdout).toMatch(/kd head:\s+yes/);
    }
  });

  it('--fp16 halves the weights and --time-steps overrides T', async () => {
    const half = join(work, 't1-half.safetensors');
    const r = await cli('convert', referencePath('metaspikformer-tiny-t1', 'checkpoint.pth'), '-o', half, '--fp16', '--time-steps', '2');
    expect(r.code).toBe(0);
    const st = await readCheckpoint(bytesSource(readFileSync(half)));
    expect(st.tensors.get('head.weight')!.dtype).toBe('float16');
    expect(st.tensors.get('downsample1_1.encode_bn.num_batches_tracked')!.dtype).toBe('int64');
    expect((await cli('info', half)).stdout).toMatch(/time steps:\s+2/);
  });

  it('refuses a non-checkpoint with one line and writes nothing', async () => {
    const junk = join(work, 'junk.pth');
    writeFileSync(junk, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
    const target = join(work, 'never.safetensors');
    expectOneLineError(await cli('convert', junk, '-o', target), /junk\.pth/);
    expect(existsSync(target)).toBe(false);
    expectOneLineError(await cli('info', join(work, 'missing.pth')), /cannot open .*missing\.pth: ENOENT/);
    expectOneLineError(await cli('convert', junk), /-o/);
  });
});

describe('spikeformer infer', () => {
  it('reproduces the reference outputs (logits, spikes.json, spikes.bin) on the cpu backend', async () => {
    const model = 'metaspikformer-tiny-t4-kd';
    const dir = join(work, 'infer-t4');
    const r = await cli('infer', '--weights', referencePath(model, 'checkpoint.pth'), '--input', referencePath(model, 'baboon', 'input.npy'),
      '--out', dir, '--dump-spikes');
    expect(r.code, r.stderr).toBe(0);
    const ref = referenceCase(model, 'baboon');
    const logits = readNpy(readFileSync(join(dir, 'logits.npy')));
    expect(logits.shape).toEqual([1, 7]);
    expect(maxAbsDiff(logits.data as Float32Array, ref.logits)).toBeLessThan(1e-4);
    const spikes = JSON.parse(readFileSync(join(dir, 'spikes.json'), 'utf8'));
    expect(spikes.top1).toBe(ref.spikes.top1);
    expect(spikes.layers).toEqual(ref.spikes.layers);
    expect(Buffer.from(readFileSync(join(dir, 'spikes.bin'))).equals(Buffer.from(ref.spikesBin))).toBe(true);
  });

  it('runs another architecture (other dims, classes, kd, T) on an image at --size', async () => {
    const config = defaultConfig({ embedDims: [24, 48, 64, 80], numClasses: 5, kd: true, depths: [2, 1], timeSteps: 2 });
    const weights = join(work, 'other.safetensors');
    writeFileSync(weights, randomSafetensors(config, 7));
    const dir = join(work, 'infer-other');
    const r = await cli('infer', '--weights', weights, '--input', referencePath('metaspikformer-tiny-t1', 'cat', 'image.png'),
      '--out', dir, '--size', '48x32', '--time-steps', '3');
    expect(r.code, r.stderr).toBe(0);
    const spikes = JSON.parse(readFileSync(join(dir, 'spikes.json'), 'utf8'));
    // 4 ConvBlocks × 4 + 4 downsampling neurons + 3 transformer blocks × 7 + the head's neuron.
    expect(spikes.layers).toHaveLength(4 * 4 + 4 + 3 * 7 + 1);
    expect(spikes.layers[0]).toMatchObject({ name: 'ConvBlock1_1.0.Conv.lif1', shape: [3, 1, 12, 24, 16] });
    expect(spikes.layers.at(-1)).toMatchObject({ name: 'lif', shape: [3, 1, 80] });
    expect(readNpy(readFileSync(join(dir, 'logits.npy'))).shape).toEqual([1, 5]);
    expect(existsSync(join(dir, 'spikes.bin'))).toBe(false);
  });

  it.each(['', 'hardware', 'software'])('--backend webgpu (Dawn for Node) reproduces the reference spike maps bit for bit (SPIKEFORMER_WEBGPU_PLAN=%s)', async (plan) => {
    const model = 'metaspikformer-tiny-t1';
    const dir = join(work, `infer-webgpu-${plan}`);
    const r = await cliWithEnv({ SPIKEFORMER_WEBGPU_PLAN: plan }, 'infer', '--backend', 'webgpu', '--weights', referencePath(model, 'checkpoint.pth'),
      '--input', referencePath(model, 'cameraman', 'input.npy'), '--out', dir, '--dump-spikes');
    expect(r.code, r.stderr).toBe(0);
    const ref = referenceCase(model, 'cameraman');
    const spikes = JSON.parse(readFileSync(join(dir, 'spikes.json'), 'utf8'));
    expect(spikes.backend).toMatch(plan ? new RegExp(`^webgpu \\(.*, ${plan} plan\\)$`) : /^webgpu \((?!.*plan\))/);
    expect(spikes.layers).toEqual(ref.spikes.layers);
    expect(Buffer.from(readFileSync(join(dir, 'spikes.bin'))).equals(Buffer.from(ref.spikesBin))).toBe(true);
    expect(maxAbsDiff(readNpy(readFileSync(join(dir, 'logits.npy'))).data as Float32Array, ref.logits)).toBeLessThan(1e-4);
  });

  it('--backend webgpu matches --backend cpu on another architecture', async () => {
    const config = defaultConfig({ embedDims: [24, 48, 64, 80], numClasses: 6, kd: true, depths: [1, 1], timeSteps: 3 });
    const weights = join(work, 'other-webgpu.safetensors');
    writeFileSync(weights, randomSafetensors(config, 11));
    const image = referencePath('metaspikformer-tiny-t1', 'baboon', 'image.png');
    const outs = [];
    for (const backend of ['cpu', 'webgpu']) {
      const dir = join(work, `other-${backend}`);
      const r = await cli('infer', '--backend', backend, '--weights', weights, '--input', image, '--out', dir, '--size', '32x48', '--dump-spikes');
      expect(r.code, r.stderr).toBe(0);
      outs.push({
        spikes: JSON.parse(readFileSync(join(dir, 'spikes.json'), 'utf8')),
        bin: readFileSync(join(dir, 'spikes.bin')),
        logits: readNpy(readFileSync(join(dir, 'logits.npy'))).data as Float32Array,
      });
    }
    expect(outs[1].spikes.layers).toEqual(outs[0].spikes.layers);
    expect(outs[1].bin.equals(outs[0].bin)).toBe(true);
    expect(maxAbsDiff(outs[1].logits, outs[0].logits)).toBeLessThan(1e-4);
  });

  it('gives one-line errors for bad arguments and inputs', async () => {
    const weights = referencePath('metaspikformer-tiny-t1', 'checkpoint.pth');
    const input = referencePath('metaspikformer-tiny-t1', 'cat', 'input.npy');
    const out = join(work, 'bad');
    expectOneLineError(await cli('infer', '--weights', weights, '--input', input, '--out', out, '--size', '30x30'), /multiples of 16/);
    expectOneLineError(await cli('infer', '--weights', weights, '--input', input, '--out', out, '--backend', 'tpu'), /unknown backend "tpu"/);
    expectOneLineError(await cli('infer', '--weights', weights, '--input', input, '--out', out, '--time-steps', 'x'), /--time-steps/);
    expectOneLineError(await cli('infer', '--weights', weights, '--input', referencePath('metaspikformer-tiny-t1', 'config.json'), '--out', out), /unsupported image format/);
    expectOneLineError(await cli('infer', '--weights', input, '--input', input, '--out', out), /input\.npy/);
    expectOneLineError(await cli('bogus'), /unknown command "bogus"/);
  });
});
