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
// Entry points: `main` stores the conv; `residual` stores the conv + R (conv_epilogue.wgsl);
// `block` and `block_residual` are those two with 8 output pixels a thread (below; software
// adapters, stride 1, k ≤ 25).

//@include thread
//@include conv_epilogue

struct Uniforms {
  c: u32, cv: u32, inH: u32, inW: u32,
  outH: u32, outW: u32, k: u32, stride: u32,
  pad: u32, total: u32, hasBias: u32, nAffine: u32,
  xStepStride: u32, outStepStride: u32, outPlaneStride: u32, outRowStride: u32,
  outOffset: u32, rStepStride: u32, outWB: u32,
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

// ---- Blocked (entry points `block`, `block_residual`; for software adapters, where every load
// whose address is computed is a per-lane gather): a thread owns the 4 channels of one vec4 at
// DW_BLOCK = 8 consecutive output pixels of a row, stride 1, k ≤ 25. Threads: one per (channel
// vec4, block of 8 columns, output row, step), the vec4 index fastest; outWB = ceil(outW / 8).
// Per input row of its taps the thread loads the 8 + k − 1 spike words under its pixels once and
// gathers its 4 channels' bits into 4 column masks (bit m: the input at column ox0 − pad + m
// spiked; columns outside the map stay 0), so a tap (ky, kx) needs one weight load for the 8
// pixels: pixel j adds it where bit j + kx is set. Each pixel's sum takes convolve's f32 adds in
// convolve's order (taps ky outer, kx inner; where any of its 4 channels fired, the weights under
// a 4-lane select, +0 for the others), so `block` is bit-exact with `main`; taps where none of the
// 8 × 4 bits is set are skipped (event-driven).

const DW_BLOCK: u32 = 8u;

// Channel vec4, first column, row and step of blocked thread idx.
fn blockPosition(idx: u32) -> vec4u {
  let cv = idx % U.cv;
  var rest = idx / U.cv;
  let ox0 = (rest % U.outWB) * DW_BLOCK; rest = rest / U.outWB;
  let oy = rest % U.outH;
  return vec4u(cv, ox0, oy, rest / U.outH);
}

// a + w's lanes whose bit j of `bits` is set, where any of the 4 is (convolve's add).
fn blockAdd(a: vec4f, w: vec4f, bits: vec4u, j: u32) -> vec4f {
  let fired = ((bits >> vec4u(j)) & vec4u(1u)) != vec4u(0u);
  return select(a, a + select(vec4f(0.0), w, fired), any(fired));
}

// The conv at channel vec4 cv of the 8 pixels from (oy, ox0), step t, after the affines.
fn blockConvolve(cv: u32, ox0: u32, oy: u32, t: u32) -> array<vec4f, 8> {
  let inPlane = U.inH * U.inW;
  let wordBase = t * U.xStepStride + ((cv * 4u) / 32u) * inPlane;
  let shift = (cv * 4u) % 32u;
  let span = DW_BLOCK + U.k - 1u;
  let x0 = i32(ox0) - i32(U.pad);
  let init = convBias(cv);
  var a0 = init; var a1 = init; var a2 = init; var a3 = init;
  var a4 = init; var a5 = init; var a6 = init; var a7 = init;
  for (var ky = 0u; ky < U.k; ky++) {
    let iy = i32(oy + ky) - i32(U.pad);
    if (iy < 0 || iy >= i32(U.inH)) { continue; }
    let row = wordBase + u32(iy) * U.inW;
    // Column masks of the 4 channels over the span.
    var cm = vec4u(0u);
    for (var m = 0u; m < span; m++) {
      let ix = x0 + i32(m);
      if (ix < 0 || ix >= i32(U.inW)) { continue; }
      let nib = (X[row + u32(ix)] >> shift) & 15u;
      cm |= ((vec4u(nib) >> vec4u(0u, 1u, 2u, 3u)) & vec4u(1u)) << vec4u(m);
    }
    if (all(cm == vec4u(0u))) { continue; }
    for (var kx = 0u; kx < U.k; kx++) {
      let bits = (cm >> vec4u(kx)) & vec4u(0xffu);
      if (all(bits == vec4u(0u))) { continue; }
      let w = W[(ky * U.k + kx) * U.cv + cv];
      a0 = blockAdd(a0, w, bits, 0u); a1 = blockAdd(a1, w, bits, 1u);
      a2 = blockAdd(a2, w, bits, 2u); a3 = blockAdd(a3, w, bits, 3u);
      a4 = blockAdd(a4, w, bits, 4u); a5 = blockAdd(a5, w, bits, 5u);
      a6 = blockAdd(a6, w, bits, 6u); a7 = blockAdd(a7, w, bits, 7u);
    }
  }
  return array<vec4f, 8>(convAffines(a0, cv, U.cv), convAffines(a1, cv, U.cv), convAffines(a2, cv, U.cv), convAffines(a3, cv, U.cv),
                         convAffines(a4, cv, U.cv), convAffines(a5, cv, U.cv), convAffines(a6, cv, U.cv), convAffines(a7, cv, U.cv));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn block(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let p = blockPosition(idx);
  let acc = blockConvolve(p.x, p.y, p.z, p.w);
  for (var j = 0u; j < min(DW_BLOCK, U.outW - p.y); j++) {
    convStore(convOutputIndex(p.w, p.z, p.y + j), p.x * 4u, U.c, acc[j]);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn block_residual(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let p = blockPosition(idx);
  let acc = blockConvolve(p.x, p.y, p.z, p.w);
  for (var j = 0u; j < min(DW_BLOCK, U.outW - p.y); j++) {
    convStore(convOutputIndex(p.w, p.z, p.y + j), p.x * 4u, U.c, convAddResidual(convResidualIndex(p.w, p.z, p.y + j), p.x * 4u, U.c, acc[j]));
  }
}
