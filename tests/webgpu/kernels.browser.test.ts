/**
 * Every WebGPU kernel against the CPU reference ops, on random inputs of odd shapes (channels not
 * multiples of 32 or 4, odd H and W), at firing rates 0, ~5%, 50% and 100%, for T = 1 and 3.
 * Spikes and integer results must be exactly equal; real-valued sums within f32 rounding.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { seededNormal, seededRandom } from '../../src/runtime/cpu/randomWeights.ts';
import { add, batchNorm, batchNormAffine, conv2d, lif, linear, spatialMean, spikeAttention, type BatchNormParams } from '../../src/runtime/cpu/ops.ts';
import {
  addKernel, attentionKernel, classifierKernel, denseConvKernel, denseOutput, dwBlockFits, tileFits, lifKernel, linearKernel,
  logitsKernel, spatialMeanKernel, spikeConvKernel, type ConvLif, type ConvShape,
} from '../../src/runtime/webgpu/kernels.ts';
import {
  packConvWeights, packDepthwiseWeights, packEpilogue, packLifAffines, packLinearWeights, packSpikes, roundUp4, spikeWords, unpackSpikes, type SpikeLayout,
} from '../../src/runtime/webgpu/packing.ts';
import { PipelineCache, readBuffer, runKernel, storageBuffer } from '../../src/runtime/webgpu/programs.ts';
import { testDevice } from './gpu.ts';

let device: GPUDevice;
let cache: PipelineCache;
beforeAll(async () => {
  device = await testDevice();
  cache = new PipelineCache(device);
});

const RATES = [0, 0.05, 0.5, 1];
const rand = seededRandom(2024);
const normal = seededNormal(2025);

function randomSpikes(n: number, rate: number): Uint8Array {
  const s = new Uint8Array(n);
  for (let i = 0; i < n; i++) s[i] = rate >= 1 ? 1 : rand() < rate ? 1 : 0;
  return s;
}
function randomNormal(n: number, scale = 1, mean = 0): Float32Array {
  return Float32Array.from({ length: n }, () => mean + scale * normal());
}
function randomBn(c: number): BatchNormParams {
  return {
    weight: Float32Array.from({ length: c }, () => 0.5 + rand()),
    bias: randomNormal(c, 0.3),
    runningMean: randomNormal(c, 0.5),
    runningVar: Float32Array.from({ length: c }, () => 0.2 + rand() * 2),
    eps: 1e-5,
  };
}
const f32 = (buf: ArrayBuffer) => new Float32Array(buf);
const u32 = (buf: ArrayBuffer) => new Uint32Array(buf);

/** Max of |a − b| / (1 + |b|). */
function relDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

describe('lif.wgsl: BatchNorm + LIF over T, packed spikes, counts, membranes', () => {
  const C = 37, N = 35;
  for (const T of [1, 3]) {
    for (const layout of ['channel', 'token', 'dense'] as SpikeLayout[]) {
      test(`T=${T}, ${layout}`, async () => {
        const cases: { rate: number | null; nAffine: number; broadcast: boolean; threshold: number }[] = [
          ...RATES.map((rate) => ({ rate, nAffine: 0, broadcast: false, threshold: 1 })),
          { rate: null, nAffine: 1, broadcast: false, threshold: 1 },
          { rate: null, nAffine: 2, broadcast: true, threshold: 1 },
          { rate: 0.5, nAffine: 0, broadcast: false, threshold: 0.5 },
        ];
        for (const c of cases) {
          const steps = c.broadcast ? 1 : T;
          // Inputs around the firing threshold, with some exactly at it.
          const x = c.rate === 0 ? Float32Array.from({ length: steps * C * N }, () => -3 - rand())
            : c.rate === 1 ? Float32Array.from({ length: steps * C * N }, () => 2 * c.threshold + 1 + rand())
              : c.rate === 0.05 ? randomNormal(steps * C * N, 1, 2 * c.threshold - 1.64)
                : randomNormal(steps * C * N, 1.5, 2 * c.threshold - 0.3);
          for (let i = 0; i < x.length; i += 17) if (c.rate !== 0 && c.rate !== 1) x[i] = 2 * c.threshold;
          const bns = Array.from({ length: c.nAffine }, () => randomBn(C));
          // CPU: BNs then LIF, per step.
          const inputs = Array.from({ length: T }, (_, t) => {
            let v: Float32Array = x.slice((c.broadcast ? 0 : t) * C * N, ((c.broadcast ? 0 : t) + 1) * C * N);
            for (const bn of bns) v = batchNorm(v, C, 1, N, bn);
            return v;
          });
          const ref = lif(inputs, c.threshold, true);
          const spikesRef = new Uint8Array(T * C * N);
          ref.spikes.forEach((s, t) => spikesRef.set(s, t * C * N));
          // GPU.
          const xb = storageBuffer(device, x);
          const pb = storageBuffer(device, packLifAffines(C, bns.map((bn) => batchNormAffine(bn))));
          const words = layout === 'token' ? T * C * Math.ceil(N / 32) : layout === 'channel' ? T * Math.ceil(C / 32) * N : T * C * N;
          const ob = storageBuffer(device, words * 4);
          const cb = storageBuffer(device, new Uint32Array(2 * T));
          const mb = storageBuffer(device, T * C * N * 4);
          const call = lifKernel({ timeSteps: T, channels: C, positions: N, xStepStride: c.broadcast ? 0 : C * N, nAffine: c.nAffine, threshold: c.threshold, layers: [{ layout, countBase: T, membrane: 0 }] });
          const unused = [storageBuffer(device, 16), storageBuffer(device, 16)];
          await runKernel(device, cache, call, { X: xb, P: pb, O: ob, O1: unused[0], O2: unused[1], counts: cb, M: mb });
          unused.forEach((b) => b.destroy());
          const spikes = unpackSpikes(u32(await readBuffer(device, ob, words * 4)), layout, T, C, N);
          const counts = Array.from(u32(await readBuffer(device, cb, 2 * T * 4)).subarray(T));
          const membrane = f32(await readBuffer(device, mb, T * C * N * 4));
          const what = `rate ${c.rate} affines ${c.nAffine} broadcast ${c.broadcast} threshold ${c.threshold}`;
          let diff = 0;
          for (let i = 0; i < spikesRef.length; i++) if (spikes[i] !== spikesRef[i]) diff++;
          expect(diff, what).toBe(0);
          expect(counts, what).toEqual(ref.spikes.map((s) => s.reduce((a, b) => a + b, 0)));
          let mdiff = 0;
          ref.membrane!.forEach((h, t) => h.forEach((v, i) => { if (v !== membrane[t * C * N + i]) mdiff++; }));
          expect(mdiff, `${what}: membranes bit-equal`).toBe(0);
          if (c.rate === 0) expect(counts.every((n) => n === 0)).toBe(true);
          if (c.rate === 1) expect(counts.every((n) => n === C * N)).toBe(true);
          for (const b of [xb, pb, ob, cb, mb]) b.destroy();
        }
      });
    }
  }
});

interface ConvCase { cin: number; cout: number; h: number; w: number; k: number; s: number; p: number; dw?: boolean }
const CONV_CASES: ConvCase[] = [
  { cin: 37, cout: 19, h: 9, w: 11, k: 1, s: 1, p: 0 },
  { cin: 37, cout: 19, h: 9, w: 11, k: 3, s: 1, p: 1 },
  { cin: 33, cout: 10, h: 9, w: 11, k: 3, s: 2, p: 1 },
  { cin: 70, cout: 6, h: 5, w: 7, k: 3, s: 1, p: 1 },
  { cin: 37, cout: 37, h: 9, w: 11, k: 7, s: 1, p: 3, dw: true },
  { cin: 10, cout: 10, h: 9, w: 11, k: 3, s: 2, p: 1, dw: true },
  { cin: 6, cout: 6, h: 11, w: 13, k: 3, s: 1, p: 0, dw: true },
];

/** CPU reference of a conv with bias and BNs, per step; `x` is `[steps][Cin][H][W]`. */
function cpuConv(x: Float32Array, steps: number, cc: ConvCase, weight: Float32Array, bias: Float32Array | null, bns: BatchNormParams[], outPad: number) {
  const outs: Float32Array[] = [];
  let oh = 0, ow = 0;
  for (let t = 0; t < steps; t++) {
    const r = conv2d(x.subarray(t * cc.cin * cc.h * cc.w, (t + 1) * cc.cin * cc.h * cc.w), cc.h, cc.w, weight, bias,
      { inChannels: cc.cin, outChannels: cc.cout, kernel: cc.k, stride: cc.s, pad: cc.p, groups: cc.dw ? cc.cin : 1 });
    oh = r.height; ow = r.width;
    let v = r.data;
    bns.forEach((bn, i) => { v = batchNorm(v, cc.cout, oh, ow, bn, i === bns.length - 1 ? outPad : 0); });
    outs.push(v);
  }
  const out = new Float32Array(outs.reduce((a, o) => a + o.length, 0));
  outs.forEach((o, t) => out.set(o, t * o.length));
  return { out, oh, ow };
}

