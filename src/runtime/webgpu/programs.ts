/**
 * GPU programs: a cache of compute pipelines, so that every (shader, entry point, constants)
 * combination is compiled once per device, and the one way a dispatch is made — pipeline, bind
 * group by binding name (`ProgramInterface.bind`, the uniform binding added here) and dispatch
 * grid — used by the runtime, the task decoder, preprocessing, the tests and the bench.
 * Scheduling lives in `plan.ts`; the shaders and their interfaces in `shaders.ts`.
 */
import type { ProgramCall } from './kernels.ts';
import { align } from './programInterface.ts';
import { programId, programInterface, specializeShader, type ProgramKey } from './shaders.ts';

/** What a binding takes: a buffer (uniform and storage bindings) or a texture view. */
export type ProgramResource = GPUBuffer | GPUTextureView;

/** Where a dispatch's packed uniforms are: a uniform buffer and a byte offset in it. */
export interface UniformSlot {
  buffer: GPUBuffer;
  offset: number;
}

/** Everything one dispatch records. */
export interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  /** Workgroups in x and y. */
  readonly grid: readonly [number, number];
}

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  /** Resolves to the pipeline once the device has validated it; rejects with the WGSL errors. */
  checked: Promise<GPUComputePipeline>;
}

/** Compiles each distinct program once. */
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, CachedPipeline>();

  constructor(private readonly device: GPUDevice) {}

  private compile(key: ProgramKey): CachedPipeline {
    const id = programId(key);
    let cached = this.pipelines.get(id);
    if (!cached) {
      const code = specializeShader(key);
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
      const checked = this.device.popErrorScope().then(async (error) => {
        if (!error) return pipeline;
        const info = await m.getCompilationInfo();
        const errors = info.messages.filter((msg) => msg.type === 'error');
        const detail = errors.length ? errors.map((e) => `line ${e.lineNum}:${e.linePos} ${e.message}`).join('; ') : error.message;
        throw new Error(`WGSL ${id}: ${detail}`);
      });
      cached = { pipeline, checked };
      this.pipelines.set(id, cached);
    }
    return cached;
  }

  /** The program's pipeline, once validated (rejects with the WGSL errors). */
  get(key: ProgramKey): Promise<GPUComputePipeline> {
    return this.compile(key).checked;
  }

  /**
   * The program's pipeline now, for a caller that cannot wait; a WGSL error is logged to the
   * console (and the dispatches using the pipeline fail validation).
   */
  getNow(key: ProgramKey): GPUComputePipeline {
    const cached = this.compile(key);
    cached.checked.catch((e: unknown) => console.error(e));
    return cached.pipeline;
  }

  /** Pipeline, bind group and grid of `call` on `resources` (by binding name), uniforms at `uniform`. */
  async dispatch(call: Pick<ProgramCall, 'program' | 'threads'>, resources: Record<string, ProgramResource>, uniform: UniformSlot | null, label?: string): Promise<Dispatch> {
    const pipeline = await this.get(call.program);
    return {
      pipeline,
      bindGroup: createBindGroup(this.device, pipeline, call.program, resources, uniform, label),
      grid: programInterface(call.program.shader).grid(call.program.entry, call.threads),
    };
  }

  get size(): number {
    return this.pipelines.size;
  }
}

/**
 * The bind group of a program's entry point: `resources` by binding name (checked against the
 * shader's declarations) and, when the entry point reads uniforms, the slot holding them.
 */
export function createBindGroup(device: GPUDevice, pipeline: GPUComputePipeline, key: ProgramKey,
  resources: Record<string, ProgramResource>, uniform: UniformSlot | null, label?: string): GPUBindGroup {
  const iface = programInterface(key.shader);
  const entries: GPUBindGroupEntry[] = iface.bind(key.entry, resources).map((slot) => ({
    binding: slot.binding,
    resource: slot.addressSpace === 'handle' ? slot.resource as GPUTextureView : { buffer: slot.resource as GPUBuffer },
  }));
  if (iface.entry(key.entry).usesUniform) {
    if (!uniform) throw new Error(`${key.shader}.wgsl (${key.entry}) reads uniforms, but no uniform buffer was given`);
    entries.unshift({ binding: iface.uniformBinding!.binding, resource: { buffer: uniform.buffer, offset: uniform.offset, size: iface.uniformBytes } });
  }
  return device.createBindGroup({ label: label ?? programId(key), layout: pipeline.getBindGroupLayout(0), entries });
}

/** Records `dispatch` `repeat` times into `pass`. */
export function recordDispatch(pass: GPUComputePassEncoder, dispatch: Dispatch, repeat = 1): void {
  pass.setPipeline(dispatch.pipeline);
  pass.setBindGroup(0, dispatch.bindGroup);
  for (let i = 0; i < repeat; i++) pass.dispatchWorkgroups(dispatch.grid[0], dispatch.grid[1]);
}

/** One kernel on its own, outside a plan (task decoder, kernel tests, the bench's sweep). */
export interface Kernel {
  readonly dispatch: Dispatch;
  /** Records the kernel's dispatch `repeat` times into a new compute pass of `encoder`. */
  encode(encoder: GPUCommandEncoder, repeat?: number, timestampWrites?: GPUComputePassTimestampWrites): void;
  /** Frees the kernel's uniform buffer. */
  destroy(): void;
}

/** Creates the pipeline, uniform buffer (packed by name) and bind group (by binding name) of `call`. */
export async function prepareKernel(device: GPUDevice, cache: PipelineCache, call: ProgramCall, resources: Record<string, ProgramResource>): Promise<Kernel> {
  const words = programInterface(call.program.shader).pack(call.program.entry, call.uniforms);
  const uniform = device.createBuffer({ size: Math.max(16, words.byteLength), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: programId(call.program) });
  device.queue.writeBuffer(uniform, 0, words);
  const dispatch = await cache.dispatch(call, resources, { buffer: uniform, offset: 0 });
  return {
    dispatch,
    encode(encoder, repeat = 1, timestampWrites) {
      const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
      recordDispatch(pass, dispatch, repeat);
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}

/** Runs one kernel once and waits for it. */
export async function runKernel(device: GPUDevice, cache: PipelineCache, call: ProgramCall, resources: Record<string, ProgramResource>): Promise<void> {
  const k = await prepareKernel(device, cache, call, resources);
  const enc = device.createCommandEncoder();
  k.encode(enc);
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  k.destroy();
}

/** A storage buffer holding `data` (at least 16 bytes). */
export function storageBuffer(device: GPUDevice, data: ArrayBufferView | number): GPUBuffer {
  const bytes = typeof data === 'number' ? data : data.byteLength;
  const buf = device.createBuffer({
    size: Math.max(16, align(bytes, 16)),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    mappedAtCreation: typeof data !== 'number',
  });
  if (typeof data !== 'number') {
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
  }
  return buf;
}

/** Copies `bytes` of `buffer` back to the CPU. */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const size = align(bytes, 4);
  const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, 0, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.destroy();
  return out;
}
