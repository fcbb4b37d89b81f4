/**
 * WebGPU in Node for the CLI's GPU backends (`infer --backend webgpu`, our runtime, and
 * `--backend onnx-webgpu`, onnxruntime-web's `webgpu` execution provider):
 * Dawn from the npm package `webgpu` (`dawn.node`, Vulkan underneath; the system needs
 * `libvulkan1` and a Vulkan driver).
 *
 * Where no Vulkan driver gives Dawn an adapter (no GPU, or Debian 12's Mesa 22, which Dawn refuses)
 * and `VK_ICD_FILENAMES` is unset, it retries with Chromium's SwiftShader (a Vulkan implementation
 * on the CPU, from Debian's `chromium`), so the backend runs on any machine the browser tests run on.
 * The adapter it got is named in `backendUsed`: a run on SwiftShader says so.
 *
 * What ONNX Runtime Web needs in Node besides `navigator.gpu` (each measured on this project's
 * 2-core machines, a tiny model at 32×32, SwiftShader):
 *  - `GPUQueue.writeBuffer` from a view of a SharedArrayBuffer: ORT's wasm memory is shared, and
 *    dawn.node rejects such data ("Invalid argument"); it is copied to a plain buffer first.
 *  - V8 `--liftoff-only`: Node 20's optimizing compiler took ~50 s tiering up ORT's asyncify wasm
 *    during the first run (perf: TurboFan passes on the main thread); the baseline compiler alone
 *    runs it in ~1 s. Set before ORT compiles its wasm; it affects this process's wasm only.
 *  - On a software adapter (SwiftShader) only, Dawn toggle `disable_workgroup_init`: Dawn's
 *    zero-initialization of workgroup memory made SwiftShader's first run ~8× slower (8 s vs 1 s).
 *    ORT's kernels write workgroup memory before reading it; the CLI test checks spike counts
 *    (exact) and logits against the CPU reference there. A GPU keeps Dawn's defaults.
 *    `SPIKEFORMER_DAWN_TOGGLES` (comma-separated Dawn toggles to enable; empty for none) replaces
 *    this choice on any adapter.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/** Dawn for Node or an adapter is missing; the message says which and what to install. */
export class NodeWebGpuUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeWebGpuUnavailableError';
  }
}

/** Chromium's SwiftShader Vulkan driver (Debian's `chromium-common`). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Dawn toggles for a software adapter. */
const SOFTWARE_DAWN_TOGGLES = 'disable_workgroup_init';

export interface NodeWebGpu {
  gpu: GPU;
  adapter: GPUAdapter;
  /** "google · swiftshader, fallback adapter". */
  description: string;
}

let installed: Promise<NodeWebGpu> | null = null;

/** Sets up `navigator.gpu` (once per process) and returns the adapter ONNX Runtime should use. */
export function installNodeWebGpu(): Promise<NodeWebGpu> {
  installed ??= install();
  return installed;
}

function isFallbackAdapter(adapter: GPUAdapter): boolean {
  return !!(adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter;
}

/** "google · swiftshader, fallback adapter" from what the adapter tells. */
export function describeNodeAdapter(adapter: GPUAdapter): string {
  const info = (adapter.info ?? {}) as Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean };
  const parts = [info.vendor, info.architecture].filter((s): s is string => !!s);
  const name = parts.length > 0 ? parts.join(' · ') : info.description || 'unnamed adapter';
  return `${name}${isFallbackAdapter(adapter) ? ', fallback adapter' : ''}`;
}

async function install(): Promise<NodeWebGpu> {
  let dawn: { create(options: string[]): GPU; globals: object };
  try {
    dawn = await import('webgpu');
  } catch (e) {
    throw new NodeWebGpuUnavailableError(`the WebGPU backends need the npm package "webgpu" (Dawn for Node): ${(e as Error).message.split('\n')[0]}`);
  }
  setFlagsFromString('--liftoff-only');
  Object.assign(globalThis, dawn.globals);
  copySharedWrites();
  // Mesa's Vulkan drivers complain on every start without it.
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  const userToggles = process.env.SPIKEFORMER_DAWN_TOGGLES;
  const open = async (toggles: string) => {
    const gpu = dawn.create(toggles ? [`enable-dawn-features=${toggles}`] : []);
    return { gpu, adapter: await gpu.requestAdapter({ powerPreference: 'high-performance' }) };
  };
  let { gpu, adapter } = await open(userToggles ?? '');
  if (!adapter && process.env.VK_ICD_FILENAMES === undefined && existsSync(SWIFTSHADER_ICD)) {
    // The Vulkan loader reads VK_ICD_FILENAMES whenever Dawn makes a new instance.
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    ({ gpu, adapter } = await open(userToggles ?? ''));
  }
  if (adapter && userToggles === undefined && isFallbackAdapter(adapter)) {
    // Toggles belong to the instance: the same (software) adapter again, from one that has them.
    ({ gpu, adapter } = await open(SOFTWARE_DAWN_TOGGLES));
  }
  if (!adapter) {
    throw new NodeWebGpuUnavailableError('found no WebGPU adapter: Dawn needs libvulkan1 and a Vulkan driver ' +
      `(or Chromium's SwiftShader at ${SWIFTSHADER_ICD}; apt-get install -y libvulkan1 chromium)`);
  }
  setNavigatorGpu(gpu);
  return { gpu, adapter, description: describeNodeAdapter(adapter) };
}

/** `navigator.gpu = gpu`; Node 20 has no `navigator`, Node 21+ has one without `gpu`. */
function setNavigatorGpu(gpu: GPU): void {
  const g = globalThis as { navigator?: object };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator!, 'gpu', { value: gpu, configurable: true, writable: true });
}

/** Makes `GPUQueue.writeBuffer` accept data in a SharedArrayBuffer (copied to a plain one). */
function copySharedWrites(): void {
  const proto = (globalThis as unknown as { GPUQueue: { prototype: GPUQueue & { __spikeformerShared?: true } } }).GPUQueue.prototype;
  if (proto.__spikeformerShared) return;
  const write = proto.writeBuffer;
  proto.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, bufferOffset: number, data: BufferSource | SharedArrayBuffer, dataOffset?: number, size?: number) {
    if (typeof SharedArrayBuffer !== 'undefined') {
      if (data instanceof SharedArrayBuffer) {
        const start = dataOffset ?? 0;
        return write.call(this, buffer, bufferOffset, new Uint8Array(data, start, size ?? data.byteLength - start).slice());
      }
      if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
        // dataOffset and size count elements of a typed array, bytes of a DataView.
        const unit = 'BYTES_PER_ELEMENT' in data ? (data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
        const start = (dataOffset ?? 0) * unit;
        const bytes = size !== undefined ? size * unit : data.byteLength - start;
        return write.call(this, buffer, bufferOffset, new Uint8Array(data.buffer, data.byteOffset + start, bytes).slice());
      }
    }
    return write.call(this, buffer, bufferOffset, data as BufferSource, dataOffset, size);
  } as GPUQueue['writeBuffer'];
  proto.__spikeformerShared = true;
}