async function gpuConv(kind: 'spike' | 'dense', x: ArrayBufferView, steps: number, xStepStride: number, cc: ConvCase,
  weight: Float32Array, bias: Float32Array | null, bns: BatchNormParams[], outPad: number, oh: number, ow: number, init?: Float32Array, cols?: 1 | 4,
  residual?: { data: Float32Array; stepStride: number }) {
  const affines = bns.map((bn) => batchNormAffine(bn));
  const shape: ConvShape = {
    cin: cc.cin, h: cc.h, w: cc.w, cout: cc.cout, oh, ow, kernel: cc.k, stride: cc.s, pad: cc.p, depthwise: !!cc.dw,
    steps, hasBias: !!bias, nAffine: affines.length, xStepStride, out: denseOutput(cc.cout, oh, ow, outPad), cols,
    residual: residual ? { stepStride: residual.stepStride } : undefined,
  };
  const call = kind === 'spike' ? spikeConvKernel(shape) : denseConvKernel(shape);
  const w = cc.dw ? packDepthwiseWeights(weight, cc.cout, cc.k) : packConvWeights(weight, cc.cout, cc.cin, cc.k);
  const bytes = steps * cc.cout * (oh + 2 * outPad) * (ow + 2 * outPad) * 4;
  const bufs = [storageBuffer(device, x), storageBuffer(device, w), storageBuffer(device, packEpilogue(cc.cout, bias, affines)), storageBuffer(device, init ?? bytes)];
  if (residual) bufs.push(storageBuffer(device, residual.data));
  await runKernel(device, cache, call, residual ? { X: bufs[0], W: bufs[1], P: bufs[2], O: bufs[3], R: bufs[4] } : { X: bufs[0], W: bufs[1], P: bufs[2], O: bufs[3] });
  const out = f32(await readBuffer(device, bufs[3], bytes));
  bufs.forEach((b) => b.destroy());
  return out;
}

describe('spike_conv.wgsl / spike_dwconv.wgsl: event-driven convs on packed spikes', () => {
  for (const T of [1, 3]) {
    test(`T=${T}`, async () => {
      for (const cc of CONV_CASES) {
        for (const rate of RATES) {
          for (const variant of [0, 1, 2]) {
            const fanIn = (cc.dw ? 1 : cc.cin) * cc.k * cc.k;
            const weight = randomNormal(cc.cout * fanIn, 1 / Math.sqrt(fanIn));
            const bias = variant === 1 ? null : randomNormal(cc.cout, 0.1);
            const bns = Array.from({ length: variant }, () => randomBn(cc.cout));
            const outPad = variant === 1 ? 1 : 0; // RepConv's BN-and-pad: border filled beforehand
            const spikes = randomSpikes(T * cc.cin * cc.h * cc.w, rate);
            const ref = cpuConv(Float32Array.from(spikes), T, cc, weight, bias, bns, outPad);
            const init = outPad ? ref.out.map((v, i) => (isBorder(i, ref.oh + 2, ref.ow + 2) ? v : 0)) : undefined;
            const packed = packSpikes(spikes, 'channel', T, cc.cin, cc.h * cc.w);
            const out = await gpuConv('spike', packed, T, Math.ceil(cc.cin / 32) * cc.h * cc.w, cc, weight, bias, bns, outPad, ref.oh, ref.ow, init);
            expect(relDiff(out, ref.out), `${JSON.stringify(cc)} rate ${rate} variant ${variant}`).toBeLessThan(2e-6);
          }
        }
      }
    });
  }
});

function isBorder(i: number, ph: number, pw: number): boolean {
  const p = i % (ph * pw);
  const y = Math.floor(p / pw), x = p % pw;
  return y === 0 || x === 0 || y === ph - 1 || x === pw - 1;
}

describe('dense_conv.wgsl / dense_dwconv.wgsl: register-tiled convs on f32 maps', () => {
  const cases: ConvCase[] = [...CONV_CASES, { cin: 3, cout: 8, h: 17, w: 23, k: 7, s: 2, p: 3 }];
  for (const T of [1, 3]) {
    test(`T=${T}, real and 0/1 inputs`, async () => {
      for (const cc of cases) {
        for (const [input, cols] of [['real', 4], ['real', 1], ['spikes', 4], ['broadcast', 1]] as const) {
          const fanIn = (cc.dw ? 1 : cc.cin) * cc.k * cc.k;
          const weight = randomNormal(cc.cout * fanIn, 1 / Math.sqrt(fanIn));
          const bias = randomNormal(cc.cout, 0.1);
          const bns = [randomBn(cc.cout)];
          const steps = input === 'broadcast' ? 1 : T;
          const x = input === 'spikes' ? Float32Array.from(randomSpikes(T * cc.cin * cc.h * cc.w, 0.3)) : randomNormal(steps * cc.cin * cc.h * cc.w);
          const ref = cpuConv(x, steps, cc, weight, bias, bns, 0);
          const out = await gpuConv('dense', x, steps, input === 'broadcast' ? 0 : cc.cin * cc.h * cc.w, cc, weight, bias, bns, 0, ref.oh, ref.ow, undefined, cols);
          expect(relDiff(out, ref.out), `${JSON.stringify(cc)} ${input} cols ${cols}`).toBeLessThan(input === 'spikes' ? 2e-6 : 1e-5);
        }
      }
    });
  }
});

describe('conv kernels with the residual add in the epilogue (entry point residual)', () => {
  // Each fused variant against its unfused kernel + the CPU reference's add (the same f32
  // operations, so bit-identical), and against the CPU reference (conv → BNs → add).
  const cases: ConvCase[] = [...CONV_CASES, { cin: 8, cout: 8, h: 6, w: 9, k: 7, s: 1, p: 3, dw: true }];
  const kinds = [['spike', undefined], ['dense', 4], ['dense', 1]] as const;
  for (const T of [1, 3]) {
    test(`T=${T}: spike_conv, spike_dwconv, dense_conv (4 and 1 columns), dense_dwconv at input firing rates 0, 5, 50, 100 %`, async () => {
      for (const cc of cases) {
        for (const [kind, cols] of kinds) {
          if (kind === 'dense' && cc.dw && cols === 1) continue; // dense_dwconv has one column count
          for (const rate of RATES) {
            for (const broadcast of [false, true]) {
              const fanIn = (cc.dw ? 1 : cc.cin) * cc.k * cc.k;
              const weight = randomNormal(cc.cout * fanIn, 1 / Math.sqrt(fanIn));
              const bias = randomNormal(cc.cout, 0.1);
              const bns = Array.from({ length: broadcast ? 1 : 2 }, () => randomBn(cc.cout));
              const spikes = randomSpikes(T * cc.cin * cc.h * cc.w, rate);
              const x = Float32Array.from(spikes);
              const ref = cpuConv(x, T, cc, weight, bias, bns, 0);
              const per = cc.cout * ref.oh * ref.ow;
              const r = randomNormal((broadcast ? 1 : T) * per);
              const refSum = new Float32Array(T * per);
              for (let t = 0; t < T; t++) refSum.set(add(ref.out.subarray(t * per, (t + 1) * per), r.subarray(broadcast ? 0 : t * per, (broadcast ? 1 : t + 1) * per)), t * per);
              const input = kind === 'spike' ? packSpikes(spikes, 'channel', T, cc.cin, cc.h * cc.w) : x;
              const xStride = kind === 'spike' ? Math.ceil(cc.cin / 32) * cc.h * cc.w : cc.cin * cc.h * cc.w;
              const plain = await gpuConv(kind, input, T, xStride, cc, weight, bias, bns, 0, ref.oh, ref.ow, undefined, cols);
              const fused = await gpuConv(kind, input, T, xStride, cc, weight, bias, bns, 0, ref.oh, ref.ow, undefined, cols,
                { data: r, stepStride: broadcast ? 0 : per });
              const unfusedSum = new Float32Array(T * per);
              for (let t = 0; t < T; t++) unfusedSum.set(add(plain.subarray(t * per, (t + 1) * per), r.subarray(broadcast ? 0 : t * per, (broadcast ? 1 : t + 1) * per)), t * per);
              const what = `${JSON.stringify(cc)} ${kind}${cols ? ` cols ${cols}` : ''} rate ${rate}${broadcast ? ' broadcast' : ''}`;
              expect(Array.from(fused), what).toEqual(Array.from(unfusedSum));
              expect(relDiff(fused, refSum), what).toBeLessThan(2e-6);
            }
          }
        }
      }
    });
  }
});

