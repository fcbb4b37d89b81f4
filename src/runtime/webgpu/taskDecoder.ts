/**
 * The task heads' decoding on the GPU, after the network in the same submission: per-pixel arg
 * max of the upsampled segmentation logits (`shaders/segmentation_mask.wgsl`) and detection peaks,
 * ordering, boxes and NMS (`shaders/detection_decode.wgsl`). Only the class-index mask (one byte
 * per pixel) and the kept boxes (8 words each) are read back; the raw head maps stay on the GPU.
 *
 * Boxes come back as (cell, logit, l, t, r, b) and become `Detection`s through the CPU decoder's
 * own float64 step (`detectionAtCell`), so a box the GPU keeps is bit for bit the CPU's box.
 */
import type { DetectHeadConfig, SegmentHeadConfig } from '../../model/config.ts';
import { detectionAtCell, type Detection } from '../../model/detectionBox.ts';
import type { TaskResults } from '../types.ts';
import { detectionDecodeKernel, segmentationMaskKernel } from './kernels.ts';
import { align } from './programInterface.ts';
import { prepareKernel, type Kernel, type PipelineCache } from './programs.ts';

/** The buffers holding the graph's head outputs (by graph output name). */
export type HeadOutputBuffers = Partial<Record<'seg_logits' | 'det_heatmap' | 'det_boxreg', GPUBuffer>>;

/** What the decoder needs to know: the input size and the heads to decode (from the model config). */
export interface TaskDecodeSpec {
  height: number;
  width: number;
  segment?: Pick<SegmentHeadConfig, 'numClasses' | 'stride'> | null;
  detect?: Pick<DetectHeadConfig, 'numClasses' | 'classNames' | 'decode'> | null;
}

export class GpuTaskDecoder {
  private constructor(
    private readonly spec: TaskDecodeSpec,
    private readonly kernels: Kernel[],
    private readonly scratch: GPUBuffer[],
    private readonly counter: GPUBuffer | null,
    private readonly maskBuffer: GPUBuffer | null,
    private readonly boxesBuffer: GPUBuffer | null,
    /** Mapped by the runtime with its other read-backs: [mask bytes][boxes words]. */
    readonly readback: GPUBuffer,
    private readonly maskBytes: number,
    private readonly boxesBytes: number,
  ) {}

  /** A decoder for the heads of `spec` whose output buffers are given (null when there are none). */
  static async create(device: GPUDevice, cache: PipelineCache, spec: TaskDecodeSpec, heads: HeadOutputBuffers): Promise<GpuTaskDecoder | null> {
    const H = spec.height, W = spec.width;
    const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const seg = spec.segment;
    const det = spec.detect;
    const kernels: Kernel[] = [];
    const scratch: GPUBuffer[] = [];
    let maskBuffer: GPUBuffer | null = null, boxesBuffer: GPUBuffer | null = null, counter: GPUBuffer | null = null;
    let maskBytes = 0, boxesBytes = 0;
    if (seg && heads.seg_logits) {
      if (seg.numClasses > 256) throw new Error(`GpuTaskDecoder: ${seg.numClasses} segmentation classes do not fit a byte mask`);
      maskBytes = H * W;
      maskBuffer = device.createBuffer({ size: maskBytes, usage: STORAGE, label: 'segmentation mask' });
      scratch.push(maskBuffer);
      kernels.push(await prepareKernel(device, cache, segmentationMaskKernel({ classes: seg.numClasses, height: H, width: W, stride: seg.stride }),
        { L: heads.seg_logits, M: maskBuffer }));
    }
    if (det && heads.det_heatmap && heads.det_boxreg) {
      const a = { classes: det.numClasses, height: H, width: W, ...det.decode };
      const cells = det.numClasses * (H / a.stride) * (W / a.stride);
      counter = device.createBuffer({ size: 4 * (1 + cells), usage: STORAGE, label: 'detection candidates' });
      const top = device.createBuffer({ size: 4 * Math.max(4, a.preNmsTopK), usage: STORAGE, label: 'detection top-k' });
      boxesBytes = 16 + 32 * a.maxDetections;
      boxesBuffer = device.createBuffer({ size: boxesBytes, usage: STORAGE, label: 'detections' });
      scratch.push(counter, top, boxesBuffer);
      const { det_heatmap: heat, det_boxreg: reg } = heads;
      kernels.push(
        await prepareKernel(device, cache, detectionDecodeKernel('peaks', a), { HEAT: heat, CAND: counter }),
        await prepareKernel(device, cache, detectionDecodeKernel('rank', a), { HEAT: heat, CANDR: counter, TOP: top }),
        await prepareKernel(device, cache, detectionDecodeKernel('nms', a), { HEAT: heat, REG: reg, CANDR: counter, TOPR: top, OUT: boxesBuffer }),
      );
    }
    if (!kernels.length) return null;
    const readback = device.createBuffer({ size: align(maskBytes, 16) + align(boxesBytes, 16), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'task results readback' });
    return new GpuTaskDecoder(spec, kernels, scratch, counter, maskBuffer, boxesBuffer, readback, maskBytes, boxesBytes);
  }

  /** Records the decoding (after the network's dispatches) and the copy into `readback`. */
  encode(enc: GPUCommandEncoder): void {
    if (this.counter) enc.clearBuffer(this.counter, 0, 4);
    for (const k of this.kernels) k.encode(enc);
    if (this.maskBuffer) enc.copyBufferToBuffer(this.maskBuffer, 0, this.readback, 0, this.maskBytes);
    if (this.boxesBuffer) enc.copyBufferToBuffer(this.boxesBuffer, 0, this.readback, align(this.maskBytes, 16), this.boxesBytes);
  }

  /** Reads the mapped `readback`. */
  read(): TaskResults {
    const raw = this.readback.getMappedRange();
    const out: TaskResults = {};
    if (this.maskBuffer) out.mask = new Uint8Array(raw.slice(0, this.maskBytes));
    if (this.boxesBuffer) {
      const words = new Uint32Array(raw.slice(align(this.maskBytes, 16), align(this.maskBytes, 16) + this.boxesBytes));
      out.detections = this.detections(words);
    }
    return out;
  }

  private detections(words: Uint32Array): Detection[] {
    const det = this.spec.detect!;
    const H = this.spec.height, W = this.spec.width;
    const S = det.decode.stride;
    const h = H / S, w = W / S;
    const f = new Float32Array(words.buffer, words.byteOffset, words.length);
    const kept = Math.min(words[0], det.decode.maxDetections);
    const out: Detection[] = [];
    for (let k = 0; k < kept; k++) {
      const o = 4 + 8 * k;
      const cell = words[o];
      const c = Math.floor(cell / (h * w)), r = cell % (h * w);
      out.push(detectionAtCell(c, Math.floor(r / w), r % w, f[o + 1], [f[o + 2], f[o + 3], f[o + 4], f[o + 5]], S, H, W, det.classNames));
    }
    return out;
  }

  destroy(): void {
    for (const k of this.kernels) k.destroy();
    for (const b of this.scratch) b.destroy();
    this.readback.destroy();
  }
}
