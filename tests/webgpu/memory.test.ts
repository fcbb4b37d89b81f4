/** GPU memory per published size at 224×224, from the WebGPU plan (Node; no GPU needed). */
import { describe, expect, test } from 'vitest';
import { defaultConfig, PUBLISHED_EMBED_DIMS } from '../../src/model/config.ts';
import { DEFAULT_MAX_STORAGE_BINDING, memoryReport } from '../../src/runtime/webgpu/memory.ts';

const MiB = 2 ** 20;

describe('WebGPU plan memory (published sizes, 224×224)', () => {
  const rows: string[] = [];
  for (const [size, dims] of Object.entries(PUBLISHED_EMBED_DIMS)) {
    for (const T of [1, 4]) {
      test(`${size} T=${T}: every buffer within the default limits`, () => {
        for (const mode of ['spike', 'dense'] as const) {
          const r = memoryReport(defaultConfig({ embedDims: dims, numClasses: 1000, timeSteps: T }), 224, 224, mode);
          expect(r.largestBuffer.bytes).toBeLessThanOrEqual(DEFAULT_MAX_STORAGE_BINDING);
          expect(r.maxStorageBindings).toBeLessThanOrEqual(8);
          const b = r.bytes;
          rows.push(`${size.padEnd(4)} T=${T} ${mode.padEnd(5)} total ${(r.totalBytes / MiB).toFixed(1).padStart(6)} MiB: weights ${(b.weights / MiB).toFixed(1)}, ` +
            `activations ${((b.activation + b.padded + b.scratch) / MiB).toFixed(1)}, spikes ${(b.spikes / MiB).toFixed(1)}, ` +
            `largest buffer ${(r.largestBuffer.bytes / MiB).toFixed(1)} MiB, ${r.buffers} buffers, ${r.dispatches} dispatches, ${(r.denseMacs / 1e9).toFixed(2)} GMAC`);
        }
      });
    }
  }
  test('report', () => {
    console.log(rows.join('\n'));
    expect(rows.length).toBe(12);
  });
});
