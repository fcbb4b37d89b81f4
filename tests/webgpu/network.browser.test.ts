import { describe, expect, test } from 'vitest';
import { defaultConfig } from '../../src/model/config.ts';
import { buildModelGraph } from '../../src/model/graph.ts';
import { randomModelWeights, randomSmoothImage } from '../../src/runtime/cpu/randomWeights.ts';
import { CpuReferenceRuntime } from '../../src/runtime/cpu/cpuReferenceRuntime.ts';
import { WebGpuRuntime } from '../../src/runtime/webgpu/webGpuRuntime.ts';
import { expectSameFrame, testDevice } from './gpu.ts';

describe('whole network vs CpuReferenceRuntime (random calibrated tiny model)', () => {
  for (const [T, kd, mode] of [[1, false, 'spike'], [3, true, 'spike'], [3, true, 'dense']] as const) {
    test(`dims 16,32,64,96 at 32×48, T=${T}${kd ? ', kd' : ''}, ${mode}`, async () => {
      const device = await testDevice();
      const config = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, timeSteps: T, kd });
      const weights = randomModelWeights(config, { seed: 7 + T, kvRate: 0.35 });
      const graph = buildModelGraph(config, 32, 48);
      const input = randomSmoothImage(3, 32, 48, 11);
      // Membranes of a neuron fused into a conv (float map not stored), one fused into a conv with
      // a residual add (map stored), one on its own (after attention), and two of the three
      // neurons sharing a dispatch (k and v: side by side in one membrane buffer, v not at its start).
      // The first two follow convs on spikes, which take a neuron on any adapter.
      const membranes = ['ConvBlock1_1.0.Conv.lif2', 'downsample1_2.encode_lif', 'block3.0.attn.attn_lif', 'block3.0.attn.k_lif', 'block3.0.attn.v_lif'];
      const cpu = new CpuReferenceRuntime(graph, weights).run(input, { spikeMaps: 'all', membranes });
      const gpu = await WebGpuRuntime.create(device, graph, weights, { mode, membranes });
      const stepOf = (name: string) => gpu.plan.steps.find((s) => s.lifs.some((l) => l.name === name))!;
      // Fused variants: plain, tiled (hardware adapters) or pixel-blocked (software adapters, spike
      // convs); a software adapter in dense mode fuses no neuron into a conv (its dense_conv is not event-driven).
      if (gpu.plan.software && mode === 'dense') {
        expect([stepOf(membranes[0]).program.shader, stepOf(membranes[1]).program.shader]).toEqual(['lif', 'lif']);
      } else {
        expect(stepOf(membranes[0]).program.entry).toMatch(/^(tile_|block_)?lif$/);
        expect(stepOf(membranes[1]).program.entry).toMatch(/^(tile_|block_)?residual_lif$/);
      }
      expect(stepOf(membranes[2]).program.shader).toBe('lif');
      expect(stepOf(membranes[3]).lifs.map((l) => l.name)).toEqual(['block3.0.attn.q_lif', 'block3.0.attn.k_lif', 'block3.0.attn.v_lif']);
      expect(stepOf(membranes[4]).lifs[2].membraneOffset).toBeGreaterThan(0);
      const t0 = performance.now();
      const r = await gpu.run(input, { spikeMaps: 'all', membranes });
      const ms = performance.now() - t0;
      const { maxLogitDiff, spikes } = expectSameFrame(r, cpu);
      for (const name of membranes) {
        const a = r.membranes.get(name)!, b = cpu.membranes.get(name)!;
        expect(a.length, name).toBe(b.length);
        let m = 0;
        for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
        expect(m, name).toBeLessThan(1e-4);
      }
      console.log(`T=${T} ${mode}: ${spikes} spikes equal, max logit diff ${maxLogitDiff.toExponential(2)}, ${ms.toFixed(0)} ms`);
      // A second frame on the same runtime gives the same result (state is reset per frame).
      const again = await gpu.run(input);
      expect(Array.from(again.logits)).toEqual(Array.from(r.logits));
      expect(again.layers).toEqual(r.layers);
      gpu.destroy();
    });
  }
});