describe('conv kernels with the LIF in the epilogue (entry points lif, residual_lif; conv_lif.wgsl)', () => {
  // Each fused variant against the CPU reference (conv → BNs [→ add] → LIF: spikes, counts and
  // membranes bit for bit) and against its unfused kernels (the conv kernel, then the CPU LIF on
  // its float map: every spike, count, membrane and stored float bit-identical).
  const cases: ConvCase[] = [
    ...CONV_CASES.filter((c) => !c.dw),
    { cin: 20, cout: 100, h: 7, w: 5, k: 1, s: 1, p: 0 }, // 4 words, the last one partial
    { cin: 64, cout: 64, h: 3, w: 13, k: 3, s: 1, p: 1 }, // 2 words; 39 pixels: 2 token words, the last one partial
  ];
  const kinds = [['spike', undefined], ['dense', 1]] as const; // with the LIF, dense_conv computes one column per output vec4
  interface Variant { residual: 'none' | 'steps' | 'broadcast'; bns: number; store: boolean; layout: SpikeLayout; threshold: number; membrane: boolean; convBroadcast?: boolean }
  const variants: Variant[] = [
    { residual: 'none', bns: 2, store: false, layout: 'channel', threshold: 1, membrane: true },
    { residual: 'steps', bns: 1, store: true, layout: 'channel', threshold: 1, membrane: false },
    { residual: 'none', bns: 1, store: true, layout: 'dense', threshold: 0.5, membrane: true },
    { residual: 'broadcast', bns: 2, store: false, layout: 'dense', threshold: 1, membrane: false },
    { residual: 'broadcast', bns: 1, store: true, layout: 'channel', threshold: 0.5, membrane: true, convBroadcast: true },
    { residual: 'none', bns: 2, store: false, layout: 'token', threshold: 1, membrane: true },
    { residual: 'steps', bns: 1, store: true, layout: 'token', threshold: 0.5, membrane: false },
  ];
  for (const T of [1, 3]) {
    test(`T=${T}: spike_conv, dense_conv; channel-packed, token-packed and dense spikes, at input firing rates 0, 5, 50, 100 %`, async () => {
      let fired = 0, neurons = 0;
      for (const cc of cases) {
        for (const [kind, cols] of kinds) {
          for (const rate of RATES) {
            for (const vr of variants) {
              if (vr.convBroadcast && kind === 'spike') continue; // a step-invariant input is real-valued
              const steps = vr.convBroadcast ? 1 : T;
              const fanIn = cc.cin * cc.k * cc.k;
              const weight = randomNormal(cc.cout * fanIn, 2 / Math.sqrt(fanIn));
              const bias = randomNormal(cc.cout, 0.3, 0.5);
              const bns = Array.from({ length: vr.bns }, () => randomBn(cc.cout));
              const spikes = randomSpikes(steps * cc.cin * cc.h * cc.w, rate);
              const x = vr.convBroadcast ? randomNormal(cc.cin * cc.h * cc.w) : Float32Array.from(spikes);
              const ref = cpuConv(x, steps, cc, weight, bias, bns, 0);
              const N = ref.oh * ref.ow, per = cc.cout * N;
              const rSteps = vr.residual === 'steps' ? steps : 1;
              const r = vr.residual === 'none' ? null : randomNormal(rSteps * per, 0.5);
              const residual = r ? { data: r, stepStride: rSteps === 1 ? 0 : per } : undefined;
              // CPU reference: per step the conv (+ residual), then the LIF over T steps.
              const value = (out: Float32Array, t: number) => {
                const s = Math.min(t, steps - 1);
                const y = out.subarray(s * per, (s + 1) * per);
                return r ? add(y, r.subarray((rSteps === 1 ? 0 : s) * per, ((rSteps === 1 ? 0 : s) + 1) * per)) : y.slice();
              };
              const refLif = lif(Array.from({ length: T }, (_, t) => value(ref.out, t)), vr.threshold, true);
              const input = kind === 'spike' ? packSpikes(spikes, 'channel', T, cc.cin, cc.h * cc.w) : x;
              const xStride = vr.convBroadcast ? 0 : kind === 'spike' ? Math.ceil(cc.cin / 32) * cc.h * cc.w : cc.cin * cc.h * cc.w;
              // Unfused: the conv kernel alone (+ residual), then the LIF on its float map.
              const plain = await gpuConv(kind, input, steps, xStride, cc, weight, bias, bns, 0, ref.oh, ref.ow, undefined, cols, residual);
              const plainLif = lif(Array.from({ length: T }, (_, t) => plain.subarray(Math.min(t, steps - 1) * per, (Math.min(t, steps - 1) + 1) * per)), vr.threshold, true);
              const fused = await gpuConvLif(kind, input, steps, xStride, cc, weight, bias, bns, ref.oh, ref.ow, cols, residual,
                { timeSteps: T, layout: vr.layout, storeConv: vr.store, countBase: T, writeMembrane: vr.membrane, threshold: vr.threshold });
              const what = `${JSON.stringify(cc)} ${kind}${cols ? ` cols ${cols}` : ''} rate ${rate} ${JSON.stringify(vr)}`;
              const flat = (a: Uint8Array[]) => { const o = new Uint8Array(T * per); a.forEach((m, t) => o.set(m, t * per)); return o; };
              const refSpikes = flat(refLif.spikes);
              let diff = 0;
              for (let i = 0; i < refSpikes.length; i++) if (fused.spikes[i] !== refSpikes[i]) diff++;
              expect(diff, `${what}: spikes against the CPU reference`).toBe(0);
              expect(Array.from(fused.spikes), `${what}: spikes against the unfused kernels`).toEqual(Array.from(flat(plainLif.spikes)));
              expect(fused.counts, what).toEqual(refLif.spikes.map((m) => m.reduce((a, b) => a + b, 0)));
              if (vr.membrane) {
                const m = new Float32Array(T * per);
                plainLif.membrane!.forEach((h, t) => m.set(h, t * per));
                expect(Array.from(fused.membrane!), `${what}: membranes`).toEqual(Array.from(m));
                // (Against the CPU reference within f32 rounding: the conv's sums may round differently.)
                const refM = new Float32Array(T * per);
                refLif.membrane!.forEach((h, t) => refM.set(h, t * per));
                expect(relDiff(fused.membrane!, refM), `${what}: membranes against the CPU reference`).toBeLessThan(1e-4);
              }
              if (vr.store) expect(Array.from(fused.conv!), `${what}: stored conv`).toEqual(Array.from(plain));
              fired += fused.counts.reduce((a, b) => a + b, 0);
              neurons += T * per;
            }
          }
        }
      }
      // The cases exercise both outcomes (output firing rate well inside (0, 1)).
      expect(fired / neurons).toBeGreaterThan(0.1);
      expect(fired / neurons).toBeLessThan(0.9);
    });
  }
});

async function gpuConvLif(kind: 'spike' | 'dense', x: ArrayBufferView, steps: number, xStepStride: number, cc: ConvCase,
  weight: Float32Array, bias: Float32Array | null, bns: BatchNormParams[], oh: number, ow: number, cols: 1 | 4 | undefined,
  residual: { data: Float32Array; stepStride: number } | undefined, l: ConvLif) {
  const affines = bns.map((bn) => batchNormAffine(bn));
  const shape: ConvShape = {
    cin: cc.cin, h: cc.h, w: cc.w, cout: cc.cout, oh, ow, kernel: cc.k, stride: cc.s, pad: cc.p, depthwise: false,
    steps, hasBias: !!bias, nAffine: affines.length, xStepStride, out: denseOutput(cc.cout, oh, ow), cols,
    residual: residual ? { stepStride: residual.stepStride } : undefined, lif: l,
  };
  const call = kind === 'spike' ? spikeConvKernel(shape) : denseConvKernel(shape);
  const T = l.timeSteps, N = oh * ow;
  const convBytes = steps * cc.cout * N * 4;
  const words = spikeWords(l.layout, T, cc.cout, N);
  const b = {
    X: storageBuffer(device, x), W: storageBuffer(device, packConvWeights(weight, cc.cout, cc.cin, cc.k)),
    P: storageBuffer(device, packEpilogue(cc.cout, bias, affines)), O: storageBuffer(device, l.storeConv ? convBytes : 16),
    S: storageBuffer(device, words * 4), counts: storageBuffer(device, new Uint32Array(2 * T)),
    M: storageBuffer(device, l.writeMembrane ? T * cc.cout * N * 4 : 16),
    ...(residual ? { R: storageBuffer(device, residual.data) } : {}),
  };
  await runKernel(device, cache, call, b);
  const out = {
    spikes: unpackSpikes(u32(await readBuffer(device, b.S, words * 4)), l.layout, T, cc.cout, N),
    counts: Array.from(u32(await readBuffer(device, b.counts, 2 * T * 4)).subarray(T)),
    membrane: l.writeMembrane ? f32(await readBuffer(device, b.M, T * cc.cout * N * 4)) : null,
    conv: l.storeConv ? f32(await readBuffer(device, b.O, convBytes)) : null,
  };
  Object.values(b).forEach((buf) => buf.destroy());
  return out;
}

