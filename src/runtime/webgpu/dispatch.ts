/**
 * Running one kernel on its own, outside a plan: for the kernel tests and the benchmark's
 * firing-rate sweep. Not used per frame by the runtime (which pre-builds everything).
 */
import type { ProgramCall } from './kernels.ts';
import { workgroupGrid } from './plan.ts';
import type { PipelineCache } from './programs.ts';

export interface PreparedKernel {
  /** Records the kernel's dispatch `repeat` times into a new compute pass of `encoder`. */
  encode(encoder: GPUCommandEncoder, repeat?: number, timestampWrites?: GPUComputePassTimestampWrites): void;
  /** Frees the kernel's uniform buffer. */
  destroy(): void;
}

/** Creates the pipeline, uniform and bind group of one kernel call; `null` skips a binding. */
export async function prepareKernel(device: GPUDevice, cache: PipelineCache, call: ProgramCall, bindings: (GPUBuffer | null)[]): Promise<PreparedKernel> {
  const pipeline = await cache.get(call.program);
  const words = new Uint32Array(Math.ceil(call.uniforms.length / 4) * 4);
  words.set(call.uniforms.map((u) => u >>> 0));
  const uniform = device.createBuffer({ size: words.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniform, 0, words);
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: uniform } },
      ...bindings.flatMap((b, i) => (b ? [{ binding: i + 1, resource: { buffer: b } }] : [])),
    ],
  });
  const [x, y] = workgroupGrid(call.threads);
  return {
    encode(encoder, repeat = 1, timestampWrites) {
      const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      for (let i = 0; i < repeat; i++) pass.dispatchWorkgroups(x, y);
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}

/** A storage buffer holding `data` (at least 16 bytes). */
export function storageBuffer(device: GPUDevice, data: ArrayBufferView | number): GPUBuffer {
  const bytes = typeof data === 'number' ? data : data.byteLength;
  const buf = device.createBuffer({
    size: Math.max(16, Math.ceil(bytes / 16) * 16),
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
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, 0, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.destroy();
  return out;
}

/** Runs one kernel once and waits for it. */
export async function runKernel(device: GPUDevice, cache: PipelineCache, call: ProgramCall, bindings: (GPUBuffer | null)[]): Promise<void> {
  const k = await prepareKernel(device, cache, call, bindings);
  const enc = device.createCommandEncoder();
  k.encode(enc);
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
}
