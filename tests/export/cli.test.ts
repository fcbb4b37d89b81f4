/**
 * `spikeformer export-onnx` and `spikeformer infer --backend onnx-wasm|onnx-webgpu`, end to end as a user runs
 * them (`node bin/spikeformer.mjs …`).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { cli, expectOneLineError } from '../helpers/cli.ts';
import { readNpy } from '../../src/io/npy.ts';
import { defaultConfig } from '../../src/model/config.ts';
import { maxAbsDiff, referencePath } from '../helpers/reference.ts';
import { randomSafetensors } from '../helpers/randomCheckpoint.ts';
import { SWIFTSHADER_ICD } from '../../src/runtime/webgpu/nodeWebGpu.ts';

const work = mkdtempSync(join(tmpdir(), 'spikeformer-onnx-cli-'));

describe('spikeformer export-onnx', () => {
  it('writes a model ONNX Runtime loads, at --size and --time-steps, and leaves no temp file', async () => {
    const dir = join(work, 'export');
    const out = join(dir, 't1.onnx');
    const r = await cli('export-onnx', referencePath('metaspikformer-tiny-t1', 'checkpoint.pth'), '-o', out, '--size', '64x96', '--time-steps', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/opset 17.*input \[1,3,64,96\], T=2, outputs logits \[1,10\] and 77 spike counts \[2\]/);
    expect(readdirSync(dir)).toEqual(['t1.onnx']);
    const session = await ortNode.InferenceSession.create(readFileSync(out));
    try {
      const result = await session.run({ input: new ortNode.Tensor('float32', new Float32Array(3 * 64 * 96).fill(0.5), [1, 3, 64, 96]) });
      expect(result.logits.dims).toEqual([1, 10]);
      expect(result['spikes/block4.1.mlp.fc2_lif'].dims).toEqual([2]);
    } finally {
      await session.release();
    }
  });

  it('gives one-line errors and writes nothing on bad arguments', async () => {
    const weights = referencePath('metaspikformer-tiny-t1', 'checkpoint.pth');
    const target = join(work, 'never.onnx');
    expectOneLineError(await cli('export-onnx', weights), /-o/);
    expectOneLineError(await cli('export-onnx', weights, '-o', target, '--size', '100x100'), /multiples of 16/);
    expectOneLineError(await cli('export-onnx', join(work, 'missing.pth'), '-o', target), /cannot open .*missing\.pth: ENOENT/);
    expect(existsSync(target)).toBe(false);
  });
});

describe('spikeformer infer --backend onnx-wasm and onnx-webgpu', () => {
  it('gives the cpu backend\'s logits and spike counts on another architecture', async () => {
    const config = defaultConfig({ embedDims: [32, 48, 64, 96], numClasses: 6, kd: true, depths: [2, 1], timeSteps: 3 });
    const weights = join(work, 'other.safetensors');
    writeFileSync(weights, randomSafetensors(config, 11));
    const image = referencePath('metaspikformer-tiny-t4-kd', 'baboon', 'image.png');
    const outputs: Record<string, { logits: Float32Array; spikes: { backend: string; top1: number; layers: unknown[] } }> = {};
    for (const backend of ['cpu', 'onnx-wasm']) {
      const dir = join(work, `infer-${backend}`);
      const r = await cli('infer', '--weights', weights, '--input', image, '--out', dir, '--size', '48x64', '--time-steps', '3', '--backend', backend);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${backend}: input 48x64, T=3`));
      const logits = readNpy(readFileSync(join(dir, 'logits.npy')));
      expect(logits.shape).toEqual([1, 6]);
      outputs[backend] = { logits: logits.data as Float32Array, spikes: JSON.parse(readFileSync(join(dir, 'spikes.json'), 'utf8')) };
      expect(existsSync(join(dir, 'spikes.bin'))).toBe(false);
    }
    const [cpu, onnx] = [outputs.cpu, outputs['onnx-wasm']];
    expect(onnx.spikes.backend).toBe('onnx-wasm');
    expect(maxAbsDiff(onnx.logits, cpu.logits)).toBeLessThan(1e-4);
    expect(onnx.spikes.top1).toBe(cpu.spikes.top1);
    expect(onnx.spikes.layers).toEqual(cpu.spikes.layers);
    expect(onnx.spikes.layers).toHaveLength(4 * 4 + 4 + 3 * 7 + 1);
  });

  // onnxruntime-web's WebGPU provider in Node on Dawn (npm `webgpu`); on a machine without a GPU,
  // on Chromium's SwiftShader (needs libvulkan1 and chromium, as .ci/run installs).
  it.skipIf(!existsSync(SWIFTSHADER_ICD) && !process.env.VK_ICD_FILENAMES)('--backend onnx-webgpu gives the cpu backend\'s spike counts exactly and its logits to 1e-4', async () => {
    const config = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, depths: [1, 1], timeSteps: 2 });
    const weights = join(work, 'webgpu.safetensors');
    writeFileSync(weights, randomSafetensors(config, 5));
    const image = referencePath('metaspikformer-tiny-t4-kd', 'baboon', 'image.png');
    const outputs: Record<string, { logits: Float32Array; spikes: { backend: string; top1: number; layers: unknown[] } }> = {};
    for (const backend of ['cpu', 'onnx-webgpu']) {
      const dir = join(work, `webgpu-infer-${backend}`);
      const r = await cli('infer', '--weights', weights, '--input', image, '--out', dir, '--size', '32x32', '--time-steps', '2', '--backend', backend);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${backend}.*: input 32x32, T=2`));
      outputs[backend] = { logits: readNpy(readFileSync(join(dir, 'logits.npy'))).data as Float32Array, spikes: JSON.parse(readFileSync(join(dir, 'spikes.json'), 'utf8')) };
    }
    const [cpu, gpu] = [outputs.cpu, outputs['onnx-webgpu']];
    // The adapter that ran is named.
    expect(gpu.spikes.backend).toMatch(/^onnx-webgpu \(.+\)$/);
    expect(maxAbsDiff(gpu.logits, cpu.logits)).toBeLessThan(1e-4);
    expect(gpu.spikes.top1).toBe(cpu.spikes.top1);
    expect(gpu.spikes.layers).toEqual(cpu.spikes.layers);
    expect(gpu.spikes.layers).toHaveLength(35);
  });

  it('refuses --dump-spikes with one line: spike maps need cpu or webgpu', async () => {
    const model = 'metaspikformer-tiny-t1';
    expectOneLineError(await cli('infer', '--weights', referencePath(model, 'checkpoint.pth'), '--input', referencePath(model, 'cat', 'input.npy'),
      '--out', join(work, 'dump'), '--backend', 'onnx-wasm', '--dump-spikes'), /--dump-spikes.*onnx-wasm.*spike counts only.*cpu or webgpu/);
    expect(existsSync(join(work, 'dump'))).toBe(false);
  });
});
