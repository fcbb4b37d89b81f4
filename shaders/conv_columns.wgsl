// Included by the dense kernels (a line `//@include conv_columns`, after conv_epilogue), whose
// threads hold COLS consecutive output pixels of one row for one output vec4: adding the residual
// to those columns and storing them. The including kernel declares `const COLS: u32` and the
// uniform field outW (plus what conv_epilogue.wgsl asks for); a thread's columns travel in an
// array<vec4f, 4> of which the first COLS are used.

// acc + the residual at the COLS pixels from (oy, ox0) (those < outW) of output vec4 v, step t:
// one f32 add per value, as the CPU reference's add (convAddResidual).
fn convAddResidualColumns(v: u32, ox0: u32, oy: u32, t: u32, channels: u32, acc: array<vec4f, 4>) -> array<vec4f, 4> {
  var sum = acc;
  let r = convResidualIndex(t, oy, ox0);
  for (var i = 0u; i < min(COLS, U.outW - ox0); i++) { sum[i] = convAddResidual(r + i, v * 4u, channels, acc[i]); }
  return sum;
}

// Stores the COLS pixels from (oy, ox0) (those < outW) of output vec4 v (its channels < channels), step t.
fn convStoreColumns(v: u32, ox0: u32, oy: u32, t: u32, channels: u32, acc: array<vec4f, 4>) {
  let o = convOutputIndex(t, oy, ox0);
  let n = min(COLS, U.outW - ox0);
  for (var j = 0u; j < 4u; j++) {
    let c = v * 4u + j;
    if (c >= channels) { break; }
    let q = o + c * U.outPlaneStride;
    for (var i = 0u; i < n; i++) { O[q + i] = acc[i][j]; }
  }
}
