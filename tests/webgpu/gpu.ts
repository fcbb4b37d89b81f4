/** Shared helpers of the WebGPU browser tests: one device, comparisons with the CPU reference. */
import { expect } from 'vitest';
import type { FrameResult } from '../../src/runtime/types.ts';

let devicePromise: Promise<GPUDevice> | null = null;

/** The test device (SwiftShader in headless Chromium), with timestamp queries when offered. */
export function testDevice(): Promise<GPUDevice> {
  devicePromise ??= (async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter (is Chromium started with --enable-unsafe-webgpu?)');
    const features: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    const device = await adapter.requestDevice({ requiredFeatures: features });
    device.addEventListener('uncapturederror', (e) => console.error('WebGPU error:', (e as GPUUncapturedErrorEvent).error.message));
    return device;
  })();
  return devicePromise;
}

/** Every layer's spike counts and (if both have them) spike maps equal, and logits within `tol`. */
export function expectSameFrame(gpu: FrameResult, cpu: FrameResult, tol = 1e-4): { maxLogitDiff: number; spikes: number } {
  expect(gpu.layers.map((l) => l.name)).toEqual(cpu.layers.map((l) => l.name));
  let spikes = 0;
  const firstBad: string[] = [];
  cpu.layers.forEach((l, i) => {
    const g = gpu.layers[i];
    spikes += l.onesPerStep.reduce((a, b) => a + b, 0);
    const cm = cpu.spikeMaps.get(l.name);
    const gm = gpu.spikeMaps.get(l.name);
    let diff = 0;
    if (cm && gm) for (let j = 0; j < cm.length; j++) if (cm[j] !== gm[j]) diff++;
    if (diff || g.onesPerStep.join() !== l.onesPerStep.join()) firstBad.push(`${l.name}: ${diff} map differences, counts ${g.onesPerStep} vs ${l.onesPerStep}`);
  });
  expect(firstBad.slice(0, 5)).toEqual([]);
  let maxLogitDiff = 0;
  cpu.logits.forEach((v, i) => { maxLogitDiff = Math.max(maxLogitDiff, Math.abs(v - gpu.logits[i])); });
  expect(maxLogitDiff).toBeLessThanOrEqual(tol);
  return { maxLogitDiff, spikes };
}
