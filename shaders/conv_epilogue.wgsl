// Included by the four conv kernels (a line `//@include conv_epilogue`): the input pixel of a tap (convTapPixel), the accumulator's start
// and the epilogue, in this order:
//   acc = convBias(v)                      the conv bias of output vec4 v, or 0 without one;
//   ... the kernel accumulates its taps into acc ...
//   acc = convAffines(acc, v, vecs)        the BatchNorm affines fused into the conv, in order:
//                                          acc ← acc·scale + shift rounded once (affine.wgsl);
//   convStore(o, c0, channels, acc)        channels c0..c0+3 (those < channels) of the output
//                                          pixel at o = convOutputIndex(t, oy, ox).
// (With the residual, acc = convAddResidual(convResidualIndex(t, oy, ox), c0, channels, acc)
// before the store.)
// The dense kernels, which hold several output columns per thread, read each affine's scale and
// shift once (convScale, convShift), apply them to every column and store the columns themselves.
// The output is a [T][C][rows][cols] map, possibly the interior of a padded map (RepConv's
// BN-and-pad: the border is filled once at creation), placed by outOffset and the out*Stride
// uniforms.
//
// The including kernel declares the bindings P (vec4 [hasBias + 2·nAffine][vecs]: the bias, then
// per affine its scale and shift) and O (f32 output), and the uniform fields hasBias, nAffine,
// outStepStride, outPlaneStride, outRowStride and outOffset.
//
// Residual add fused into the epilogue (each conv kernel's entry point `residual`; `main` stores
// the conv alone): the value stored is (result after the affines) + R[...], one f32 addition,
// the same operation the CPU reference's add does after the conv and its BatchNorms, so it is
// bit-exact. R is an unpadded [S][Cout][rows][cols] map read with step stride rStepStride (0
// broadcasts a step-invariant residual); the output is then unpadded too (outOffset 0), so R's
// plane and row strides are the output's. The including kernel declares the binding R (f32) and
// the uniform field rStepStride.

//@include affine

// The input pixel (row·inW + column) that output pixel (oy, ox) reads at tap (ky, kx), or -1
// where the tap falls in the zero padding (uniform fields stride, pad, inH, inW).
fn convTapPixel(oy: u32, ox: u32, ky: u32, kx: u32) -> i32 {
  let iy = i32(oy * U.stride + ky) - i32(U.pad);
  let ix = i32(ox * U.stride + kx) - i32(U.pad);
  if (iy < 0 || iy >= i32(U.inH) || ix < 0 || ix >= i32(U.inW)) { return -1; }
  return iy * i32(U.inW) + ix;
}

fn convBias(v: u32) -> vec4f {
  if (U.hasBias != 0u) { return P[v]; }
  return vec4f(0.0);
}

fn convScale(a: u32, v: u32, vecs: u32) -> vec4f {
  return P[(U.hasBias + 2u * a) * vecs + v];
}

fn convShift(a: u32, v: u32, vecs: u32) -> vec4f {
  return P[(U.hasBias + 2u * a + 1u) * vecs + v];
}

fn convAffines(acc: vec4f, v: u32, vecs: u32) -> vec4f {
  var r = acc;
  for (var a = 0u; a < U.nAffine; a++) { r = affine4(r, convScale(a, v, vecs), convShift(a, v, vecs)); }
  return r;
}

fn convOutputIndex(t: u32, oy: u32, ox: u32) -> u32 {
  return U.outOffset + t * U.outStepStride + oy * U.outRowStride + ox;
}

fn convStore(o: u32, c0: u32, channels: u32, value: vec4f) {
  for (var j = 0u; j < 4u; j++) {
    let c = c0 + j;
    if (c < channels) { O[o + c * U.outPlaneStride] = value[j]; }
  }
}

fn convResidualIndex(t: u32, oy: u32, ox: u32) -> u32 {
  return t * U.rStepStride + oy * U.outRowStride + ox;
}

// value + the residual: lane j (channel c0 + j < channels) gets value[j] + R[r + c·plane].
fn convAddResidual(r: u32, c0: u32, channels: u32, value: vec4f) -> vec4f {
  var sum = value;
  for (var j = 0u; j < 4u; j++) {
    let c = c0 + j;
    if (c < channels) { sum[j] = value[j] + R[r + c * U.outPlaneStride]; }
  }
  return sum;
}
