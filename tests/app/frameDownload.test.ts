/**
 * "Download this frame" (issue #22 point 3): the zip holds the CLI's files for the frame, made by
 * the same `frameFiles` as `spikeformer infer` (byte for byte), the input as .npy and .png, the
 * views; no spikes.bin where the backend gives counts only. (The e2e suite compares the app's zip
 * with the CLI run on its input.npy.)
 */
import { unzipSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import { TINY_CONFIG } from '../../src/app/engine/builtinModel.ts';
import { frameZip, viewFileName, type FramePackage } from '../../src/app/logic/frameDownload.ts';
import { readNpy } from '../../src/io/npy.ts';
import { buildModelGraph, lifOps } from '../../src/model/graph.ts';
import { CpuReferenceRuntime } from '../../src/runtime/cpu/cpuReferenceRuntime.ts';
import { randomModelWeights, randomSmoothImage } from '../../src/runtime/cpu/randomWeights.ts';
import { frameFiles } from '../../src/runtime/frameFiles.ts';

const graph = buildModelGraph(TINY_CONFIG, 32, 32);
const runtime = new CpuReferenceRuntime(graph, randomModelWeights(TINY_CONFIG, { seed: 2, calibration: { height: 32, width: 32 } }));
const input = randomSmoothImage(3, 32, 32, 4);
const result = runtime.run(input, { spikeMaps: lifOps(graph).map((l) => l.name), membranes: [] });

function pack(o: Partial<FramePackage> = {}): FramePackage {
  return {
    graph, result, input, backend: 'CPU reference (Web Worker)', tasks: ['classify'], spikeMaps: true, modelName: 'Tiny',
    images: [['views/firing-rate-per-layer.png', Uint8Array.of(1, 2)], ['input.png', Uint8Array.of(3)]], ...o,
  };
}

describe('the frame zip', () => {
  test('the CLI\'s files, byte for byte, the input, the views and a README', () => {
    const { zip, names } = frameZip(pack());
    const files = unzipSync(zip);
    expect(names).toEqual(['README.txt', 'input.png', 'logits.npy', 'spikes.json', 'spikes.bin', 'input.npy', 'views/firing-rate-per-layer.png']);
    expect(Object.keys(files).sort()).toEqual([...names].sort());
    const cli = frameFiles(graph, result, { backend: 'CPU reference (Web Worker)', tasks: ['classify'], spikeMaps: true, input: { data: input, channels: 3, height: 32, width: 32 } }).files;
    for (const [name, bytes] of cli) expect(Buffer.from(files[name]).equals(Buffer.from(bytes)), name).toBe(true);
    const npy = readNpy(files['input.npy']);
    expect(npy.shape).toEqual([1, 3, 32, 32]);
    expect(JSON.parse(new TextDecoder().decode(files['spikes.json']))).toMatchObject({ backend: 'CPU reference (Web Worker)', tasks: ['classify'] });
    expect(new TextDecoder().decode(files['README.txt'])).toContain('spikeformer infer --weights <model file> --input input.npy --out out --dump-spikes');
  });

  test('counts only (ONNX Runtime Web): no spikes.bin, and the README says why', () => {
    const counts = { ...result, spikeMaps: new Map<string, Uint8Array>() };
    const files = unzipSync(frameZip(pack({ result: counts, spikeMaps: false })).zip);
    expect(files['spikes.bin']).toBeUndefined();
    expect(JSON.parse(new TextDecoder().decode(files['spikes.json'])).layers).toHaveLength(lifOps(graph).length);
    expect(new TextDecoder().decode(files['README.txt'])).toContain('(no spikes.bin: this backend returns per-layer spike counts only');
  });

  test('view file names from their accessible names, never twice the same', () => {
    const taken = new Set<string>();
    expect(viewFileName('Spike map of ConvBlock1_1.0.Conv.lif1, all channels summed, time step 0: 3.1 % spiking', taken)).toBe('views/spike-map-of-convblock1-1-0-conv-lif1-all-channels-summed-time-step-0.png');
    expect(viewFileName('Firing rate per layer', taken)).toBe('views/firing-rate-per-layer.png');
    expect(viewFileName('Firing rate per layer', taken)).toBe('views/firing-rate-per-layer-2.png');
    expect(viewFileName(':', taken)).toBe('views/view.png');
  });
});
