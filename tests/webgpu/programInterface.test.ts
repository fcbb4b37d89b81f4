/**
 * Every shader's interface, as read from its WGSL (`struct Uniforms`, `@binding` declarations,
 * entry points), against the TypeScript that fills it: each step of real plans packs its uniforms
 * and binds its buffers by name; a wrong, missing or extra uniform field and a wrong binding name
 * each fail at plan time with an error naming the shader and the field. Node, no GPU.
 */
import { describe, expect, test, vi } from 'vitest';
import { defaultConfig } from '../../src/model/config.ts';
import { buildModelGraph } from '../../src/model/graph.ts';
import {
  addKernel, classifierKernel, denseConvKernel, denseOutput, detectionDecodeKernel, linearKernel, segmentationMaskKernel, spikeConvKernel,
  type ConvShape,
} from '../../src/runtime/webgpu/kernels.ts';
import { buildPlan, type ExecutionPlan } from '../../src/runtime/webgpu/plan.ts';
import { preprocessKernel } from '../../src/runtime/webgpu/preprocess.ts';
import { ProgramInterface, ProgramInterfaceError } from '../../src/runtime/webgpu/programInterface.ts';
import { programInterface, SHADER_NAMES, shaderSource } from '../../src/runtime/webgpu/shaders.ts';
import { digitsConfig } from '../helpers/headsModel.ts';

function plans(): { what: string; plan: ExecutionPlan }[] {
  const out: { what: string; plan: ExecutionPlan }[] = [];
  for (const mode of ['spike', 'dense'] as const) {
    const graph = buildModelGraph(defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 1000, timeSteps: 2 }), 64, 64);
    out.push({ what: `classifier ${mode}`, plan: buildPlan(graph, null, { mode, membranes: [graph.ops.find((o) => o.kind === 'lif')!.name] }) });
  }
  out.push({ what: 'task heads', plan: buildPlan(buildModelGraph(digitsConfig(), 64, 64), null) });
  return out;
}

const conv: ConvShape = {
  cin: 37, h: 9, w: 11, cout: 19, oh: 9, ow: 11, kernel: 3, stride: 1, pad: 1, depthwise: false, steps: 2,
  hasBias: true, nAffine: 1, xStepStride: 0, out: denseOutput(19, 9, 11),
};

