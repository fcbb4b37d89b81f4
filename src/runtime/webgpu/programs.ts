/**
 * Shader programs of the WebGPU runtime: the WGSL sources (in `shaders/`), their specialization
 * (the `{{NAME}}` constants a plan step asks for) and a cache of compute pipelines, so that every
 * (shader, entry point, constants) combination is compiled once per device. Scheduling lives in
 * `plan.ts`; this file only knows how to make programs.
 */
import lifSrc from '../../../shaders/lif.wgsl?raw';
import spikeConvSrc from '../../../shaders/spike_conv.wgsl?raw';
import spikeDwconvSrc from '../../../shaders/spike_dwconv.wgsl?raw';
import denseConvSrc from '../../../shaders/dense_conv.wgsl?raw';
import denseDwconvSrc from '../../../shaders/dense_dwconv.wgsl?raw';
import attentionKvSrc from '../../../shaders/attention_kv.wgsl?raw';
import attentionQkvSrc from '../../../shaders/attention_qkv.wgsl?raw';
import addSrc from '../../../shaders/add.wgsl?raw';
import headSrc from '../../../shaders/head.wgsl?raw';
import upsampleSrc from '../../../shaders/upsample.wgsl?raw';
import segmentationMaskSrc from '../../../shaders/segmentation_mask.wgsl?raw';
import detectionDecodeSrc from '../../../shaders/detection_decode.wgsl?raw';
import affineSrc from '../../../shaders/affine.wgsl?raw';
import type { ProgramKey, ShaderName } from './plan.ts';

export const SHADER_SOURCES: Record<ShaderName, string> = {
  lif: lifSrc,
  spike_conv: spikeConvSrc,
  spike_dwconv: spikeDwconvSrc,
  dense_conv: denseConvSrc,
  dense_dwconv: denseDwconvSrc,
  attention_kv: attentionKvSrc,
  attention_qkv: attentionQkvSrc,
  add: addSrc,
  head: headSrc,
  upsample: upsampleSrc,
  segmentation_mask: segmentationMaskSrc,
  detection_decode: detectionDecodeSrc,
};

/** WGSL snippets a shader pulls in with a line `//@include NAME`. */
export const SHADER_INCLUDES: Record<string, string> = { affine: affineSrc };

/**
 * The WGSL of a program: its shader with every line `//@include NAME` replaced by the snippet and
 * every `{{NAME}}` by the step's constant.
 */
export function specializeShader(source: string, defines: Record<string, number>): string {
  const included = source.replace(/^\/\/@include (\w+)$/gm, (_, name: string) => {
    const snippet = SHADER_INCLUDES[name];
    if (snippet === undefined) throw new Error(`shader include ${name} does not exist`);
    return snippet;
  });
  const code = included.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in defines)) throw new Error(`shader constant ${name} is not defined`);
    return String(defines[name]);
  });
  return code;
}

export function programId(key: ProgramKey): string {
  const d = Object.keys(key.defines).sort().map((k) => `${k}=${key.defines[k]}`).join(',');
  return `${key.shader}:${key.entry}:${d}`;
}

/** Compiles each distinct program once (asynchronously, all at the same time). */
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();

  constructor(private readonly device: GPUDevice) {}

  get(key: ProgramKey): Promise<GPUComputePipeline> {
    const id = programId(key);
    let p = this.pipelines.get(id);
    if (!p) {
      const code = specializeShader(SHADER_SOURCES[key.shader], key.defines);
      let module = this.modules.get(code);
      if (!module) {
        module = this.device.createShaderModule({ code, label: id });
        this.modules.set(code, module);
      }
      // Synchronous creation: in headless Chromium on SwiftShader, createComputePipelineAsync
      // sometimes resolves only once other GPU work arrives (a test waited minutes on it).
      const m = module;
      this.device.pushErrorScope('validation');
      const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module: m, entryPoint: key.entry }, label: id });
      p = this.device.popErrorScope().then(async (error) => {
        if (!error) return pipeline;
        const info = await m.getCompilationInfo();
        const errors = info.messages.filter((msg) => msg.type === 'error');
        const detail = errors.length ? errors.map((e) => `line ${e.lineNum}:${e.linePos} ${e.message}`).join('; ') : error.message;
        throw new Error(`WGSL ${id}: ${detail}`);
      });
      this.pipelines.set(id, p);
    }
    return p;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
