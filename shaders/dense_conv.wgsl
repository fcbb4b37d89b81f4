// Dense convolution (groups = 1) of a real-valued (or 0/1 f32) map: the stem on the image, the
// 1×1 convs after depthwise ones, and every conv of the `webgpu-dense` baseline.
// Register-tiled, no workgroup memory or barriers: a thread computes 4 output channels (one vec4
// of weights per input value) × 4 consecutive output pixels of a row, 16 accumulators.
//
// Threads: one per (output vec4, group of 4 output columns, output row, step), vec4 index fastest
// (lanes share the input pixels and read consecutive weights).
// Epilogue as in spike_conv.wgsl (bias, fused BatchNorm affines, optionally padded output).
//
// Bindings:
//   0 uniform U
//   1 X  f32   [S][Cin][inH][inW] input (xStepStride = 0 for a step-invariant input)
//   2 W  vec4  [k·k][Cin][OV] weights, OV = ceil(Cout/4)
//   3 P  vec4  [hasBias + 2·nAffine][OV]
//   4 O  f32   output

//@include affine

struct Uniforms {
  cin: u32, inH: u32, inW: u32, cout: u32,
  ov: u32, outH: u32, outW: u32, outWQ: u32,
  k: u32, stride: u32, pad: u32, total: u32,
  hasBias: u32, nAffine: u32, xStepStride: u32, outStepStride: u32,
  outPlaneStride: u32, outRowStride: u32, outOffset: u32, _pad0: u32,
}

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read> P: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (idx >= U.total) { return; }
  let ov = idx % U.ov;
  var rest = idx / U.ov;
  let ox0 = (rest % U.outWQ) * 4u; rest = rest / U.outWQ;
  let oy = rest % U.outH;
  let t = rest / U.outH;
  let inPlane = U.inH * U.inW;
  let xBase = t * U.xStepStride;
  var init = vec4f(0.0);
  if (U.hasBias != 0u) { init = P[ov]; }
  var a0 = init; var a1 = init; var a2 = init; var a3 = init;
  let maxX = i32(U.inW) - 1;
  for (var ky = 0u; ky < U.k; ky++) {
    let iy = i32(oy * U.stride + ky) - i32(U.pad);
    if (iy < 0 || iy >= i32(U.inH)) { continue; }
    let row = xBase + u32(iy) * U.inW;
    for (var kx = 0u; kx < U.k; kx++) {
      let ix0 = i32(ox0 * U.stride + kx) - i32(U.pad);
      let s = i32(U.stride);
      let ix = vec4i(ix0, ix0 + s, ix0 + 2 * s, ix0 + 3 * s);
      let ok = (ix >= vec4i(0)) & (ix <= vec4i(maxX));
      let cx = vec4u(clamp(ix, vec4i(0), vec4i(maxX)));
      var wi = (ky * U.k + kx) * U.cin * U.ov + ov;
      var xi = row;
      for (var ci = 0u; ci < U.cin; ci++) {
        let w = W[wi];
        a0 = fma(vec4f(select(0.0, X[xi + cx.x], ok.x)), w, a0);
        a1 = fma(vec4f(select(0.0, X[xi + cx.y], ok.y)), w, a1);
        a2 = fma(vec4f(select(0.0, X[xi + cx.z], ok.z)), w, a2);
        a3 = fma(vec4f(select(0.0, X[xi + cx.w], ok.w)), w, a3);
        wi += U.ov;
        xi += inPlane;
      }
    }
  }
  let pBase = U.hasBias;
  for (var a = 0u; a < U.nAffine; a++) {
    let sc = P[(pBase + 2u * a) * U.ov + ov];
    let sh = P[(pBase + 2u * a + 1u) * U.ov + ov];
    a0 = affine4(a0, sc, sh); a1 = affine4(a1, sc, sh); a2 = affine4(a2, sc, sh); a3 = affine4(a3, sc, sh);
  }
  let o = U.outOffset + t * U.outStepStride + oy * U.outRowStride + ox0;
  let n = min(4u, U.outW - ox0);
  for (var j = 0u; j < 4u; j++) {
    let c = ov * 4u + j;
    if (c >= U.cout) { break; }
    let p = o + c * U.outPlaneStride;
    O[p] = a0[j];
    if (n > 1u) { O[p + 1u] = a1[j]; }
    if (n > 2u) { O[p + 2u] = a2[j]; }
    if (n > 3u) { O[p + 3u] = a3[j]; }
  }
}
