// Event-driven depthwise convolution (groups = channels) of a spike map, e.g. SepConv's 7×7:
// out[c] = Σ over the taps whose input spiked of w[c][tap]. A thread owns 4 consecutive channels
// of one output pixel; per tap it reads the channel-packed word holding them, and when any of the
// 4 bits is set adds the tap's weights under a 4-lane select (no multiplications).
//
// Threads: one per (channel vec4, output pixel, step), the vec4 index fastest.
// Epilogue (conv_epilogue.wgsl): bias, fused BatchNorm affines, optionally padded output.
//
// Bindings:
//   0 uniform U
//   1 X  u32   [T][ceil(C/32)][inH·inW] spikes
//   2 W  vec4  [k·k][CV] weights, CV = ceil(C/4)
//   3 P  vec4  [hasBias + 2·nAffine][CV]
//   4 O  f32   output
//   5 R  f32   residual (entry point `residual` only): [S][C][outH][outW], step stride rStepStride
//
// Entry points: `main` stores the conv; `residual` stores the conv + R (conv_epilogue.wgsl).

//@include thread
//@include conv_epilogue

struct Uniforms {
  c: u32, cv: u32, inH: u32, inW: u32,
  outH: u32, outW: u32, k: u32, stride: u32,
  pad: u32, total: u32, hasBias: u32, nAffine: u32,
  xStepStride: u32, outStepStride: u32, outPlaneStride: u32, outRowStride: u32,
  outOffset: u32, rStepStride: u32,
}

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read> P: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<storage, read> R: array<f32>;

// Channel vec4, column, row and step of thread idx.
fn position(idx: u32) -> vec4u {
  let cv = idx % U.cv;
  var rest = idx / U.cv;
  let ox = rest % U.outW; rest = rest / U.outW;
  let oy = rest % U.outH;
  return vec4u(cv, ox, oy, rest / U.outH);
}

// The conv at channel vec4 cv of pixel (oy, ox), step t: bias, taps, fused affines.
fn convolve(cv: u32, ox: u32, oy: u32, t: u32) -> vec4f {
  let inPlane = U.inH * U.inW;
  let wordBase = t * U.xStepStride + ((cv * 4u) / 32u) * inPlane;
  let shift = (cv * 4u) % 32u;
  let lanes = vec4u(1u, 2u, 4u, 8u);
  var acc = convBias(cv);
  for (var tap = 0u; tap < U.k * U.k; tap++) {
    let pix = convTapPixel(oy, ox, tap / U.k, tap % U.k);
    if (pix < 0) { continue; }
    let nib = (X[wordBase + u32(pix)] >> shift) & 15u;
    if (nib != 0u) {
      acc += select(vec4f(0.0), W[tap * U.cv + cv], (vec4u(nib) & lanes) != vec4u(0u));
    }
  }
  return convAffines(acc, cv, U.cv);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let p = position(idx);
  convStore(convOutputIndex(p.w, p.z, p.y), p.x * 4u, U.c, convolve(p.x, p.y, p.z, p.w));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn residual(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let p = position(idx);
  convStore(convOutputIndex(p.w, p.z, p.y), p.x * 4u, U.c, convAddResidual(convResidualIndex(p.w, p.z, p.y), p.x * 4u, U.c, convolve(p.x, p.y, p.z, p.w)));
}