describe('dense_conv.wgsl with a depthwise input (DW = 1): RepConv\'s 3×3 computed inside the 1×1 reading it', () => {
  // The unfused pair: dense_dwconv (3×3, no bias, stride 1, no padding, on the BN-and-pad output)
  // into a buffer, then dense_conv 1×1 on it. The fused kernel must give the same bits: the
  // stored conv, the residual sum, the spikes, counts and membranes of a fused neuron.
  const cases = [
    { c: 37, groups: 1, h: 9, w: 11 }, // 2 channel words, the last partial; 99 pixels
    { c: 36, groups: 3, h: 5, w: 7 }, // the q/k/v chains merged: 3 groups of 12 (a word straddles groups)
    { c: 96, groups: 3, h: 3, w: 5 }, // 3 groups of one whole word each
  ];
  for (const T of [1, 3]) {
    test(`T=${T}: entries main, residual (8 output vec4s a thread), lif, residual_lif, against the unfused pair with 1 and 4 columns; output firing rates 0, about 50 and 100 %`, async () => {
      for (const cs of cases) {
        const { c, groups, h, w } = cs;
        const ph = h + 2, pw = w + 2, cinG = c / groups, N = h * w, per = c * N;
        const x = randomNormal(T * c * ph * pw, 1, 0.2);
        const dwWeight = randomNormal(c * 9, 1 / 3);
        const pwWeight = randomNormal(c * cinG, 1 / Math.sqrt(cinG));
        const bns = [randomBn(c), randomBn(c)];
        const affines = bns.map((bn) => batchNormAffine(bn));
        const base: ConvShape = {
          cin: c, h, w, cout: c, oh: h, ow: w, kernel: 1, stride: 1, pad: 0, depthwise: false, groups, steps: T,
          hasBias: false, nAffine: 2, xStepStride: c * ph * pw, out: denseOutput(c, h, w),
        };
        // Unfused: the depthwise map, then the 1×1.
        const dwBufs = [storageBuffer(device, x), storageBuffer(device, packDepthwiseWeights(dwWeight, c, 3)), storageBuffer(device, packEpilogue(c, null, [])), storageBuffer(device, T * per * 4)];
        await runKernel(device, cache, denseConvKernel({
          cin: c, h: ph, w: pw, cout: c, oh: h, ow: w, kernel: 3, stride: 1, pad: 0, depthwise: true, steps: T,
          hasBias: false, nAffine: 0, xStepStride: c * ph * pw, out: denseOutput(c, h, w),
        }), { X: dwBufs[0], W: dwBufs[1], P: dwBufs[2], O: dwBufs[3] });
        const pwPacked = packConvWeights(pwWeight, c, cinG, 1);
        const both = new Float32Array(pwPacked.length + 9 * roundUp4(c));
        both.set(pwPacked);
        both.set(packDepthwiseWeights(dwWeight, c, 3), pwPacked.length);
        const bufs = { Xdw: dwBufs[3], X: dwBufs[0], Wpw: storageBuffer(device, pwPacked), W: storageBuffer(device, both), P: storageBuffer(device, packEpilogue(c, null, affines)) };
        const dwInput = { kernel: 3, h: ph, w: pw, channels: c, weightsAt: pwPacked.length / 4 };
        for (const residualMean of [-100, 0, 100]) {
          const r = randomNormal(T * per, 0.5, residualMean);
          const R = storageBuffer(device, r);
          for (const cols of [1, 4] as const) {
            // main and residual: the stored map
            for (const residual of [false, true]) {
              const run = async (fused: boolean) => {
                const O = storageBuffer(device, T * per * 4);
                const shape = { ...base, cols, ...(residual ? { residual: { stepStride: per } } : {}), ...(fused ? { depthwiseInput: dwInput, xStepStride: c * ph * pw } : { xStepStride: per }) };
                await runKernel(device, cache, denseConvKernel(shape), { X: fused ? bufs.X : bufs.Xdw, W: fused ? bufs.W : bufs.Wpw, P: bufs.P, O, ...(residual ? { R } : {}) });
                const out = f32(await readBuffer(device, O, T * per * 4));
                O.destroy();
                return out;
              };
              const what = `${JSON.stringify(cs)} cols ${cols} residual ${residual} (mean ${residualMean})`;
              const unfused = await run(false);
              expect(Array.from(await run(true)), what).toEqual(Array.from(unfused));
              expect(unfused.some((v) => v !== 0), what).toBe(true);
            }
          }
          // lif and residual_lif (one column): spikes, counts, membranes, stored map
          for (const residual of [false, true]) {
            for (const layout of ['channel', 'token'] as SpikeLayout[]) {
              const words = spikeWords(layout, T, c, N);
              const run = async (fused: boolean) => {
                const b = { O: storageBuffer(device, T * per * 4), S: storageBuffer(device, words * 4), counts: storageBuffer(device, new Uint32Array(2 * T)), M: storageBuffer(device, T * per * 4) };
                const shape: ConvShape = {
                  ...base, ...(residual ? { residual: { stepStride: per } } : {}), ...(fused ? { depthwiseInput: dwInput, xStepStride: c * ph * pw } : { xStepStride: per }),
                  lif: { timeSteps: T, layout, storeConv: true, countBase: T, writeMembrane: true, threshold: 1 },
                };
                await runKernel(device, cache, denseConvKernel(shape), { X: fused ? bufs.X : bufs.Xdw, W: fused ? bufs.W : bufs.Wpw, P: bufs.P, ...b, ...(residual ? { R } : {}) });
                const out = {
                  conv: Array.from(f32(await readBuffer(device, b.O, T * per * 4))), spikes: Array.from(u32(await readBuffer(device, b.S, words * 4))),
                  counts: Array.from(u32(await readBuffer(device, b.counts, 2 * T * 4)).subarray(T)), membrane: Array.from(f32(await readBuffer(device, b.M, T * per * 4))),
                };
                Object.values(b).forEach((buf) => buf.destroy());
                return out;
              };
              const what = `${JSON.stringify(cs)} ${layout} residual ${residual} (mean ${residualMean})`;
              const unfused = await run(false);
              expect(await run(true), what).toEqual(unfused);
              if (residual && residualMean < 0) expect(unfused.counts.every((n) => n === 0), what).toBe(true);
              if (residual && residualMean > 0) expect(unfused.counts.every((n) => n === per), what).toBe(true);
              if (residual && residualMean === 0) {
                const fired = unfused.counts.reduce((a, n) => a + n, 0);
                expect(fired > 0 && fired < T * per, what).toBe(true);
              }
            }
          }
          R.destroy();
        }
        [...dwBufs, bufs.Wpw, bufs.W, bufs.P].forEach((b) => b.destroy());
      }
    });
  }
});

