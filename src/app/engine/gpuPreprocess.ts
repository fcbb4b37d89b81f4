/**
 * Frame preprocessing on the GPU (the runtime has none of its own yet): the model-size
 * ImageBitmap is uploaded with `copyExternalImageToTexture`, and a small compute shader writes
 * the normalized `[3, H, W]` float32 input, (v/255 − mean)/std, into a storage buffer that the
 * runtime copies from in the same queue. Crop and resize happen before, in `createImageBitmap`.
 */
const SHADER = /* wgsl */ `
struct Params {
  width: u32,
  height: u32,
  pad0: u32,
  pad1: u32,
  mean: vec4f,
  stdev: vec4f,
};
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var src: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= p.width || id.y >= p.height) { return; }
  let rgb = textureLoad(src, vec2u(id.x, id.y), 0).rgb;
  let plane = p.width * p.height;
  let i = id.y * p.width + id.x;
  dst[i] = (rgb.r - p.mean.x) / p.stdev.x;
  dst[plane + i] = (rgb.g - p.mean.y) / p.stdev.y;
  dst[2u * plane + i] = (rgb.b - p.mean.z) / p.stdev.z;
}
`;

export class GpuPreprocessor {
  private readonly texture: GPUTexture;
  private readonly uniform: GPUBuffer;
  readonly output: GPUBuffer;
  private readonly pipeline: GPUComputePipeline;
  private readonly bindGroup: GPUBindGroup;

  constructor(private readonly device: GPUDevice, readonly width: number, readonly height: number, mean: readonly number[], std: readonly number[]) {
    this.texture = device.createTexture({
      label: 'frame',
      size: [width, height],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
    });
    this.output = device.createBuffer({ label: 'normalized frame', size: 3 * width * height * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const params = new ArrayBuffer(48);
    new Uint32Array(params, 0, 2).set([width, height]);
    new Float32Array(params, 16, 8).set([mean[0], mean[1], mean[2], 0, std[0], std[1], std[2], 1]);
    this.uniform = device.createBuffer({ label: 'preprocess params', size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(this.uniform, 0, params);
    const module = device.createShaderModule({ label: 'preprocess', code: SHADER });
    this.pipeline = device.createComputePipeline({ label: 'preprocess', layout: 'auto', compute: { module, entryPoint: 'main' } });
    this.bindGroup = device.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.uniform } },
        { binding: 1, resource: this.texture.createView() },
        { binding: 2, resource: { buffer: this.output } },
      ],
    });
  }

  /** Uploads `bitmap` (exactly width×height) and normalizes it into `output`; submits the work. */
  run(bitmap: ImageBitmap): GPUBuffer {
    if (bitmap.width !== this.width || bitmap.height !== this.height) {
      throw new Error(`GpuPreprocessor: bitmap is ${bitmap.width}×${bitmap.height}, expected ${this.width}×${this.height}`);
    }
    this.device.queue.copyExternalImageToTexture({ source: bitmap }, { texture: this.texture }, [this.width, this.height]);
    const enc = this.device.createCommandEncoder({ label: 'preprocess' });
    const pass = enc.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.width / 8), Math.ceil(this.height / 8));
    pass.end();
    this.device.queue.submit([enc.finish()]);
    return this.output;
  }

  destroy(): void {
    this.texture.destroy();
    this.uniform.destroy();
    this.output.destroy();
  }
}