describe('shader interfaces', () => {
  test('every shader parses: uniform fields laid out, bindings declared, entry points found', () => {
    for (const name of SHADER_NAMES) {
      const iface = programInterface(name);
      expect(iface.entryPoints.size, name).toBeGreaterThan(0);
      expect(iface.uniformBinding?.binding, name).toBe(0);
      expect(iface.uniformBytes % 16, name).toBe(0);
      for (const e of iface.entryPoints.values()) {
        expect(e.usesUniform, `${name} ${e.name}`).toBe(true);
        // Every field an entry point reads is declared.
        for (const f of e.uniformFields) expect(iface.uniformFields.map((x) => x.name), `${name} ${e.name}`).toContain(f);
      }
      expect(shaderSource(name)).not.toMatch(/^\/\/@include/m);
    }
    expect(programInterface('spike_conv').uniformFields.map((f) => f.name)).toEqual([
      'cin', 'cwin', 'inH', 'inW', 'cout', 'ov', 'outH', 'outW', 'k', 'stride', 'pad', 'total',
      'hasBias', 'nAffine', 'xStepStride', 'outStepStride', 'outPlaneStride', 'outRowStride', 'outOffset', 'rStepStride',
      'timeSteps', 'convSteps', 'storeConv', 'spikeLayout', 'countBase', 'writeMembrane', 'threshold',
      'groupCout', 'tiles', 'groupTiles', 'pixelTiles',
    ]);
    // Entry points that use a subset of the bindings (what layout: 'auto' will contain).
    const decode = programInterface('detection_decode');
    expect(decode.entry('peaks').bindings).toEqual(['HEAT', 'CAND']);
    expect(decode.entry('rank').bindings).toEqual(['HEAT', 'CANDR', 'TOP']);
    expect(decode.entry('nms').bindings).toEqual(['HEAT', 'REG', 'CANDR', 'TOPR', 'OUT']);
    expect(decode.entry('nms').workgroupSize).toBe(1);
    expect(decode.entry('peaks').workgroupSize).toBe(64);
    for (const conv of ['spike_conv', 'spike_dwconv', 'dense_conv', 'dense_dwconv'] as const) {
      expect(programInterface(conv).entry('main').bindings, conv).toEqual(['X', 'W', 'P', 'O']);
      expect(programInterface(conv).entry('residual').bindings, conv).toEqual(['X', 'W', 'P', 'O', 'R']);
      expect(programInterface(conv).entry('main').uniformFields.has('rStepStride'), conv).toBe(false);
      expect(programInterface(conv).entry('residual').uniformFields.has('rStepStride'), conv).toBe(true);
      expect(programInterface(conv).entry('main').uniformFields.has('threshold'), conv).toBe(false);
    }
    // The LIF fused into the epilogue (conv_lif.wgsl) of the two non-depthwise convs.
    for (const conv of ['spike_conv', 'dense_conv'] as const) {
      expect(programInterface(conv).entry('lif').bindings, conv).toEqual(['X', 'W', 'P', 'O', 'S', 'counts', 'M']);
      expect(programInterface(conv).entry('residual_lif').bindings, conv).toEqual(['X', 'W', 'P', 'O', 'R', 'S', 'counts', 'M']);
      expect(programInterface(conv).entry('lif').uniformFields.has('threshold'), conv).toBe(true);
      // The tiled entries (conv_tile.wgsl) use the bindings of their register-tiled twins.
      for (const entry of ['main', 'residual', 'lif', 'residual_lif']) {
        const tiled = entry === 'main' ? 'tile' : `tile_${entry}`;
        expect(programInterface(conv).entry(tiled).bindings, `${conv} ${tiled}`).toEqual(programInterface(conv).entry(entry).bindings);
        expect(programInterface(conv).entry(tiled).uniformFields.has('pixelTiles'), `${conv} ${tiled}`).toBe(true);
      }
    }
    const head = programInterface('head');
    expect(head.entry('spatial_mean').bindings).toEqual(['X', 'O']);
    expect(head.entry('linear').bindings).toEqual(['X', 'W', 'P', 'O']);
    expect(head.entry('logits').bindings).toEqual(['X', 'W', 'O']);
    expect([...head.entry('logits').uniformFields].sort()).toEqual(['heads', 'outFeatures', 'steps', 'total']);
  });

  test('WGSL uniform layout: vec3 aligned to 16, struct size rounded to its alignment and to 16', () => {
    const iface = programInterface('preprocess');
    const at = Object.fromEntries(iface.uniformFields.map((f) => [f.name, f.offset]));
    expect(at).toEqual({ outW: 0, outH: 4, srcW: 8, srcH: 12, x0: 16, y0: 20, scaleX: 24, scaleY: 28, mean: 32, invStd: 48 });
    expect(iface.uniformBytes).toBe(64);
    const words = iface.pack('main', preprocessKernel(640, 480, { height: 32, width: 48, mean: [0.5, 0.25, 0.125], std: [2, 4, 8] }).uniforms);
    const f = new Float32Array(words.buffer);
    expect(Array.from(words.subarray(0, 4))).toEqual([48, 32, 640, 480]);
    expect(Array.from(f.subarray(8, 16))).toEqual([0.5, 0.25, 0.125, 0, 0.5, 0.25, 0.125, 0]);
    const layout = new ProgramInterface('layout', `
      struct Uniforms { a: u32, b: vec2f, c: f32, d: vec3<i32>, e: i32, @align(16) g: u32, @size(8) h: f32 }
      @group(0) @binding(0) var<uniform> U: Uniforms;
      @compute @workgroup_size(8, 2) fn main() { let x = U.a; }`);
    expect(layout.uniformFields.map((x) => [x.name, x.offset])).toEqual([['a', 0], ['b', 8], ['c', 16], ['d', 32], ['e', 44], ['g', 48], ['h', 52]]);
    expect(layout.uniformBytes).toBe(64); // struct size 60 → 64 (alignment 16)
    expect(layout.entry('main').workgroupSize).toBe(16);
    const packed = layout.pack('main', { a: 7, b: [1.5, -2], d: [-1, 2, -3], e: -4, h: 0.1 });
    expect(layout.unpack(packed)).toEqual({ a: 7, b: [1.5, -2], c: 0, d: [-1, 2, -3], e: -4, g: 0, h: Math.fround(0.1) });
  });

  test('every step of real plans packs and binds by name consistently with its shader', () => {
    let steps = 0;
    const shaders = new Set<string>();
    for (const { what, plan } of plans()) {
      for (const s of plan.steps) {
        const iface = programInterface(s.program.shader);
        const entry = iface.entry(s.program.entry);
        const where = `${what}: ${s.name} (${s.program.shader}.${s.program.entry})`;
        expect(s.uniforms.byteLength, where).toBe(iface.uniformBytes);
        // The bindings given are exactly those the entry point uses, each a buffer of the plan.
        expect(Object.keys(s.bindings).sort(), where).toEqual([...entry.bindings].sort());
        const slots = iface.bind(s.program.entry, s.bindings);
        for (const slot of slots) expect(plan.buffers[slot.resource], where).toBeDefined();
        // Re-packing the unpacked words gives the same words; `total`, where read, is the thread count.
        const fields = iface.unpack(s.uniforms);
        expect(iface.pack(s.program.entry, fields), where).toEqual(s.uniforms);
        if (entry.uniformFields.has('total')) expect(fields.total, where).toBe(s.threads);
        steps++;
        shaders.add(s.program.shader);
      }
    }
    expect(steps).toBeGreaterThan(100);
    expect([...shaders].sort()).toEqual(['add', 'attention', 'dense_conv', 'dense_dwconv', 'head', 'lif', 'spike_conv', 'spike_dwconv', 'upsample']);
  });

  test('the builders outside plans (task decoder, preprocessing) pack by name', () => {
    const d = { classes: 2, height: 64, width: 64, stride: 8, logitThreshold: 0.1, preNmsTopK: 20, nmsIou: 0.5, maxDetections: 5 };
    for (const entry of ['peaks', 'rank', 'nms'] as const) {
      const call = detectionDecodeKernel(entry, d);
      const u = programInterface('detection_decode').unpack(programInterface('detection_decode').pack(entry, call.uniforms));
      expect(u.topK).toBe(20);
      expect(u.logitThreshold).toBeGreaterThanOrEqual(0.1);
      expect(u.nmsIou).toBe(Math.fround(0.5));
    }
    const seg = segmentationMaskKernel({ classes: 3, height: 64, width: 64, stride: 4 });
    expect(programInterface('segmentation_mask').unpack(programInterface('segmentation_mask').pack('main', seg.uniforms)).total).toBe(seg.threads);
  });
});