describe('dense_conv.wgsl tiled (conv_tile.wgsl entries tile, tile_residual, tile_lif, tile_residual_lif): a conv as a GEMM in workgroup memory (hardware adapters)', () => {
  // The tiled GEMM against the register-tiled entries main / residual on the same inputs: every
  // stored float bit-identical (including the sign of zero), with and without a depthwise input.
  // Input channels past a chunk of 16, output channels past a tile of 32 and pixels past a tile
  // of 32 all occur, and a padded output map; 1×1 convs, and (`conv`) the stem's 7×7 stride 2 and
  // 3×3 convs with and without padding, strided and grouped.
  interface GemmCase {
    cin: number; cout: number; groups: number; h: number; w: number; dw: boolean; outPad: number;
    conv?: { k: number; s: number; p: number };
  }
  const geometry = (cc: GemmCase) => {
    const { k, s: stride, p } = cc.conv ?? { k: 1, s: 1, p: 0 };
    const oh = Math.floor((cc.h + 2 * p - k) / stride) + 1, ow = Math.floor((cc.w + 2 * p - k) / stride) + 1;
    return { k, stride, p, oh, ow };
  };
  const cases: GemmCase[] = [
    { cin: 37, cout: 19, groups: 1, h: 9, w: 11, dw: false, outPad: 0 }, // 3 chunks (the last of 5), 1 partial tile, 99 pixels
    { cin: 16, cout: 70, groups: 1, h: 5, w: 7, dw: false, outPad: 1 }, // 3 channel tiles, the last partial; padded output
    { cin: 48, cout: 96, groups: 3, h: 4, w: 9, dw: false, outPad: 0 }, // grouped: 3 groups of 16 → 32
    { cin: 60, cout: 120, groups: 3, h: 5, w: 7, dw: false, outPad: 0 }, // 3 groups of 20 → 40: 2 tiles a group, the second of 8 channels
    { cin: 96, cout: 96, groups: 3, h: 3, w: 5, dw: true, outPad: 0 }, // q/k/v merged with their depthwise 3×3 (groups of one tile)
    { cin: 36, cout: 36, groups: 3, h: 5, w: 6, dw: true, outPad: 0 }, // groups of 12 channels: a tile of 3 vec4s each
    { cin: 40, cout: 40, groups: 1, h: 6, w: 7, dw: true, outPad: 0 }, // depthwise input, 40 channels: 2 tiles, 3 chunks
    { cin: 3, cout: 16, groups: 1, h: 19, w: 23, dw: false, outPad: 0, conv: { k: 7, s: 2, p: 3 } }, // the stem: 147 taps × channels, 10×12 pixels
    { cin: 20, cout: 40, groups: 1, h: 6, w: 7, dw: false, outPad: 1, conv: { k: 3, s: 1, p: 1 } }, // 3×3 padded, padded output
    { cin: 32, cout: 64, groups: 2, h: 7, w: 9, dw: false, outPad: 0, conv: { k: 3, s: 2, p: 1 } }, // 3×3 stride 2, grouped
    { cin: 8, cout: 12, groups: 1, h: 5, w: 6, dw: false, outPad: 0, conv: { k: 3, s: 1, p: 0 } }, // 3×3 without padding
  ];
  // The 1×1's packed weights, followed with a depthwise input by random 3×3 depthwise weights (W).
  const gemmWeights = (cc: GemmCase, weight: Float32Array) => {
    const packed = packConvWeights(weight, cc.cout, cc.cin / cc.groups, geometry(cc).k);
    if (!cc.dw) return { packed, wAll: packed };
    const wAll = new Float32Array(packed.length + 9 * roundUp4(cc.cin));
    wAll.set(packed);
    wAll.set(packDepthwiseWeights(randomNormal(cc.cin * 9, 1 / 3), cc.cin, 3), packed.length);
    return { packed, wAll };
  };
  // Inputs: real values, or (dense mode's spike maps, without a depthwise input) 0/1 at firing
  // rates 0, 5, 50 and 100 %.
  const inputs: (number | 'real')[] = ['real', ...RATES];
  for (const T of [1, 3]) {
    test(`T=${T}: bit-identical to main and residual, with and without a depthwise input; bias, 2 affines; real inputs and 0/1 inputs at firing rates 0, 5, 50, 100 %`, async () => {
      for (const cc of cases) for (const input of inputs) {
        if (input !== 'real' && cc.dw) continue;
        const { cin, cout, groups, h, w, dw } = cc;
        const { k, stride, p, oh, ow } = geometry(cc);
        const cinG = cin / groups, N = oh * ow;
        const ph = h + 2, pw = w + 2;
        const xLen = dw ? T * cin * ph * pw : T * cin * h * w;
        const x = input === 'real' ? randomNormal(xLen, 1, 0.2) : Float32Array.from(randomSpikes(xLen, input));
        const weight = randomNormal(cout * cinG * k * k, 1 / Math.sqrt(cinG * k * k));
        const bias = randomNormal(cout, 0.3);
        const affines = [randomBn(cout), randomBn(cout)].map((bn) => batchNormAffine(bn));
        const { packed, wAll } = gemmWeights(cc, weight);
        const out = denseOutput(cout, oh, ow, cc.outPad);
        const outLen = T * out.stepStride;
        const per = cout * N;
        const bufs = { X: storageBuffer(device, x), W: storageBuffer(device, wAll), P: storageBuffer(device, packEpilogue(cout, bias, affines)) };
        for (const residual of cc.outPad ? [false] : [false, true]) {
          const R = storageBuffer(device, randomNormal(T * per, 0.5));
          const run = async (tiled: boolean) => {
            const shape: ConvShape = {
              cin, h, w, cout, oh, ow, kernel: k, stride, pad: p, depthwise: false, steps: T,
              ...(groups > 1 ? { groups } : {}), hasBias: true, nAffine: 2, out, tiled,
              xStepStride: dw ? cin * ph * pw : cin * h * w,
              ...(dw ? { depthwiseInput: { kernel: 3, h: ph, w: pw, channels: cin, weightsAt: packed.length / 4 } } : {}),
              ...(residual ? { residual: { stepStride: per } } : {}),
            };
            const call = denseConvKernel(shape);
            expect(call.program.entry).toBe(tiled ? (residual ? 'tile_residual' : 'tile') : (residual ? 'residual' : 'main'));
            const O = storageBuffer(device, new Float32Array(outLen).fill(7));
            await runKernel(device, cache, call, { ...bufs, O, ...(residual ? { R } : {}) });
            const o = f32(await readBuffer(device, O, outLen * 4));
            O.destroy();
            return o;
          };
          const what = `${JSON.stringify(cc)} input ${input} residual ${residual}`;
          const reference = await run(false);
          const tiled = await run(true);
          expect(tiled.length, what).toBe(reference.length);
          let differing = 0;
          for (let i = 0; i < tiled.length; i++) if (!Object.is(tiled[i], reference[i])) differing++;
          expect(differing, what).toBe(0);
          // The interior was written (not the fill value), the padding was not.
          expect(reference.filter((v) => v === 7).length, what).toBe(outLen - T * per);
          R.destroy();
        }
        Object.values(bufs).forEach((b) => b.destroy());
      }
    });
  }
  // tile_lif / tile_residual_lif against lif / residual_lif (the register-tiled kernel, itself
  // tested against the CPU reference above): spikes, counts, membranes and the stored map, every
  // bit; channel-packed (a tile's 8 vec4s one spike word, the last one partial) and dense spikes.
  const lifCases: GemmCase[] = [
    { cin: 37, cout: 19, groups: 1, h: 9, w: 11, dw: false, outPad: 0 },
    { cin: 16, cout: 70, groups: 1, h: 5, w: 7, dw: false, outPad: 0 },
    { cin: 96, cout: 96, groups: 3, h: 3, w: 5, dw: true, outPad: 0 },
    { cin: 40, cout: 40, groups: 1, h: 6, w: 7, dw: true, outPad: 0 },
    { cin: 3, cout: 32, groups: 1, h: 19, w: 23, dw: false, outPad: 0, conv: { k: 7, s: 2, p: 3 } },
    { cin: 20, cout: 40, groups: 1, h: 6, w: 7, dw: false, outPad: 0, conv: { k: 3, s: 1, p: 1 } },
  ];
  for (const T of [1, 3]) {
    test(`T=${T}: tile_lif and tile_residual_lif bit-identical to lif and residual_lif: channel-packed and dense spikes, membranes, stored map; input firing rates 0, 5, 50, 100 % and real`, async () => {
      let fired = 0, neurons = 0;
      for (const cc of lifCases) for (const input of inputs) {
        if (input !== 'real' && cc.dw) continue;
        const { cin, cout, groups, h, w, dw } = cc;
        const { k, stride, p, oh, ow } = geometry(cc);
        const cinG = cin / groups, N = oh * ow, per = cout * N;
        const ph = h + 2, pw = w + 2;
        // A step-invariant real input (one conv step, the neuron over T) where T > 1 and no
        // depthwise: the 70-channel 1×1, and the stem, whose input is the image.
        const steps = T > 1 && input === 'real' && !dw && (cc.cout === 70 || k === 7) ? 1 : T;
        const xLen = dw ? steps * cin * ph * pw : steps * cin * h * w;
        const x = input === 'real' ? randomNormal(xLen, 1, 0.2) : Float32Array.from(randomSpikes(xLen, input));
        const weight = randomNormal(cout * cinG * k * k, 2 / Math.sqrt(cinG * k * k));
        const bias = randomNormal(cout, 0.3, 0.5);
        const affines = [randomBn(cout)].map((bn) => batchNormAffine(bn));
        const { packed, wAll } = gemmWeights(cc, weight);
        const bufs = { X: storageBuffer(device, x), W: storageBuffer(device, wAll), P: storageBuffer(device, packEpilogue(cout, bias, affines)) };
        const R = storageBuffer(device, randomNormal(steps * per, 0.5));
        for (const layout of ['channel', 'dense'] as SpikeLayout[]) {
          for (const [residual, store, membrane, threshold] of [[false, true, true, 1], [true, false, true, 0.5], [true, true, false, 1]] as const) {
            const words = spikeWords(layout, T, cout, N);
            const run = async (tiled: boolean) => {
              const b = { O: storageBuffer(device, steps * per * 4), S: storageBuffer(device, words * 4), counts: storageBuffer(device, new Uint32Array(2 * T)), M: storageBuffer(device, T * per * 4) };
              const shape: ConvShape = {
                cin, h, w, cout, oh, ow, kernel: k, stride, pad: p, depthwise: false, steps,
                ...(groups > 1 ? { groups } : {}), hasBias: true, nAffine: 1, out: denseOutput(cout, oh, ow), tiled,
                xStepStride: steps === 1 ? 0 : dw ? cin * ph * pw : cin * h * w,
                ...(dw ? { depthwiseInput: { kernel: 3, h: ph, w: pw, channels: cin, weightsAt: packed.length / 4 } } : {}),
                ...(residual ? { residual: { stepStride: steps === 1 ? 0 : per } } : {}),
                lif: { timeSteps: T, layout, storeConv: store, countBase: T, writeMembrane: membrane, threshold },
              };
              const call = denseConvKernel(shape);
              expect(call.program.entry).toBe(`${tiled ? 'tile_' : ''}${residual ? 'residual_lif' : 'lif'}`);
              await runKernel(device, cache, call, { ...bufs, ...b, ...(residual ? { R } : {}) });
              const out = {
                conv: Array.from(f32(await readBuffer(device, b.O, steps * per * 4))), spikes: Array.from(u32(await readBuffer(device, b.S, words * 4))),
                counts: Array.from(u32(await readBuffer(device, b.counts, 2 * T * 4))), membrane: Array.from(f32(await readBuffer(device, b.M, T * per * 4))),
              };
              Object.values(b).forEach((buf) => buf.destroy());
              return out;
            };
            const what = `${JSON.stringify(cc)} input ${input} steps ${steps} ${layout} residual ${residual} store ${store} membrane ${membrane}`;
            const reference = await run(false);
            const tiled = await run(true);
            expect(tiled.spikes, what).toEqual(reference.spikes);
            expect(tiled.counts, what).toEqual(reference.counts);
            expect(tiled.counts.slice(0, T).every((n) => n === 0), what).toBe(true); // other rows untouched
            expect(tiled.membrane.every((v, i) => Object.is(v, reference.membrane[i])), what).toBe(true);
            expect(tiled.conv.every((v, i) => Object.is(v, reference.conv[i])), what).toBe(true);
            fired += reference.counts.reduce((a, n) => a + n, 0);
            neurons += T * per;
          }
        }
        R.destroy();
        Object.values(bufs).forEach((b) => b.destroy());
      }
      // Neither silent nor saturated overall.
      expect(fired / neurons).toBeGreaterThan(0.05);
      expect(fired / neurons).toBeLessThan(0.95);
    });
  }
  test('taps in the padding rows are skipped, not added as zeros: the sign of a zero sum survives as in main', async () => {
    // The stem on a black image with biases of -0: taps reading padding rows have weights ≥ 0
    // (fma(0, w, -0) would give +0), the others < 0 (fma(0, w, -0) = -0). main skips those rows,
    // so the border rows' outputs are -0; a GEMM that added the padding as zeros would store +0.
    const cc: GemmCase = { cin: 3, cout: 16, groups: 1, h: 19, w: 23, dw: false, outPad: 0, conv: { k: 7, s: 2, p: 3 } };
    const { k, stride, p, oh, ow } = geometry(cc);
    const weight = new Float32Array(cc.cout * cc.cin * k * k).map((_, i) => (Math.floor((i % (k * k)) / k) < p ? 0.5 : -0.5));
    const bufs = {
      X: storageBuffer(device, new Float32Array(cc.cin * cc.h * cc.w)), W: storageBuffer(device, gemmWeights(cc, weight).wAll),
      P: storageBuffer(device, packEpilogue(cc.cout, new Float32Array(cc.cout).fill(-0), [])),
    };
    const run = async (tiled: boolean) => {
      const call = denseConvKernel({
        cin: cc.cin, h: cc.h, w: cc.w, cout: cc.cout, oh, ow, kernel: k, stride, pad: p, depthwise: false, steps: 1,
        hasBias: true, nAffine: 0, out: denseOutput(cc.cout, oh, ow), tiled, xStepStride: 0,
      });
      const O = storageBuffer(device, new Float32Array(cc.cout * oh * ow).fill(7));
      await runKernel(device, cache, call, { ...bufs, O });
      const o = f32(await readBuffer(device, O, cc.cout * oh * ow * 4));
      O.destroy();
      return o;
    };
    const reference = await run(false);
    const tiled = await run(true);
    const negativeZeros = reference.filter((v) => Object.is(v, -0)).length;
    expect(negativeZeros).toBeGreaterThan(0);
    expect(negativeZeros).toBeLessThan(reference.length); // +0 where a padding row is read
    expect(tiled.filter((v, i) => !Object.is(v, reference[i])).length).toBe(0);
    Object.values(bufs).forEach((b) => b.destroy());
  });
  test('tileFits: any conv but a depthwise one; a fused neuron not token-packed, on groups of whole words', () => {
    const base = { depthwise: false, cout: 96 }; // kernel, stride and padding: any
    const lif = (layout: SpikeLayout) => ({ timeSteps: 1, layout, storeConv: false, countBase: 0, writeMembrane: false, threshold: 1 });
    expect(tileFits(base)).toBe(true);
    expect(tileFits({ ...base, groups: 2 })).toBe(true); // 48 channels a group: tiles of 32 and 16
    expect(tileFits({ ...base, depthwise: true })).toBe(false);
    expect(tileFits({ ...base, lif: lif('channel') })).toBe(true);
    expect(tileFits({ ...base, lif: lif('dense') })).toBe(true);
    expect(tileFits({ ...base, lif: lif('token') })).toBe(false);
    expect(tileFits({ ...base, groups: 3, lif: lif('channel') })).toBe(true);
    expect(tileFits({ ...base, groups: 2, lif: lif('channel') })).toBe(false);
  });
});

