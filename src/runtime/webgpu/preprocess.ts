/**
 * GPU preprocessing: an RGBA texture (a camera frame or image copied in with
 * `copyExternalImageToTexture`) → the normalized model input `[3][H][W]` in a GPU buffer, in one
 * dispatch (`shaders/preprocess.wgsl`), so a frame never goes through the CPU. The result buffer can
 * be passed straight to `WebGpuRuntime.run` (it is copied into the runtime's input in the same
 * submission) or the runtime's own `inputBuffer` can be the target.
 *
 * Geometry: `crop` (default) follows the official evaluation transform: resize the shorter side
 * to floor(max(H, W) / cropPct) (256 for 224 at the default 0.875), keep the aspect ratio, then
 * center-crop H×W; `stretch` resizes straight to H×W. Filtering is Pillow's bicubic with
 * antialiasing, in float (see the shader header for how it differs from the CPU path).
 */
import type { ProgramCall } from './kernels.ts';
import { createBindGroup, PipelineCache, recordDispatch } from './programs.ts';
import { programInterface, type ProgramKey } from './shaders.ts';

export interface PreprocessOptions {
  height: number;
  width: number;
  mean: readonly number[];
  std: readonly number[];
  /** Fraction of the resized image the crop keeps (default 0.875), or 'stretch'. */
  cropPct?: number | 'stretch';
}

/** Source-pixel mapping per axis: output x ↦ source centre `x0 + (x + 0.5)·scale`. */
export function preprocessGeometry(srcW: number, srcH: number, o: PreprocessOptions): { x0: number; y0: number; scaleX: number; scaleY: number } {
  if (o.cropPct === 'stretch') return { x0: 0, y0: 0, scaleX: srcW / o.width, scaleY: srcH / o.height };
  const pct = o.cropPct ?? 0.875;
  const size = Math.floor(Math.max(o.height, o.width) / pct);
  const [short, long] = srcW <= srcH ? [srcW, srcH] : [srcH, srcW];
  const newLong = Math.trunc((size * long) / short);
  const [rw, rh] = srcW <= srcH ? [size, newLong] : [newLong, size];
  // torchvision: int(round((size − crop) / 2)) with Python's half-to-even rounding.
  const halfEven = (v: number) => { const f = Math.floor(v); return v - f !== 0.5 ? Math.round(v) : f % 2 === 0 ? f : f + 1; };
  const offset = (resized: number, crop: number) => (crop > resized ? -Math.floor((crop - resized) / 2) : halfEven((resized - crop) / 2));
  const scaleX = srcW / rw, scaleY = srcH / rh;
  return { x0: offset(rw, o.width) * scaleX, y0: offset(rh, o.height) * scaleY, scaleX, scaleY };
}

const PREPROCESS: ProgramKey = { shader: 'preprocess', entry: 'main', defines: {} };

/** `preprocess.wgsl`: a `srcW`×`srcH` texture → the normalized `[3][H][W]` input, one thread per output pixel. */
export function preprocessKernel(srcW: number, srcH: number, o: PreprocessOptions): ProgramCall {
  const g = preprocessGeometry(srcW, srcH, o);
  return {
    program: PREPROCESS,
    uniforms: {
      outW: o.width, outH: o.height, srcW, srcH, x0: g.x0, y0: g.y0, scaleX: g.scaleX, scaleY: g.scaleY,
      mean: [o.mean[0], o.mean[1], o.mean[2]], invStd: [1 / o.std[0], 1 / o.std[1], 1 / o.std[2]],
    },
    threads: o.width * o.height,
  };
}

export class GpuPreprocessor {
  private readonly pipeline: GPUComputePipeline;
  private readonly uniform: GPUBuffer;
  private readonly bindGroups = new WeakMap<GPUTexture, WeakMap<GPUBuffer, GPUBindGroup>>();
  private texture: GPUTexture | null = null;

  constructor(readonly device: GPUDevice, cache: PipelineCache = new PipelineCache(device)) {
    this.pipeline = cache.getNow(PREPROCESS);
    this.uniform = device.createBuffer({ size: programInterface('preprocess').uniformBytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'preprocess uniforms' });
  }

  /**
   * Records the preprocessing of `source` into `out` (at least 3·H·W floats). Parameters go into one
   * uniform buffer written now, so use one `encode` per submission.
   */
  encode(encoder: GPUCommandEncoder, source: GPUTexture, out: GPUBuffer, o: PreprocessOptions): void {
    const call = preprocessKernel(source.width, source.height, o);
    this.device.queue.writeBuffer(this.uniform, 0, programInterface('preprocess').pack(call.program.entry, call.uniforms));
    let perTexture = this.bindGroups.get(source);
    if (!perTexture) { perTexture = new WeakMap(); this.bindGroups.set(source, perTexture); }
    let bindGroup = perTexture.get(out);
    if (!bindGroup) {
      bindGroup = createBindGroup(this.device, this.pipeline, call.program, { SRC: source.createView(), O: out }, { buffer: this.uniform, offset: 0 }, 'preprocess');
      perTexture.set(out, bindGroup);
    }
    const pass = encoder.beginComputePass({ label: 'preprocess' });
    recordDispatch(pass, { pipeline: this.pipeline, bindGroup, grid: programInterface('preprocess').grid(call.program.entry, call.threads) });
    pass.end();
  }

  /**
   * Copies an image (ImageBitmap, canvas, ImageData…) into an internal texture (re-made only when
   * the size changes) and preprocesses it into `out`, in one submission.
   */
  run(image: GPUCopyExternalImageSource, imageWidth: number, imageHeight: number, out: GPUBuffer, o: PreprocessOptions): void {
    if (!this.texture || this.texture.width !== imageWidth || this.texture.height !== imageHeight) {
      this.texture?.destroy();
      this.texture = this.device.createTexture({
        size: [imageWidth, imageHeight], format: 'rgba8unorm',
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
      });
    }
    this.device.queue.copyExternalImageToTexture({ source: image }, { texture: this.texture }, [imageWidth, imageHeight]);
    const enc = this.device.createCommandEncoder({ label: 'preprocess' });
    this.encode(enc, this.texture, out, o);
    this.device.queue.submit([enc.finish()]);
  }

  destroy(): void {
    this.texture?.destroy();
    this.uniform.destroy();
  }
}