describe('a mismatch between TypeScript and WGSL throws, naming the shader and the field', () => {
  const iface = programInterface('spike_conv');
  const good = spikeConvKernel(conv).uniforms;

  test('a missing uniform field', () => {
    const { cwin: _, ...missing } = good;
    expect(() => iface.pack('main', missing)).toThrow(ProgramInterfaceError);
    expect(() => iface.pack('main', missing)).toThrow('spike_conv.wgsl (main): uniform field cwin (u32) is missing');
  });

  test('an extra uniform field (a name struct Uniforms lacks)', () => {
    expect(() => iface.pack('main', { ...good, cwords: 2 })).toThrow('spike_conv.wgsl (main): struct Uniforms has no field cwords');
    // A field of the struct that another entry point reads may be left out, not misspelled.
    const head = programInterface('head');
    expect(() => head.pack('logits', linearKernel({ timeSteps: 2, inFeatures: 7, outFeatures: 3, dense: false }).uniforms))
      .toThrow('head.wgsl (logits): uniform field steps (u32) is missing');
  });

  test('a wrong uniform value: not a whole number for a u32, wrong vector length', () => {
    expect(() => iface.pack('main', { ...good, cin: -1 })).toThrow('spike_conv.wgsl (main): uniform field cin is u32 and cannot hold -1');
    expect(() => iface.pack('main', { ...good, pad: 0.5 })).toThrow('uniform field pad is u32 and cannot hold 0.5');
    expect(() => programInterface('preprocess').pack('main', { ...preprocessKernel(8, 8, { height: 4, width: 4, mean: [0, 0, 0], std: [1, 1, 1] }).uniforms, mean: [0, 0, 0, 0] }))
      .toThrow('preprocess.wgsl (main): uniform field mean is vec3f and takes 3 numbers, not 4');
  });

  test('a wrong, missing or unused binding name', () => {
    expect(() => iface.bind('main', { X: 1, W: 2, P: 3, OUT: 4 })).toThrow('spike_conv.wgsl (main): no binding is named OUT (the shader declares X, W, P, O, R, S, counts, M)');
    expect(() => iface.bind('main', { X: 1, W: 2, O: 4 })).toThrow('spike_conv.wgsl (main): binding P (array<vec4f>) is not given');
    expect(() => iface.bind('main', { X: 1, W: 2, P: 3, O: 4, U: 5 })).toThrow('spike_conv.wgsl (main): binding U is the uniform buffer, which is bound automatically');
    expect(() => programInterface('head').bind('spatial_mean', { X: 1, W: 2, O: 3 }))
      .toThrow('head.wgsl (spatial_mean): binding W is not used by this entry point (it uses X, O)');
    expect(() => programInterface('head').bind('main', { X: 1 })).toThrow('head.wgsl has no entry point main (it has spatial_mean, linear, logits, classifier)');
  });

  test('at plan time: a builder whose fields, or a step whose bindings, do not match the shader fails buildPlan', async () => {
    const graph = buildModelGraph(defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, timeSteps: 1 }), 32, 32);
    expect(() => buildPlan(graph, null)).not.toThrow();
    // (The residual adds of these graphs are fused into convs, so the head's classifier is mocked.)
    const planWith = async (classifierKernelInstead: typeof classifierKernel) => {
      vi.resetModules();
      vi.doMock('../../src/runtime/webgpu/kernels.ts', async (importOriginal) => ({
        ...await importOriginal<typeof import('../../src/runtime/webgpu/kernels.ts')>(), classifierKernel: classifierKernelInstead,
      }));
      try {
        const { buildPlan: build } = await import('../../src/runtime/webgpu/plan.ts');
        return () => build(graph, null);
      } finally {
        vi.doUnmock('../../src/runtime/webgpu/kernels.ts');
      }
    };
    // A builder that misnames a field (as renaming the WGSL field alone would leave it).
    const renamed = await planWith((a) => {
      const call = classifierKernel(a);
      const { inFeatures, ...rest } = call.uniforms;
      return { ...call, uniforms: { ...rest, inFeats: inFeatures } };
    });
    expect(renamed).toThrow('head.wgsl (classifier): struct Uniforms has no field inFeats');
    // A builder whose shader declares other bindings than the planner gives (X, W, P, O).
    const otherShader = await planWith((a) => ({ ...classifierKernel(a), program: { shader: 'upsample', entry: 'main', defines: { MODE: 0 } } }));
    expect(otherShader).toThrow('upsample.wgsl (main): no binding is named W (the shader declares X, O)');
  });

  test('a shader that shadows a binding name in a function is refused (its use could not be told)', () => {
    expect(() => new ProgramInterface('bad', `
      @group(0) @binding(1) var<storage, read> X: array<f32>;
      @compute @workgroup_size(64) fn main() { let X = 1.0; }`)).toThrow('bad.wgsl: fn main declares X, the name of a binding; rename it');
  });

  test('dense_conv, which has no cwin, refuses one', () => {
    expect(() => programInterface('dense_conv').pack('main', { ...denseConvKernel(conv).uniforms, cwin: 2 }))
      .toThrow('dense_conv.wgsl (main): struct Uniforms has no field cwin');
    expect(() => programInterface('add').pack('main', { ...addKernel({ perStep: 4, steps: 1, aStepStride: 0, bStepStride: 0 }).uniforms, total: undefined as unknown as number }))
      .toThrow('add.wgsl (main): uniform field total (u32) is missing');
  });
});
