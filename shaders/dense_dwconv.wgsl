// Dense depthwise convolution (groups = channels) of a real-valued (or 0/1 f32) map: RepConv's
// 3×3 after BN-and-pad, and SepConv's 7×7 in the `webgpu-dense` baseline. A thread computes
// 4 channels × 4 consecutive output pixels of a row; no workgroup memory.
//
// Threads: one per (channel vec4, group of 4 output columns, output row, step), vec4 fastest.
// Epilogue (conv_epilogue.wgsl): bias, fused BatchNorm affines, optionally padded output.
//
// Bindings:
//   0 uniform U
//   1 X  f32   [S][C][inH][inW]
//   2 W  vec4  [k·k][CV] weights, CV = ceil(C/4)
//   3 P  vec4  [hasBias + 2·nAffine][CV]
//   4 O  f32   output
//   5 R  f32   residual (entry point `residual` only): [S][C][outH][outW], step stride rStepStride
//
// Entry points: `main` stores the conv; `residual` stores the conv + R (conv_epilogue.wgsl).

//@include thread
//@include conv_epilogue
//@include conv_columns

// Output columns per thread (conv_columns.wgsl).
const COLS: u32 = 4u;

struct Uniforms {
  c: u32, cv: u32, inH: u32, inW: u32,
  outH: u32, outW: u32, outWQ: u32, k: u32,
  stride: u32, pad: u32, total: u32, hasBias: u32,
  nAffine: u32, xStepStride: u32, outStepStride: u32, outPlaneStride: u32,
  outRowStride: u32, outOffset: u32, rStepStride: u32,
}

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read> P: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<storage, read> R: array<f32>;

fn load4(base: u32, plane: u32, valid: vec4<bool>) -> vec4f {
  // Channels c0..c0+3 at one input position (invalid channels read as 0).
  return vec4f(
    select(0.0, X[base], valid.x),
    select(0.0, X[base + select(0u, plane, valid.y)], valid.y),
    select(0.0, X[base + select(0u, 2u * plane, valid.z)], valid.z),
    select(0.0, X[base + select(0u, 3u * plane, valid.w)], valid.w));
}

// The conv at channel vec4 cv of 4 pixels from (oy, ox0), step t: bias, taps, fused affines.
fn convolve(cv: u32, ox0: u32, oy: u32, t: u32) -> array<vec4f, COLS> {
  let inPlane = U.inH * U.inW;
  let c0 = cv * 4u;
  let cvalid = (vec4u(c0) + vec4u(0u, 1u, 2u, 3u)) < vec4u(U.c);
  let xBase = t * U.xStepStride + c0 * inPlane;
  let init = convBias(cv);
  var a0 = init; var a1 = init; var a2 = init; var a3 = init;
  for (var ky = 0u; ky < U.k; ky++) {
    let iy = i32(oy * U.stride + ky) - i32(U.pad);
    if (iy < 0 || iy >= i32(U.inH)) { continue; }
    let row = xBase + u32(iy) * U.inW;
    for (var kx = 0u; kx < U.k; kx++) {
      let w = W[(ky * U.k + kx) * U.cv + cv];
      let ix0 = i32(ox0 * U.stride + kx) - i32(U.pad);
      let s = i32(U.stride);
      if (ix0 >= 0 && ix0 < i32(U.inW)) { a0 = fma(load4(row + u32(ix0), inPlane, cvalid), w, a0); }
      let ix1 = ix0 + s;
      if (ix1 >= 0 && ix1 < i32(U.inW)) { a1 = fma(load4(row + u32(ix1), inPlane, cvalid), w, a1); }
      let ix2 = ix0 + 2 * s;
      if (ix2 >= 0 && ix2 < i32(U.inW)) { a2 = fma(load4(row + u32(ix2), inPlane, cvalid), w, a2); }
      let ix3 = ix0 + 3 * s;
      if (ix3 >= 0 && ix3 < i32(U.inW)) { a3 = fma(load4(row + u32(ix3), inPlane, cvalid), w, a3); }
    }
  }
  for (var a = 0u; a < U.nAffine; a++) {
    let sc = convScale(a, cv, U.cv);
    let sh = convShift(a, cv, U.cv);
    a0 = affine4(a0, sc, sh); a1 = affine4(a1, sc, sh); a2 = affine4(a2, sc, sh); a3 = affine4(a3, sc, sh);
  }
  return array<vec4f, 4>(a0, a1, a2, a3);
}

// Channel vec4, first column, row and step of thread idx.
fn position(idx: u32) -> vec4u {
  let cv = idx % U.cv;
  var rest = idx / U.cv;
  let ox0 = (rest % U.outWQ) * COLS; rest = rest / U.outWQ;
  let oy = rest % U.outH;
  return vec4u(cv, ox0, oy, rest / U.outH);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let p = position(idx);
  convStoreColumns(p.x, p.y, p.z, p.w, U.c, convolve(p.x, p.y, p.z, p.w));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn residual(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let p = position(idx);
  convStoreColumns(p.x, p.y, p.z, p.w, U.c, convAddResidualColumns(p.x, p.y, p.z, p.w, U.c, convolve(p.x, p.y, p.z, p.w)));
}
