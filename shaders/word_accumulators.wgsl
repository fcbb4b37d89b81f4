// Included by spike_conv.wgsl and dense_conv.wgsl (a line `//@include word_accumulators`, after
// conv_epilogue): the 8 output vec4s of one 32-channel spike word (wordConv, the fused LIF's
// conv), accumulated in eight named vec4s.
//
// Why named fields and not `array<vec4f, 8>` indexed by a loop counter: SwiftShader keeps a
// function-scope array indexed by a variable in memory, per lane, so every `acc[e] += w` is a
// load and a store; the same loop over named fields stays in registers. Measured on the 2-core
// machine (Node Dawn on SwiftShader, 1×1 spike conv 64→64 on 4,032 pixels at 20% firing):
// 38 ms with the array, 20 ms with named fields. The arithmetic is the same: each field takes the
// same f32 operations in the same order as the array entry it replaces.
//
// Vec4 e of a word whose first vec4 is g0 reads weight column min(g0 + e, vecs − 1) (Word8Columns):
// vec4s past the last real one (a word of fewer than 32 channels) read a valid column and are not
// used; when vec4s 4..7 are all past it (a layer of 16 output channels, or the last word of 48)
// they are not accumulated at all (hiUsed = 0), which halves such a layer's loads. The including kernel declares W (vec4 weights, one row of `vecs` columns per input
// channel and tap) and the uniform field ov (= vecs).

struct WordAcc {
  a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f,
  a4: vec4f, a5: vec4f, a6: vec4f, a7: vec4f,
}

// The weight columns of vec4s g0 .. g0 + 7 (clamped to the last one): lo = 0..3, hi = 4..7.
struct Word8Columns { lo: vec4u, hi: vec4u, hiUsed: bool }

fn word8Columns(g0: u32) -> Word8Columns {
  let last = vec4u(U.ov - 1u);
  return Word8Columns(min(vec4u(g0) + vec4u(0u, 1u, 2u, 3u), last), min(vec4u(g0) + vec4u(4u, 5u, 6u, 7u), last), g0 + 4u < U.ov);
}

// The accumulators' start: the conv bias of each vec4 (convBias), or 0.
fn wordBias(c: Word8Columns) -> WordAcc {
  return WordAcc(convBias(c.lo.x), convBias(c.lo.y), convBias(c.lo.z), convBias(c.lo.w),
                 convBias(c.hi.x), convBias(c.hi.y), convBias(c.hi.z), convBias(c.hi.w));
}

// a + the weight row starting at vec4 `row` (a spike: no multiplication).
fn wordAdd(a: WordAcc, row: u32, c: Word8Columns) -> WordAcc {
  var r = a;
  r.a0 += W[row + c.lo.x]; r.a1 += W[row + c.lo.y]; r.a2 += W[row + c.lo.z]; r.a3 += W[row + c.lo.w];
  if (c.hiUsed) { r.a4 += W[row + c.hi.x]; r.a5 += W[row + c.hi.y]; r.a6 += W[row + c.hi.z]; r.a7 += W[row + c.hi.w]; }
  return r;
}

// fma(x, the weight row starting at vec4 `row`, a) (a real-valued input).
fn wordFma(a: WordAcc, x: vec4f, row: u32, c: Word8Columns) -> WordAcc {
  var r = a;
  r.a0 = fma(x, W[row + c.lo.x], a.a0); r.a1 = fma(x, W[row + c.lo.y], a.a1); r.a2 = fma(x, W[row + c.lo.z], a.a2); r.a3 = fma(x, W[row + c.lo.w], a.a3);
  if (c.hiUsed) { r.a4 = fma(x, W[row + c.hi.x], a.a4); r.a5 = fma(x, W[row + c.hi.y], a.a5); r.a6 = fma(x, W[row + c.hi.z], a.a6); r.a7 = fma(x, W[row + c.hi.w], a.a7); }
  return r;
}

// The fused BatchNorm affines of each vec4 (convAffines), as the array wordConv returns.
fn wordAffines(a: WordAcc, c: Word8Columns) -> array<vec4f, 8> {
  return array<vec4f, 8>(convAffines(a.a0, c.lo.x, U.ov), convAffines(a.a1, c.lo.y, U.ov), convAffines(a.a2, c.lo.z, U.ov), convAffines(a.a3, c.lo.w, U.ov),
                         convAffines(a.a4, c.hi.x, U.ov), convAffines(a.a5, c.hi.y, U.ov), convAffines(a.a6, c.hi.z, U.ov), convAffines(a.a7, c.hi.w, U.ov));
}