describe('spike_dwconv.wgsl blocked (entries block, block_residual): 8 pixels a thread, for software adapters', () => {
  // Against main / residual on the same packed spikes: every stored float bit-identical (Object.is:
  // a bias of -0 where no channel of a vec4 fires must stay -0, as main leaves it). Rows and
  // columns of taps in the padding, a last block past the row's end, channels in a second spike
  // word and a partial vec4, a padded output map, a step-invariant residual.
  const cases = [
    { c: 37, h: 9, w: 11, k: 7, p: 3 }, // SepConv's 7×7: 2 blocks a row, the last of 3 pixels
    { c: 16, h: 6, w: 16, k: 7, p: 3 }, // whole blocks
    { c: 10, h: 7, w: 9, k: 3, p: 1 },
    { c: 6, h: 11, w: 13, k: 3, p: 0 }, // no padding: 11 columns out
    { c: 8, h: 5, w: 30, k: 25, p: 12 }, // the widest kernel whose span fits one mask word
  ];
  const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  for (const T of [1, 3]) {
    test(`T=${T}: bit-identical to main and residual at input firing rates 0, 5, 50, 100 %`, async () => {
      let compared = 0, negativeZeros = 0;
      for (const cc of cases) for (const rate of RATES) {
        const oh = cc.h + 2 * cc.p - cc.k + 1, ow = cc.w + 2 * cc.p - cc.k + 1, per = cc.c * oh * ow;
        const spikes = randomSpikes(T * cc.c * cc.h * cc.w, rate);
        const bias = randomNormal(cc.c, 0.3).map((v, i) => (i % 3 === 0 ? -0 : v));
        const affines = rate === 0.5 ? [batchNormAffine(randomBn(cc.c))] : [];
        const b = {
          X: storageBuffer(device, packSpikes(spikes, 'channel', T, cc.c, cc.h * cc.w)),
          W: storageBuffer(device, packDepthwiseWeights(randomNormal(cc.c * cc.k * cc.k), cc.c, cc.k)),
          P: storageBuffer(device, packEpilogue(cc.c, bias, affines)),
        };
        for (const [residual, outPad] of [[false, 0], [false, 1], [true, 0]] as const) {
          const out = denseOutput(cc.c, oh, ow, outPad);
          const r = residual ? randomNormal(per) : null;
          const run = async (blocked: boolean) => {
            const call = spikeConvKernel({
              cin: cc.c, h: cc.h, w: cc.w, cout: cc.c, oh, ow, kernel: cc.k, stride: 1, pad: cc.p, depthwise: true, steps: T,
              hasBias: true, nAffine: affines.length, xStepStride: Math.ceil(cc.c / 32) * cc.h * cc.w, out, blocked,
              residual: r ? { stepStride: 0 } : undefined,
            });
            expect(call.program.entry).toBe(blocked ? (r ? 'block_residual' : 'block') : (r ? 'residual' : 'main'));
            const O = storageBuffer(device, new Float32Array(T * out.stepStride).fill(7));
            const R = r ? storageBuffer(device, r) : null;
            await runKernel(device, cache, call, { ...b, O, ...(R ? { R } : {}) });
            const o = f32(await readBuffer(device, O, T * out.stepStride * 4));
            O.destroy();
            R?.destroy();
            return o;
          };
          const reference = await run(false);
          const blocked = await run(true);
          const what = `${JSON.stringify(cc)} rate ${rate} residual ${residual} padded ${outPad}`;
          expect(same(blocked, reference), what).toBe(true);
          expect(reference.filter((v) => v !== 7).length, what).toBe(T * per);
          negativeZeros += reference.filter((v) => Object.is(v, -0)).length;
          compared += T * per;
        }
        Object.values(b).forEach((buf) => buf.destroy());
      }
      expect(compared).toBeGreaterThan(0);
      expect(negativeZeros).toBeGreaterThan(0); // the -0 biases were exercised
    });
  }
  test('dwBlockFits: stride 1, the 8 pixels\' input columns in one 32-bit mask', () => {
    expect(dwBlockFits({ stride: 1, kernel: 7 })).toBe(true);
    expect(dwBlockFits({ stride: 1, kernel: 25 })).toBe(true);
    expect(dwBlockFits({ stride: 1, kernel: 27 })).toBe(false);
    expect(dwBlockFits({ stride: 2, kernel: 3 })).toBe(false);
    expect(() => spikeConvKernel({
      cin: 8, h: 8, w: 8, cout: 8, oh: 4, ow: 4, kernel: 3, stride: 2, pad: 1, depthwise: true, steps: 1,
      hasBias: false, nAffine: 0, xStepStride: 64, out: denseOutput(8, 4, 4), blocked: true,
    })).toThrow(/stride 1/);
  });
});

// The event-driven tile (hardware adapters) and the 8-pixel blocks (software adapters) against the
// register-tiled entries on the same packed spikes.
for (const variant of ['tile', 'block'] as const) describe(`spike_conv.wgsl ${variant === 'tile' ? 'tiled (conv_tile.wgsl entries tile, tile_residual, tile_lif, tile_residual_lif): event-driven tiles in workgroup memory (hardware adapters)' : 'blocked (conv_block.wgsl entries block, block_residual, block_lif, block_residual_lif): 8 pixels a thread (software adapters)'}`, () => {
  // Every stored float, spike word, count and membrane bit-identical (Object.is: the sign of zero
  // counts). Input words past the first and partial, taps in the padding, strides, channel tiles
  // past the first and partial, pixel tiles past the first and partial, a padded output map.
  const cases: ConvCase[] = [
    { cin: 37, cout: 19, h: 9, w: 11, k: 1, s: 1, p: 0 }, // 2 input words, the last of 5 channels; 1 partial tile
    { cin: 37, cout: 70, h: 9, w: 11, k: 3, s: 1, p: 1 }, // 3 channel tiles, the last partial; 99 pixels
    { cin: 33, cout: 40, h: 9, w: 11, k: 3, s: 2, p: 1 }, // stride 2: 30 pixels
    { cin: 64, cout: 64, h: 3, w: 13, k: 3, s: 1, p: 1 }, // 2 whole words
    { cin: 70, cout: 32, h: 5, w: 7, k: 3, s: 1, p: 0 }, // no padding
  ];
  const outSize = (cc: ConvCase) => ({ oh: Math.floor((cc.h + 2 * cc.p - cc.k) / cc.s) + 1, ow: Math.floor((cc.w + 2 * cc.p - cc.k) / cc.s) + 1 });
  interface TileRun { cc: ConvCase; T: number; packed: Uint32Array; weight: Float32Array; bias: Float32Array; affines: ReturnType<typeof batchNormAffine>[] }
  const run = async (tiled: boolean, c: TileRun, outPad: number, residual: Float32Array | null, l?: ConvLif) => {
    const { cc, T } = c;
    const { oh, ow } = outSize(cc);
    const N = oh * ow, out = denseOutput(cc.cout, oh, ow, outPad);
    const call = spikeConvKernel({
      cin: cc.cin, h: cc.h, w: cc.w, cout: cc.cout, oh, ow, kernel: cc.k, stride: cc.s, pad: cc.p, depthwise: false,
      steps: T, hasBias: true, nAffine: c.affines.length, xStepStride: Math.ceil(cc.cin / 32) * cc.h * cc.w, out,
      ...(tiled ? { [variant === 'tile' ? 'tiled' : 'blocked']: true } : {}),
      residual: residual ? { stepStride: cc.cout * N } : undefined, lif: l,
    });
    const entry = l ? (residual ? 'residual_lif' : 'lif') : residual ? 'residual' : 'main';
    expect(call.program.entry).toBe(tiled ? (entry === 'main' ? variant : `${variant}_${entry}`) : entry);
    const words = l ? spikeWords(l.layout, T, cc.cout, N) : 1;
    const b = {
      X: storageBuffer(device, c.packed), W: storageBuffer(device, packConvWeights(c.weight, cc.cout, cc.cin, cc.k)),
      P: storageBuffer(device, packEpilogue(cc.cout, c.bias, c.affines)), O: storageBuffer(device, new Float32Array(T * out.stepStride).fill(7)),
      ...(l ? { S: storageBuffer(device, words * 4), counts: storageBuffer(device, new Uint32Array(2 * T)), M: storageBuffer(device, T * cc.cout * N * 4) } : {}),
      ...(residual ? { R: storageBuffer(device, residual) } : {}),
    };
    await runKernel(device, cache, call, b);
    const result = {
      conv: Array.from(f32(await readBuffer(device, b.O, T * out.stepStride * 4))),
      spikes: b.S ? Array.from(u32(await readBuffer(device, b.S, words * 4))) : [],
      counts: b.counts ? Array.from(u32(await readBuffer(device, b.counts, 2 * T * 4))) : [],
      membrane: b.M ? Array.from(f32(await readBuffer(device, b.M, T * cc.cout * N * 4))) : [],
    };
    Object.values(b).forEach((buf) => buf.destroy());
    return result;
  };
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  for (const T of [1, 3]) {
    test(`T=${T}: bit-identical to main, residual, lif and residual_lif; channel-packed and dense spikes; input firing rates 0, 5, 50, 100 %`, async () => {
      let fired = 0, neurons = 0, written = 0;
      for (const cc of cases) for (const rate of RATES) {
        const fanIn = cc.cin * cc.k * cc.k;
        const spikes = randomSpikes(T * cc.cin * cc.h * cc.w, rate);
        const c: TileRun = {
          cc, T, packed: packSpikes(spikes, 'channel', T, cc.cin, cc.h * cc.w), weight: randomNormal(cc.cout * fanIn, 2 / Math.sqrt(fanIn)),
          bias: randomNormal(cc.cout, 0.3, 0.5), affines: [randomBn(cc.cout), randomBn(cc.cout)].map((bn) => batchNormAffine(bn)),
        };
        const { oh, ow } = outSize(cc);
        const per = cc.cout * oh * ow;
        const what = (v: string) => `${JSON.stringify(cc)} rate ${rate} ${v}`;
        for (const [residual, outPad] of [[false, 0], [false, 1], [true, 0]] as const) {
          const r = residual ? randomNormal(T * per, 0.5) : null;
          const reference = await run(false, c, outPad, r);
          const tiled = await run(true, c, outPad, r);
          expect(same(tiled.conv, reference.conv), what(`conv residual ${residual} padded ${outPad}`)).toBe(true);
          expect(reference.conv.filter((v) => v !== 7).length, what('interior written')).toBe(T * per);
          written += T * per;
        }
        const one = { ...c, affines: c.affines.slice(0, 1) };
        for (const layout of (variant === 'tile' ? ['channel', 'dense'] : ['channel', 'token', 'dense']) as SpikeLayout[]) {
          for (const [residual, store, membrane, threshold] of [[false, true, true, 1], [true, false, true, 0.5], [true, true, false, 1]] as const) {
            const l: ConvLif = { timeSteps: T, layout, storeConv: store, countBase: T, writeMembrane: membrane, threshold };
            const r = residual ? randomNormal(T * per, 0.5) : null;
            const reference = await run(false, one, 0, r, l);
            const tiled = await run(true, one, 0, r, l);
            const v = what(`${layout} residual ${residual} store ${store} membrane ${membrane}`);
            expect(tiled.spikes, v).toEqual(reference.spikes);
            expect(tiled.counts, v).toEqual(reference.counts);
            expect(tiled.counts.slice(0, T).every((n) => n === 0), v).toBe(true); // other rows untouched
            expect(same(tiled.membrane, reference.membrane), v).toBe(true);
            expect(same(tiled.conv, reference.conv), v).toBe(true);
            fired += reference.counts.reduce((a, n) => a + n, 0);
            neurons += T * per;
          }
        }
      }
      expect(written).toBeGreaterThan(0);
      // Neither silent nor saturated overall.
      expect(fired / neurons).toBeGreaterThan(0.05);
      expect(fired / neurons).toBeLessThan(0.95);
    });
  }
});

