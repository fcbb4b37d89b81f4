// Image preprocessing on the GPU: from an RGBA texture (a camera frame or a decoded image, put
// there by copyExternalImageToTexture) to the model's normalized input `[3][H][W]` (f32), in one
// pass: resize (Pillow-style bicubic, Keys a = −0.5, with the filter widened by the scale factor
// when downscaling, i.e. antialiased), crop, then (v − mean) / std per channel.
//
// The geometry is given per axis as the source interval one output pixel spans: output x maps to
// source centre `x0 + (x + 0.5)·scaleX` (the resize and the crop offset folded together), exactly as
// Pillow's coefficient setup places it. Unlike Pillow's 8-bit path there is no intermediate
// rounding to 8 bits and the two axes are filtered in one 2-D pass, so values differ from the CPU
// transform (src/preprocess/image.ts) by about one 8-bit step at most.
//
// Threads: one per output pixel, x fastest.
// Bindings:
//   0 uniform U
//   1 SRC texture_2d<f32> (rgba8unorm or similar; only rgb is read)
//   2 O   f32 [3][H][W]

//@include thread

struct Uniforms {
  outW: u32, outH: u32, srcW: u32, srcH: u32,
  x0: f32, y0: f32, scaleX: f32, scaleY: f32,
  mean: vec3f,
  invStd: vec3f,
}

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var SRC: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;

fn cubic(x0: f32) -> f32 {
  let a = -0.5;
  let x = abs(x0);
  if (x < 1.0) { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0; }
  if (x < 2.0) { return (((x - 5.0) * x + 8.0) * x - 4.0) * a; }
  return 0.0;
}

// Pillow's precompute_coeffs for one output coordinate: first tap, tap count, filter scale.
struct Taps { first: i32, count: i32, center: f32, ss: f32 }

fn taps(center: f32, scale: f32, size: u32) -> Taps {
  let filterScale = max(scale, 1.0);
  let support = 2.0 * filterScale;
  let first = max(i32(floor(center - support + 0.5)), 0);
  let last = min(i32(floor(center + support + 0.5)), i32(size));
  return Taps(first, last - first, center, 1.0 / filterScale);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.outW * U.outH) { return; }
  let x = idx % U.outW;
  let y = idx / U.outW;
  let tx = taps(U.x0 + (f32(x) + 0.5) * U.scaleX, U.scaleX, U.srcW);
  let ty = taps(U.y0 + (f32(y) + 0.5) * U.scaleY, U.scaleY, U.srcH);
  var acc = vec3f(0.0);
  var wy = 0.0;
  var wx = 0.0;
  for (var i = 0; i < tx.count; i++) { wx += cubic((f32(tx.first + i) - tx.center + 0.5) * tx.ss); }
  for (var j = 0; j < ty.count; j++) {
    let sy = ty.first + j;
    let ky = cubic((f32(sy) - ty.center + 0.5) * ty.ss);
    wy += ky;
    if (ky == 0.0) { continue; }
    var row = vec3f(0.0);
    for (var i = 0; i < tx.count; i++) {
      let sx = tx.first + i;
      let kx = cubic((f32(sx) - tx.center + 0.5) * tx.ss);
      row += kx * textureLoad(SRC, vec2i(sx, sy), 0).rgb;
    }
    acc += ky * row;
  }
  var v = vec3f(0.0);
  if (wx != 0.0 && wy != 0.0) { v = clamp(acc / (wx * wy), vec3f(0.0), vec3f(1.0)); }
  // Outside the source (a crop larger than the image) the pixel is black (0), as torchvision pads.
  let plane = U.outW * U.outH;
  let n = (v - U.mean) * U.invStd;
  O[idx] = n.r;
  O[plane + idx] = n.g;
  O[2u * plane + idx] = n.b;
}
