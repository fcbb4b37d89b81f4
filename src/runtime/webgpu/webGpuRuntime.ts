/**
 * The WebGPU runtime: Meta-SpikeFormer on the GPU, driven by the model graph.
 *
 * `create` compiles the graph into a plan (`plan.ts`) and makes every buffer, pipeline, bind group
 * and uniform once. `run` encodes one frame — all T steps, every layer — into one command buffer
 * and one queue submission, with no allocation, pipeline or bind-group creation, and reads back
 * only the logits, the spike counts of every neuron layer per step, the task heads' decoded
 * results (class-index mask and kept boxes, decoded on the GPU by `GpuTaskDecoder`) and, when
 * asked, the heads' raw maps, the spike maps (and, for layers named at creation, membrane
 * potentials) of chosen layers.
 *
 * Modes: `spike` (event-driven kernels on bit-packed spikes, the fast path) and `dense` (the same
 * network with 0/1 f32 spikes and dense register-tiled kernels everywhere: the baseline).
 */
import type { ModelGraph } from '../../model/graph.ts';
import type { FrameRequest, FrameResult, LayerSpikes } from '../types.ts';
import type { ModelWeights } from '../../model/weights.ts';
import { spikeWords, unpackSpikes, type SpikeLayout } from './packing.ts';
import { buildPlan, type ExecutionPlan, type PlanLif, type RuntimeMode } from './plan.ts';
import { align } from './programInterface.ts';
import { PipelineCache, recordDispatch, type Dispatch } from './programs.ts';
import { GpuTaskDecoder, type HeadOutputBuffers } from './taskDecoder.ts';

export interface WebGpuRuntimeOptions {
  /** `spike` (default): event-driven kernels; `dense`: the dense baseline. */
  mode?: RuntimeMode;
  /** Neuron layers whose membrane potential (h before reset) can be read back per frame. */
  membranes?: string[];
  /**
   * Time every dispatch with timestamp queries (needs a device created with the
   * `timestamp-query` feature). Each dispatch then gets its own compute pass.
   */
  profile?: boolean;
  /**
   * The adapter is a CPU implementation (SwiftShader and the like): plan for it (see
   * `PlanOptions.software`). Default: the device's `adapterInfo.isFallbackAdapter`.
   */
  software?: boolean;
}

export interface WebGpuFrameRequest extends FrameRequest {
  /** Membranes to return (layers named in `options.membranes` at creation). */
  membranes?: string[];
}

export interface StepTiming {
  name: string;
  shader: string;
  ms: number;
}

export interface WebGpuFrameResult extends FrameResult {
  /** Membrane potentials `[T, C, H, W]` flattened, of the requested layers. */
  membranes: Map<string, Float32Array>;
  /** GPU time per dispatch (only with `profile`). */
  timings: StepTiming[] | null;
}

interface Readback {
  buffer: GPUBuffer;
  size: number;
}

export class WebGpuRuntime {
  private readonly gpuBuffers: GPUBuffer[];
  private readonly dispatches: Dispatch[];
  private readonly resultReadback: Readback;
  private spikeReadback: Readback | null = null;
  private readonly spikeOffsets: Map<string, { offset: number; bytes: number; lif: PlanLif }>;
  private readonly membraneReadback: Readback | null;
  private readonly membraneOffsets: Map<string, { offset: number; bytes: number; buffer: number; from: number }>;
  private readonly querySet: GPUQuerySet | null;
  private readonly queryResolve: GPUBuffer | null;
  private readonly lifNames: Set<string>;
  private readonly uniform: GPUBuffer;
  private readonly outputOffsets: { name: string; buffer: number; offset: number; bytes: number }[];
  private readonly timingsOffset: number;
  private readonly decoder: GpuTaskDecoder | null;
  private tail: Promise<unknown> = Promise.resolve();
  private destroyed = false;