describe('attention.wgsl: spike-driven attention (kᵀv in workgroup memory, then q·kᵀv)', () => {
  for (const T of [1, 3]) {
    for (const dense of [false, true]) {
      test(`T=${T}, ${dense ? 'dense' : 'spike'}`, async () => {
        // d = 5, 12, 8, 80 (55M's last stage: 3 blocks of 8 output vec4s, the last one partial), 20.
        for (const [C, N] of [[40, 35], [96, 6], [64, 70], [640, 37], [160, 33]]) {
          for (const rate of RATES) {
            const heads = 8;
            const [q, k, v] = [0, 1, 2].map(() => randomSpikes(T * C * N, rate));
            const shape = { timeSteps: T, channels: C, tokens: N, heads, dense };
            const qb = storageBuffer(device, packSpikes(q, dense ? 'dense' : 'channel', T, C, N));
            const kb = storageBuffer(device, packSpikes(k, dense ? 'dense' : 'token', T, C, N));
            const vb = storageBuffer(device, packSpikes(v, dense ? 'dense' : 'token', T, C, N));
            const ob = storageBuffer(device, T * C * N * 4);
            await runKernel(device, cache, attentionKernel({ ...shape, scale: 0.125 }), { Q: qb, K: kb, V: vb, O: ob });
            const out = f32(await readBuffer(device, ob, T * C * N * 4));
            const ref = new Float32Array(T * C * N);
            for (let t = 0; t < T; t++) {
              const sl = (a: Uint8Array) => Float32Array.from(a.subarray(t * C * N, (t + 1) * C * N));
              ref.set(spikeAttention(sl(q), sl(k), sl(v), C, N, heads, 0.125), t * C * N);
            }
            expect(Array.from(out), `C ${C} N ${N} rate ${rate}`).toEqual(Array.from(ref));
            for (const b of [qb, kb, vb, ob]) b.destroy();
          }
        }
      });
    }
  }
});

describe('add.wgsl and head.wgsl', () => {
  test('residual add with a step-invariant input', async () => {
    const T = 3, per = 37 * 35;
    const a = randomNormal(per), b = randomNormal(T * per);
    const bufs = [storageBuffer(device, a), storageBuffer(device, b), storageBuffer(device, T * per * 4)];
    await runKernel(device, cache, addKernel({ perStep: per, steps: T, aStepStride: 0, bStepStride: per }), { A: bufs[0], B: bufs[1], O: bufs[2] });
    const out = f32(await readBuffer(device, bufs[2], T * per * 4));
    for (let t = 0; t < T; t++) expect(Array.from(out.subarray(t * per, (t + 1) * per))).toEqual(Array.from(add(a, b.subarray(t * per, (t + 1) * per))));
  });

  test('spatial mean', async () => {
    const T = 3, C = 37, N = 35;
    const x = randomNormal(T * C * N, 1, 1);
    const bufs = { X: storageBuffer(device, x), O: storageBuffer(device, T * C * 4) };
    await runKernel(device, cache, spatialMeanKernel({ channels: C, positions: N, steps: T, xStepStride: C * N }), bufs);
    const out = f32(await readBuffer(device, bufs.O, T * C * 4));
    const ref = new Float32Array(T * C);
    for (let t = 0; t < T; t++) ref.set(spatialMean(x.subarray(t * C * N, (t + 1) * C * N), C, N), t * C);
    expect(relDiff(out, ref)).toBeLessThan(3e-7);
  });

  for (const T of [1, 3]) {
    for (const dense of [false, true]) {
      test(`linear head on spikes, T=${T}, ${dense ? 'dense' : 'spike'}`, async () => {
        for (const rate of RATES) {
          const I = 70, O = 10;
          const s = randomSpikes(T * I, rate);
          const w = randomNormal(O * I, 0.1), bias = randomNormal(O, 0.1);
          const bufs = [storageBuffer(device, packSpikes(s, dense ? 'dense' : 'channel', T, I, 1)), storageBuffer(device, packLinearWeights(w, O, I)),
            storageBuffer(device, packEpilogue(O, bias, [])), storageBuffer(device, T * O * 4)];
          await runKernel(device, cache, linearKernel({ timeSteps: T, inFeatures: I, outFeatures: O, dense }), { X: bufs[0], W: bufs[1], P: bufs[2], O: bufs[3] });
          const out = f32(await readBuffer(device, bufs[3], T * O * 4));
          const ref = new Float32Array(T * O);
          for (let t = 0; t < T; t++) ref.set(linear(Float32Array.from(s.subarray(t * I, (t + 1) * I)), w, bias, O), t * O);
          expect(relDiff(out, ref), `rate ${rate}`).toBeLessThan(1e-6);
        }
      });
    }
  }

  for (const T of [1, 3]) {
    for (const dense of [false, true]) {
      test(`classifier: linear head(s) and logits in one dispatch equal linear then logits bit for bit, T=${T}, ${dense ? 'dense' : 'spike'}`, async () => {
        const I = 70, O = 10;
        for (const rate of RATES) {
          const s = randomSpikes(T * I, rate);
          const x = storageBuffer(device, packSpikes(s, dense ? 'dense' : 'channel', T, I, 1));
          const ws = [randomNormal(O * I, 0.1), randomNormal(O * I, 0.1)], biases = [randomNormal(O, 0.1), randomNormal(O, 0.1)];
          // Unfused: each head's linear, then logits over them.
          const ys = [];
          for (let k = 0; k < 2; k++) {
            const b = [storageBuffer(device, packLinearWeights(ws[k], O, I)), storageBuffer(device, packEpilogue(O, biases[k], [])), storageBuffer(device, T * O * 4)];
            await runKernel(device, cache, linearKernel({ timeSteps: T, inFeatures: I, outFeatures: O, dense }), { X: x, W: b[0], P: b[1], O: b[2] });
            ys.push(b[2]);
            b.slice(0, 2).forEach((buf) => buf.destroy());
          }
          for (const heads of [1, 2]) {
            const plain = storageBuffer(device, O * 4);
            await runKernel(device, cache, logitsKernel({ timeSteps: T, classes: O, heads }), { X: ys[0], W: ys[heads - 1], O: plain });
            const ov = Math.ceil(O / 4);
            const w = new Float32Array(heads * I * ov * 4), p = new Float32Array(heads * ov * 4);
            for (let k = 0; k < heads; k++) {
              w.set(packLinearWeights(ws[k], O, I), k * I * ov * 4);
              p.set(packEpilogue(O, biases[k], []), k * ov * 4);
            }
            const b = [storageBuffer(device, w), storageBuffer(device, p), storageBuffer(device, O * 4)];
            await runKernel(device, cache, classifierKernel({ timeSteps: T, inFeatures: I, outFeatures: O, heads, dense }), { X: x, W: b[0], P: b[1], O: b[2] });
            const fused = Array.from(f32(await readBuffer(device, b[2], O * 4)));
            expect(fused, `rate ${rate} heads ${heads}`).toEqual(Array.from(f32(await readBuffer(device, plain, O * 4))));
            // and the CPU reference's linear, averaged
            const ref = Array.from({ length: O }, (_, o) => {
              const m = (k: number) => Array.from({ length: T }, (_, t) => linear(Float32Array.from(s.subarray(t * I, (t + 1) * I)), ws[k], biases[k], O)[o]).reduce((a, v) => a + v, 0) / T;
              return heads === 1 ? m(0) : (m(0) + m(1)) / 2;
            });
            expect(relDiff(Float32Array.from(fused), Float32Array.from(ref)), `rate ${rate} heads ${heads}`).toBeLessThan(1e-6);
            [...b, plain].forEach((buf) => buf.destroy());
          }
          [x, ...ys].forEach((buf) => buf.destroy());
        }
      });
    }
  }

  test('logits: mean over T, then over head and head_kd', async () => {
    const T = 3, O = 7;
    const y0 = randomNormal(T * O), y1 = randomNormal(T * O);
    for (const heads of [1, 2]) {
      const bufs = { X: storageBuffer(device, y0), W: storageBuffer(device, y1), O: storageBuffer(device, O * 4) };
      await runKernel(device, cache, logitsKernel({ timeSteps: T, classes: O, heads }), bufs);
      const out = f32(await readBuffer(device, bufs.O, O * 4));
      const ref = Float32Array.from({ length: O }, (_, o) => {
        const m = (y: Float32Array) => Math.fround([0, 1, 2].reduce((s, t) => s + y[t * O + o], 0) / T);
        return heads === 1 ? m(y0) : (m(y0) + m(y1)) / 2;
      });
      expect(relDiff(out, ref)).toBeLessThan(1e-6);
    }
  });
});

describe('sibling RepConvs read as one (siblingMerge.ts): grouped dense_conv and neurons on a channel range', () => {
  // The merged plan's two new kernel uses, each against the unmerged kernels on the same data:
  // every float and spike bit-identical, since each output channel keeps its own arithmetic.
  const G = 3;
  for (const T of [1, 3]) {
    test(`T=${T}: a grouped dense_conv equals its groups run one by one (1×1 and 3×3, 4 and 1 columns)`, async () => {
      for (const [cinG, coutG, k, p] of [[13, 8, 1, 0], [5, 4, 3, 1], [32, 12, 1, 0]] as const) {
        for (const cols of [4, 1] as const) {
          const h = 7, w = 9, cin = G * cinG, cout = G * coutG;
          const x = randomNormal(T * cin * h * w);
          const weight = randomNormal(cout * cinG * k * k, 1 / Math.sqrt(cinG * k * k));
          const bns = [randomBn(cout), randomBn(cout)];
          const affines = bns.map((bn) => batchNormAffine(bn));
          const base: ConvShape = {
            cin, h, w, cout, oh: h, ow: w, kernel: k, stride: 1, pad: p, depthwise: false, steps: T, hasBias: false,
            nAffine: 2, xStepStride: cin * h * w, out: denseOutput(cout, h, w), cols, groups: G,
          };
          const bufs = [storageBuffer(device, x), storageBuffer(device, packConvWeights(weight, cout, cinG, k)),
            storageBuffer(device, packEpilogue(cout, null, affines)), storageBuffer(device, T * cout * h * w * 4)];
          await runKernel(device, cache, denseConvKernel(base), { X: bufs[0], W: bufs[1], P: bufs[2], O: bufs[3] });
          const grouped = f32(await readBuffer(device, bufs[3], T * cout * h * w * 4));
          bufs.forEach((b) => b.destroy());
          for (let g = 0; g < G; g++) {
            // Group g alone: its input channels, weights and affines as an ordinary conv.
            const xg = new Float32Array(T * cinG * h * w);
            for (let t = 0; t < T; t++) xg.set(x.subarray((t * cin + g * cinG) * h * w, (t * cin + (g + 1) * cinG) * h * w), t * cinG * h * w);
            const wg = weight.subarray(g * coutG * cinG * k * k, (g + 1) * coutG * cinG * k * k);
            const ag = affines.map((a) => ({ scale: a.scale.subarray(g * coutG, (g + 1) * coutG), shift: a.shift.subarray(g * coutG, (g + 1) * coutG) }));
            const one = [storageBuffer(device, xg), storageBuffer(device, packConvWeights(wg, coutG, cinG, k)),
              storageBuffer(device, packEpilogue(coutG, null, ag)), storageBuffer(device, T * coutG * h * w * 4)];
            await runKernel(device, cache, denseConvKernel({ ...base, cin: cinG, cout: coutG, xStepStride: cinG * h * w, out: denseOutput(coutG, h, w), groups: 1 }),
              { X: one[0], W: one[1], P: one[2], O: one[3] });
            const alone = f32(await readBuffer(device, one[3], T * coutG * h * w * 4));
            one.forEach((b) => b.destroy());
            const mine = new Float32Array(T * coutG * h * w);
            for (let t = 0; t < T; t++) mine.set(grouped.subarray((t * cout + g * coutG) * h * w, (t * cout + (g + 1) * coutG) * h * w), t * coutG * h * w);
            expect(Array.from(mine), `cin/group ${cinG} cout/group ${coutG} k ${k} cols ${cols} group ${g}`).toEqual(Array.from(alone));
            // and the CPU reference's conv of that group
            const ref = cpuConv(xg, T, { cin: cinG, cout: coutG, h, w, k, s: 1, p }, wg, null, bns.map((bn) => ({
              weight: bn.weight.subarray(g * coutG, (g + 1) * coutG), bias: bn.bias.subarray(g * coutG, (g + 1) * coutG),
              runningMean: bn.runningMean.subarray(g * coutG, (g + 1) * coutG), runningVar: bn.runningVar.subarray(g * coutG, (g + 1) * coutG), eps: bn.eps,
            })), 0);
            expect(relDiff(mine, ref.out)).toBeLessThan(1e-5);
          }
        }
      }
    });

    test(`T=${T}: lif.wgsl with three layers on channel ranges of one map equals each range copied out and run alone, at firing rates 0, 5, 50, 100 %`, async () => {
      // The q, k and v neurons after their merged RepConvs: one dispatch, three layers, each with
      // its own layout, input range, affine, counts row and membrane range.
      const C = 37, N = 45, before = 11, after = 6, wide = before + 3 * C + after;
      const plans: SpikeLayout[][] = [['channel', 'token', 'token'], ['dense', 'dense', 'dense'], ['token', 'channel']];
      for (const layouts of plans) {
        for (const rate of RATES) {
          const x = rate === 0 ? Float32Array.from({ length: T * wide * N }, () => -3 - rand())
            : rate === 1 ? Float32Array.from({ length: T * wide * N }, () => 3 + rand())
              : rate === 0.05 ? randomNormal(T * wide * N, 1, 2 - 1.64) : randomNormal(T * wide * N, 1.5, 1.7);
          // A BatchNorm per layer that keeps the rate: scale near 1, shift near 0.
          const bns = layouts.map((): BatchNormParams => ({
            weight: Float32Array.from({ length: C }, () => 0.9 + 0.2 * rand()), bias: randomNormal(C, 0.05),
            runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), eps: 1e-5,
          }));
          const affines = bns.map((bn) => batchNormAffine(bn));
          const ranges = layouts.map((_, k) => {
            const r = new Float32Array(T * C * N);
            for (let t = 0; t < T; t++) r.set(x.subarray((t * wide + before + k * C) * N, (t * wide + before + (k + 1) * C) * N), t * C * N);
            return r;
          });
          const per = T * C * N;
          const alone = [];
          for (let k = 0; k < layouts.length; k++) {
            const words = spikeWords(layouts[k], T, C, N);
            const b = [storageBuffer(device, ranges[k]), storageBuffer(device, packLifAffines(C, [affines[k]])), storageBuffer(device, words * 4),
              storageBuffer(device, 16), storageBuffer(device, 16), storageBuffer(device, new Uint32Array(2 * T)), storageBuffer(device, per * 4)];
            await runKernel(device, cache, lifKernel({ timeSteps: T, channels: C, positions: N, xStepStride: C * N, nAffine: 1, threshold: 1, layers: [{ layout: layouts[k], countBase: T, membrane: 0 }] }),
              { X: b[0], P: b[1], O: b[2], O1: b[3], O2: b[4], counts: b[5], M: b[6] });
            alone.push({ spikes: Array.from(u32(await readBuffer(device, b[2], words * 4))), counts: Array.from(u32(await readBuffer(device, b[5], 2 * T * 4)).subarray(T)),
              membrane: Array.from(f32(await readBuffer(device, b[6], per * 4))) });
            b.forEach((buf) => buf.destroy());
          }
          // All layers in one dispatch: counts rows 1.., membranes side by side after a gap.
          const words = layouts.map((l) => spikeWords(l, T, C, N));
          const p = new Float32Array(layouts.length * 2 * C);
          affines.forEach((a, k) => p.set(packLifAffines(C, [a]), k * 2 * C));
          const outs = [0, 1, 2].map((k) => storageBuffer(device, (words[k] ?? 4) * 4));
          const b = [storageBuffer(device, x), storageBuffer(device, p), storageBuffer(device, new Uint32Array((layouts.length + 1) * T)), storageBuffer(device, (7 + 3 * per) * 4)];
          await runKernel(device, cache, lifKernel({
            timeSteps: T, channels: C, positions: N, xStepStride: wide * N, nAffine: 1, threshold: 1,
            layers: layouts.map((layout, k) => ({ layout, xOffset: (before + k * C) * N, countBase: (k + 1) * T, membrane: 7 + k * per })),
          }), { X: b[0], P: b[1], O: outs[0], O1: outs[1], O2: outs[2], counts: b[2], M: b[3] });
          const counts = Array.from(u32(await readBuffer(device, b[2], (layouts.length + 1) * T * 4)));
          const membrane = Array.from(f32(await readBuffer(device, b[3], (7 + 3 * per) * 4)));
          for (let k = 0; k < layouts.length; k++) {
            const what = `${layouts.join('/')} layer ${k} rate ${rate}`;
            expect(Array.from(u32(await readBuffer(device, outs[k], words[k] * 4))), what).toEqual(alone[k].spikes);
            expect(counts.slice((k + 1) * T, (k + 2) * T), what).toEqual(alone[k].counts);
            expect(membrane.slice(7 + k * per, 7 + (k + 1) * per), what).toEqual(alone[k].membrane);
            // and the CPU reference's neuron on the affined range
            const ref = lif(Array.from({ length: T }, (_, t) => batchNorm(ranges[k].slice(t * C * N, (t + 1) * C * N), C, 1, N, bns[k])), 1, false);
            expect(alone[k].counts, `${what}: counts against the CPU reference`).toEqual(ref.spikes.map((s) => s.reduce((a, v) => a + v, 0)));
            if (rate === 0) expect(alone[k].counts.every((n) => n === 0), what).toBe(true);
            if (rate === 1) expect(alone[k].counts.every((n) => n === C * N), what).toBe(true);
          }
          expect(counts.slice(0, T).every((n) => n === 0)).toBe(true);
          outs.forEach((o) => o.destroy());
          b.forEach((buf) => buf.destroy());
        }
      }
    });
  }
});