  private constructor(
    readonly device: GPUDevice,
    readonly graph: ModelGraph,
    readonly plan: ExecutionPlan,
    parts: {
      buffers: GPUBuffer[]; dispatches: Dispatch[];
      uniform: GPUBuffer; profile: boolean; decoder: GpuTaskDecoder | null;
    },
  ) {
    this.decoder = parts.decoder;
    this.gpuBuffers = parts.buffers;
    this.dispatches = parts.dispatches;
    this.uniform = parts.uniform;
    this.lifNames = new Set(plan.lifs.map((l) => l.name));
    const T = plan.timeSteps;
    // Results readback: [logits][counts][task-head outputs, each 16-aligned][timestamps].
    let at = align(plan.classes * 4, 16) + align((plan.lifs.length + 1) * T * 4, 16);
    this.outputOffsets = plan.outputs.map((o) => {
      const entry = { name: o.name, buffer: o.buffer, offset: at, bytes: o.elements * 4 };
      at += align(entry.bytes, 16);
      return entry;
    });
    this.timingsOffset = at;
    const resultBytes = at + (parts.profile ? plan.steps.length * 16 : 0);
    this.resultReadback = { buffer: device.createBuffer({ size: align(resultBytes, 16), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'results readback' }), size: resultBytes };
    // Spike maps: where each layer's (primary layout) words go in the spike readback buffer.
    this.spikeOffsets = new Map();
    let offset = 0;
    for (const lif of plan.steps.flatMap((s) => s.lifs)) {
      if (!lif.primary) continue;
      const bytes = spikeWords(lif.layout, T, lif.channels, lif.positions) * 4;
      this.spikeOffsets.set(lif.name, { offset, bytes, lif });
      offset += align(bytes, 16);
    }
    this.membraneOffsets = new Map();
    let mOffset = 0;
    for (const lif of plan.steps.flatMap((s) => s.lifs)) {
      if (lif.membrane === null) continue;
      const bytes = T * lif.channels * lif.positions * 4;
      this.membraneOffsets.set(lif.name, { offset: mOffset, bytes, buffer: lif.membrane, from: lif.membraneOffset });
      mOffset += align(bytes, 16);
    }
    this.membraneReadback = mOffset > 0
      ? { buffer: device.createBuffer({ size: mOffset, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'membrane readback' }), size: mOffset }
      : null;
    if (parts.profile) {
      this.querySet = device.createQuerySet({ type: 'timestamp', count: plan.steps.length * 2 });
      this.queryResolve = device.createBuffer({ size: plan.steps.length * 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    } else {
      this.querySet = null;
      this.queryResolve = null;
    }
  }

  /** Plans and allocates everything for `graph` on `device` (weights are uploaded once). */
  static async create(device: GPUDevice, graph: ModelGraph, weights: ModelWeights, options: WebGpuRuntimeOptions = {}): Promise<WebGpuRuntime> {
    const software = options.software ?? (device as GPUDevice & { adapterInfo?: { isFallbackAdapter?: boolean } }).adapterInfo?.isFallbackAdapter ?? false;
    const plan = buildPlan(graph, weights, { mode: options.mode, membranes: options.membranes, software });
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const tooBig = plan.buffers.filter((b) => b.size > limit);
    if (tooBig.length) {
      throw new Error(`WebGpuRuntime: ${tooBig.length} buffers exceed the device's ${limit}-byte binding limit (largest: ${tooBig[0].label}, ${tooBig[0].size} bytes); request higher limits or a smaller input`);
    }
    const profile = options.profile ?? false;
    if (profile && !device.features.has('timestamp-query')) throw new Error('WebGpuRuntime: profile needs a device with the timestamp-query feature');
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const buffers = plan.buffers.map((b) => {
      const init = b.init?.();
      const buf = device.createBuffer({ size: b.size, usage, label: b.label, mappedAtCreation: !!init });
      if (init) {
        new Float32Array(buf.getMappedRange()).set(init.subarray(0, b.size / 4));
        buf.unmap();
      }
      return buf;
    });
    // One uniform buffer, one aligned slot per step.
    const slot = align(Math.max(256, ...plan.steps.map((s) => s.uniforms.byteLength)), device.limits.minUniformBufferOffsetAlignment);
    const uniformData = new Uint8Array(plan.steps.length * slot);
    plan.steps.forEach((s, i) => uniformData.set(new Uint8Array(s.uniforms.buffer, s.uniforms.byteOffset, s.uniforms.byteLength), i * slot));
    const uniform = device.createBuffer({ size: uniformData.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'uniforms', mappedAtCreation: true });
    new Uint8Array(uniform.getMappedRange()).set(uniformData);
    uniform.unmap();
    const cache = new PipelineCache(device);
    const dispatches = await Promise.all(plan.steps.map((s, i) => cache.dispatch(s,
      Object.fromEntries(Object.entries(s.bindings).map(([name, b]) => [name, buffers[b]])), { buffer: uniform, offset: i * slot }, s.name)));
    const heads: HeadOutputBuffers = {};
    for (const o of plan.outputs) heads[o.name as keyof HeadOutputBuffers] = buffers[o.buffer];
    const decoder = await GpuTaskDecoder.create(device, cache, {
      height: graph.inputHeight, width: graph.inputWidth, segment: graph.config.heads?.segment, detect: graph.config.heads?.detect,
    }, heads);
    const oom = await device.popErrorScope();
    const validation = await device.popErrorScope();
    if (oom || validation) throw new Error(`WebGpuRuntime: creating GPU objects failed: ${(oom ?? validation)!.message}`);
    return new WebGpuRuntime(device, graph, plan, { buffers, dispatches, uniform, profile, decoder });
  }

  /** Buffer holding the normalized input `[C, H, W]` (f32); a caller may write it directly. */
  get inputBuffer(): GPUBuffer {
    return this.gpuBuffers[this.plan.input];
  }

  /** Bytes of GPU buffers the plan holds, by role. */
  get memory(): ExecutionPlan['memory'] {
    return this.plan.memory;
  }

  /**
   * Runs one frame. `input`: the normalized image `[C, H, W]` at the graph's size, as a
   * Float32Array or a GPU buffer (copied into the runtime's input buffer in the same submission).
   */
  run(input: Float32Array | GPUBuffer, request: WebGpuFrameRequest = {}): Promise<WebGpuFrameResult> {
    const result = this.tail.then(() => this.runNow(input, request));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async runNow(input: Float32Array | GPUBuffer, request: WebGpuFrameRequest): Promise<WebGpuFrameResult> {
    if (this.destroyed) throw new Error('WebGpuRuntime: destroyed');
    const { device, plan } = this;
    const T = plan.timeSteps;
    const inBuf = this.gpuBuffers[plan.input];
    const inputBytes = this.graph.shapes.get(this.graph.input)!.reduce((a, b) => a * b, 1) * 4;
    const wantMaps = request.spikeMaps === 'all' ? [...this.lifNames] : (request.spikeMaps ?? []);
    for (const name of wantMaps) if (!this.lifNames.has(name)) throw new Error(`WebGpuRuntime: no neuron layer ${name}`);
    const wantMembranes = request.membranes ?? [];
    for (const name of wantMembranes) {
      if (!this.membraneOffsets.has(name)) throw new Error(`WebGpuRuntime: membrane of ${name} was not asked for at creation`);
    }
    if (wantMaps.length && !this.spikeReadback) {
      // Allocated once, the first time spike maps are asked for, sized for every layer.
      let size = 0;
      for (const o of this.spikeOffsets.values()) size = Math.max(size, o.offset + o.bytes);
      this.spikeReadback = { buffer: device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'spike map readback' }), size };
    }
    if (input instanceof Float32Array) {
      if (input.byteLength !== inputBytes) throw new Error(`WebGpuRuntime: input has ${input.length} values; the model expects ${inputBytes / 4}`);
      device.queue.writeBuffer(inBuf, 0, input.buffer, input.byteOffset, input.byteLength);
    }
    const enc = device.createCommandEncoder({ label: 'frame' });
    if (!(input instanceof Float32Array)) enc.copyBufferToBuffer(input, 0, inBuf, 0, inputBytes);
    enc.clearBuffer(this.gpuBuffers[plan.counts]);
    const mapSet = new Set(wantMaps);
    let pass: GPUComputePassEncoder | null = null;
    const profile = this.querySet !== null;
    plan.steps.forEach((step, i) => {
      if (!pass) {
        pass = enc.beginComputePass(profile ? { timestampWrites: { querySet: this.querySet!, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } } : {});
      }
      recordDispatch(pass, this.dispatches[i]);
      const copyMaps = step.lifs.filter((l) => l.primary && mapSet.has(l.name));
      if (profile || copyMaps.length) {
        pass.end();
        pass = null;
      }
      for (const lif of copyMaps) {
        const o = this.spikeOffsets.get(lif.name)!;
        enc.copyBufferToBuffer(this.gpuBuffers[lif.buffer], 0, this.spikeReadback!.buffer, o.offset, o.bytes);
      }
    });
    if (pass) (pass as GPUComputePassEncoder).end();
    this.decoder?.encode(enc);
    // The heads' raw maps only when asked for (or when nothing decodes them on the GPU).
    const headMaps = request.headMaps === true || !this.decoder;
    const rb = this.resultReadback.buffer;
    const logitsBytes = align(plan.classes * 4, 16);
    const countsBytes = (plan.lifs.length + 1) * T * 4;
    enc.copyBufferToBuffer(this.gpuBuffers[plan.logits], 0, rb, 0, logitsBytes);
    enc.copyBufferToBuffer(this.gpuBuffers[plan.counts], 0, rb, logitsBytes, align(countsBytes, 4));
    if (headMaps) for (const o of this.outputOffsets) enc.copyBufferToBuffer(this.gpuBuffers[o.buffer], 0, rb, o.offset, align(o.bytes, 4));
    if (profile) {
      enc.resolveQuerySet(this.querySet!, 0, plan.steps.length * 2, this.queryResolve!, 0);
      enc.copyBufferToBuffer(this.queryResolve!, 0, rb, this.timingsOffset, plan.steps.length * 16);
    }
    for (const name of wantMembranes) {
      const m = this.membraneOffsets.get(name)!;
      enc.copyBufferToBuffer(this.gpuBuffers[m.buffer], m.from, this.membraneReadback!.buffer, m.offset, m.bytes);
    }
    device.queue.submit([enc.finish()]);

    const maps: Promise<void>[] = [rb.mapAsync(GPUMapMode.READ)];
    if (wantMaps.length) maps.push(this.spikeReadback!.buffer.mapAsync(GPUMapMode.READ));
    if (wantMembranes.length) maps.push(this.membraneReadback!.buffer.mapAsync(GPUMapMode.READ));
    if (this.decoder) maps.push(this.decoder.readback.mapAsync(GPUMapMode.READ));
    await Promise.all(maps);

    const raw = rb.getMappedRange();
    const logits = new Float32Array(raw.slice(0, plan.classes * 4));
    const counts = new Uint32Array(raw.slice(logitsBytes, logitsBytes + plan.lifs.length * T * 4));
    const outputs = new Map<string, Float32Array>();
    if (headMaps) for (const o of this.outputOffsets) outputs.set(o.name, new Float32Array(raw.slice(o.offset, o.offset + o.bytes)));
    let timings: StepTiming[] | null = null;
    if (profile) {
      const ts = new BigUint64Array(raw.slice(this.timingsOffset, this.timingsOffset + plan.steps.length * 16));
      timings = plan.steps.map((s, i) => ({ name: s.name, shader: s.program.shader, ms: Number(ts[2 * i + 1] - ts[2 * i]) / 1e6 }));
    }
    rb.unmap();
    const layers: LayerSpikes[] = plan.lifs.map((l, i) => ({
      name: l.name, neuronsPerStep: l.channels * l.positions, onesPerStep: Array.from(counts.subarray(i * T, (i + 1) * T)),
    }));
    const spikeMaps = new Map<string, Uint8Array>();
    if (wantMaps.length) {
      const sr = this.spikeReadback!.buffer.getMappedRange();
      for (const name of wantMaps) {
        const o = this.spikeOffsets.get(name)!;
        const lif = o.lif;
        const words = new Uint32Array(sr.slice(o.offset, o.offset + o.bytes));
        spikeMaps.set(name, unpackSpikes(words, lif.layout as SpikeLayout, T, lif.channels, lif.positions));
      }
      this.spikeReadback!.buffer.unmap();
    }
    const membranes = new Map<string, Float32Array>();
    if (wantMembranes.length) {
      const mr = this.membraneReadback!.buffer.getMappedRange();
      for (const name of wantMembranes) {
        const m = this.membraneOffsets.get(name)!;
        membranes.set(name, new Float32Array(mr.slice(m.offset, m.offset + m.bytes)));
      }
      this.membraneReadback!.buffer.unmap();
    }
    let tasks: WebGpuFrameResult['tasks'];
    if (this.decoder) {
      tasks = this.decoder.read();
      this.decoder.readback.unmap();
    }
    return { logits, layers, spikeMaps, membranes, outputs, tasks, timings };
  }

  /** Frees every GPU buffer of the runtime. */
  destroy(): void {
    this.destroyed = true;
    for (const b of this.gpuBuffers) b.destroy();
    this.uniform.destroy();
    this.resultReadback.buffer.destroy();
    this.spikeReadback?.buffer.destroy();
    this.membraneReadback?.buffer.destroy();
    this.decoder?.destroy();
    this.queryResolve?.destroy();
    this.querySet?.destroy();
  }
}
