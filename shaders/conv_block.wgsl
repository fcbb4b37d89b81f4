// Included by spike_conv.wgsl (a line `//@include conv_block`, after conv_epilogue and conv_lif):
// a conv computed 8 output pixels at a time per thread, for software adapters (SwiftShader),
// entry points `block`, `block_residual`, `block_lif` and `block_residual_lif` (the conv; + the
// residual; with the LIF neuron in the epilogue; both).
//
// Why 8 pixels: on SwiftShader a load whose address is not a compile-time constant is a gather of
// one value per lane, whatever the addresses are (equal or consecutive ones are not merged), so a
// kernel's time follows the number of values it loads. `main` loads one weight value per addition
// (each lane walks its own pixel's spikes); a block loads each weight vec4 once for its 8 pixels
// (the including kernel's blockConv walks the set bits of the OR of the 8 pixels' words and
// select-adds), about 0.5 values per addition at 20% input firing.
//
// Threads:
//   block, block_residual: one per (output vec4 v, block of 8 consecutive output pixels
//     (flattened row · outW + column), step t), v fastest; total = steps · blocks · ov;
//   block_lif, block_residual_lif: all T steps in each thread, which owns whole spike words; by
//     spike layout (spikeLayout, lif.wgsl's MODE):
//       0 channel-packed and 2 dense 0/1 f32: one per (32-channel word, block of 8 pixels), word
//         fastest; the thread's blocks: the word's 8 vec4s at its 8 pixels;
//       1 token-packed: one per (32-pixel word, vec4), word fastest; its blocks: the vec4 at the
//         word's 4 groups of 8 pixels.
//     Per block and step: the conv (once for a step-invariant conv, convSteps = 1, then kept),
//     + the residual, stored when storeConv = 1, then the LIF (conv_lif.wgsl's f32 operations)
//     with the block's membranes in registers, from v = 0. A thread's packed words are built in
//     S over its blocks: its first block stores them, the others OR their bits in. The spike
//     count is one atomicAdd per block and step.
//
// The including kernel declares the bindings O, R, S, counts, M, P (conv_epilogue.wgsl,
// conv_lif.wgsl), the uniform fields cout, ov, outH, outW, total, timeSteps, convSteps, storeConv,
// spikeLayout, countBase, writeMembrane, threshold, and
//   blockConv(t, v, g) -> array<vec4f, 8>: the conv (bias, taps, then blockAffines) of output
//   vec4 v at the block's pixels g (blockPixels; entries past the last pixel are not used), step t, each pixel's
//   sum accumulated in the order `main` accumulates it, so every entry here is bit-identical to
//   its twin without `block_`.
// `block_lif` and `block_residual_lif` repeat their loops: one shared function adding the residual
// would make `block_lif` use the binding R too (an entry point uses every binding its functions name).
// The membranes are declared with an explicit zero initializer: a `var` without one, in a loop
// body, kept the previous block's values on SwiftShader (the bit-exact test caught it).

const BLOCK_PIXELS: u32 = 8u;

fn blockCount() -> u32 {
  return (U.outH * U.outW + BLOCK_PIXELS - 1u) / BLOCK_PIXELS;
}

// The block's 8 output pixels as rows and columns (lo: pixels 0-3, hi: 4-7; ok: before the last
// output pixel), found by one vector division per block: integer division is not vectorised on a
// CPU, so dividing per pixel and tap cost more than the taps' additions.
struct BlockPixels { oyLo: vec4u, oxLo: vec4u, okLo: vec4<bool>, oyHi: vec4u, oxHi: vec4u, okHi: vec4<bool> }

fn blockPixels(n0: u32) -> BlockPixels {
  let N = U.outH * U.outW;
  let lo = vec4u(n0) + vec4u(0u, 1u, 2u, 3u);
  let hi = lo + vec4u(4u);
  let w = vec4u(U.outW);
  return BlockPixels(lo / w, lo % w, lo < vec4u(N), hi / w, hi % w, hi < vec4u(N));
}

// The input pixels (row·inW + column) that 4 output pixels (oy, ox) read at tap (ky, kx)
// (convTapPixel's arithmetic), or -1 in the padding or where not ok.
fn blockTapPixels(oy: vec4u, ox: vec4u, ok: vec4<bool>, ky: u32, kx: u32) -> vec4i {
  let iy = vec4i(oy * U.stride + ky) - vec4i(i32(U.pad));
  let ix = vec4i(ox * U.stride + kx) - vec4i(i32(U.pad));
  let inside = ok & (iy >= vec4i(0)) & (iy < vec4i(i32(U.inH))) & (ix >= vec4i(0)) & (ix < vec4i(i32(U.inW)));
  return select(vec4i(-1), iy * i32(U.inW) + ix, inside);
}

// The fused BatchNorm affines of vec4 v at the 8 pixels (convAffines' operations), each affine's
// scale and shift read once.
fn blockAffines(v: u32, x: array<vec4f, 8>) -> array<vec4f, 8> {
  var r = x;
  for (var a = 0u; a < U.nAffine; a++) {
    let s = convScale(a, v, U.ov);
    let b = convShift(a, v, U.ov);
    for (var i = 0u; i < BLOCK_PIXELS; i++) { r[i] = affine4(r[i], s, b); }
  }
  return r;
}

// x + the residual at vec4 v of one pixel (oy, ox) of the block, where it is ok (convAddResidual).
fn blockPixelResidual(t: u32, v: u32, oy: u32, ox: u32, ok: bool, x: vec4f) -> vec4f {
  if (!ok) { return x; }
  return convAddResidual(convResidualIndex(t, oy, ox), v * 4u, U.cout, x);
}

// x + the residual at vec4 v of the block's pixels g.
fn blockAddResidual(t: u32, v: u32, g: BlockPixels, x: array<vec4f, 8>) -> array<vec4f, 8> {
  return array<vec4f, 8>(
    blockPixelResidual(t, v, g.oyLo.x, g.oxLo.x, g.okLo.x, x[0]), blockPixelResidual(t, v, g.oyLo.y, g.oxLo.y, g.okLo.y, x[1]),
    blockPixelResidual(t, v, g.oyLo.z, g.oxLo.z, g.okLo.z, x[2]), blockPixelResidual(t, v, g.oyLo.w, g.oxLo.w, g.okLo.w, x[3]),
    blockPixelResidual(t, v, g.oyHi.x, g.oxHi.x, g.okHi.x, x[4]), blockPixelResidual(t, v, g.oyHi.y, g.oxHi.y, g.okHi.y, x[5]),
    blockPixelResidual(t, v, g.oyHi.z, g.oxHi.z, g.okHi.z, x[6]), blockPixelResidual(t, v, g.oyHi.w, g.oxHi.w, g.okHi.w, x[7]));
}

// Stores vec4 v of one pixel (oy, ox) of the block, step t, where it is ok (convStore).
fn blockPixelStore(t: u32, v: u32, oy: u32, ox: u32, ok: bool, x: vec4f) {
  if (ok) { convStore(convOutputIndex(t, oy, ox), v * 4u, U.cout, x); }
}

// Stores vec4 v of the block's pixels g, step t; returns x.
fn blockStore(t: u32, v: u32, g: BlockPixels, x: array<vec4f, 8>) -> array<vec4f, 8> {
  blockPixelStore(t, v, g.oyLo.x, g.oxLo.x, g.okLo.x, x[0]); blockPixelStore(t, v, g.oyLo.y, g.oxLo.y, g.okLo.y, x[1]);
  blockPixelStore(t, v, g.oyLo.z, g.oxLo.z, g.okLo.z, x[2]); blockPixelStore(t, v, g.oyLo.w, g.oxLo.w, g.okLo.w, x[3]);
  blockPixelStore(t, v, g.oyHi.x, g.oxHi.x, g.okHi.x, x[4]); blockPixelStore(t, v, g.oyHi.y, g.oxHi.y, g.okHi.y, x[5]);
  blockPixelStore(t, v, g.oyHi.z, g.oxHi.z, g.okHi.z, x[6]); blockPixelStore(t, v, g.oyHi.w, g.oxHi.w, g.okHi.w, x[7]);
  return x;
}

// Output vec4, first pixel and step of thread idx of `block` / `block_residual`.
fn blockPosition(idx: u32) -> vec3u {
  let rest = idx / U.ov;
  return vec3u(idx % U.ov, (rest % blockCount()) * BLOCK_PIXELS, rest / blockCount());
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn block(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let p = blockPosition(idx);
  let g = blockPixels(p.y);
  blockStore(p.z, p.x, g, blockConv(p.z, p.x, g));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn block_residual(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let p = blockPosition(idx);
  let g = blockPixels(p.y);
  blockStore(p.z, p.x, g, blockAddResidual(p.z, p.x, g, blockConv(p.z, p.x, g)));
}

// ---- The neuron in the epilogue.

struct BlockThread {
  // Block b is vec4 v0 + b·vStep at the 8 pixels from n0 + b·nStep.
  v0: u32,
  vStep: u32,
  n0: u32,
  nStep: u32,
  blocks: u32,
}

fn blockThread(idx: u32) -> BlockThread {
  let N = U.outH * U.outW;
  var q: BlockThread;
  if (U.spikeLayout == 1u) {
    let nw = (N + 31u) / 32u;
    q = BlockThread(idx / nw, 0u, (idx % nw) * 32u, BLOCK_PIXELS, 32u / BLOCK_PIXELS);
  } else {
    let cw = (U.cout + 31u) / 32u;
    q = BlockThread((idx % cw) * 8u, 1u, (idx / cw) * BLOCK_PIXELS, 0u, 8u);
  }
  if (idx >= U.total) { q.blocks = 0u; }
  return q;
}

// Block b of thread q: (vec4, first pixel, 1 if it exists).
fn blockUnit(q: BlockThread, b: u32) -> vec3u {
  let v = q.v0 + b * q.vStep;
  let n0 = q.n0 + b * q.nStep;
  return vec3u(v, n0, select(0u, 1u, v < U.ov && n0 < U.outH * U.outW));
}

// Step t of the neurons of block u (vec4 u.x at the pixels from u.y) on the conv values x; m holds
// their membranes. Writes the membranes (writeMembrane = 1) and the spikes: dense 0/1 f32
// (layout 2), or the block's bits into the thread's packed words (`first`: the thread's first
// block stores the words, the others OR into them). Returns the number of spikes.
fn blockFire(t: u32, u: vec3u, first: bool, x: array<vec4f, 8>, m: ptr<function, array<vec4f, 8>>) -> u32 {
  let C = U.cout;
  let N = U.outH * U.outW;
  var ones = 0u;
  var token = vec4u(0u);
  for (var i = 0u; i < BLOCK_PIXELS; i++) {
    let n = u.y + i;
    if (n >= N) { break; }
    let h = (*m)[i] + (x[i] - (*m)[i]) * 0.5;
    let fire = h >= vec4f(U.threshold);
    (*m)[i] = select(h, vec4f(0.0), fire);
    var bits = 0u;
    for (var j = 0u; j < 4u; j++) {
      let c = u.x * 4u + j;
      if (c >= C) { break; }
      if (U.writeMembrane != 0u) { M[(t * C + c) * N + n] = h[j]; }
      if (U.spikeLayout == 2u) { S[(t * C + c) * N + n] = bitcast<u32>(select(0.0, 1.0, fire[j])); }
      bits |= select(0u, 1u << j, fire[j]);
    }
    ones += countOneBits(bits);
    if (U.spikeLayout == 0u) {
      let s = (t * ((C + 31u) / 32u) + u.x / 8u) * N + n;
      let word = bits << (4u * (u.x % 8u));
      if (first) { S[s] = word; } else { S[s] |= word; }
    }
    if (U.spikeLayout == 1u) {
      for (var j = 0u; j < 4u; j++) { token[j] |= ((bits >> j) & 1u) << (n % 32u); }
    }
  }
  if (U.spikeLayout == 1u) {
    for (var j = 0u; j < 4u; j++) {
      let c = u.x * 4u + j;
      if (c >= C) { break; }
      let s = (t * C + c) * ((N + 31u) / 32u) + u.y / 32u;
      if (first) { S[s] = token[j]; } else { S[s] |= token[j]; }
    }
  }
  return ones;
}

fn blockAddCount(t: u32, ones: u32) {
  if (ones != 0u) { atomicAdd(&counts[U.countBase + t], ones); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn block_lif(inv: Invocation) {
  let q = blockThread(threadIndex(inv));
  for (var b = 0u; b < q.blocks; b++) {
    let u = blockUnit(q, b);
    if (u.z == 0u) { continue; }
    let g = blockPixels(u.y);
    var m = array<vec4f, 8>();
    var x: array<vec4f, 8>;
    for (var t = 0u; t < U.timeSteps; t++) {
      if (t < U.convSteps) {
        x = blockConv(t, u.x, g);
        if (U.storeConv != 0u) { x = blockStore(t, u.x, g, x); }
      }
      blockAddCount(t, blockFire(t, u, b == 0u, x, &m));
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn block_residual_lif(inv: Invocation) {
  let q = blockThread(threadIndex(inv));
  for (var b = 0u; b < q.blocks; b++) {
    let u = blockUnit(q, b);
    if (u.z == 0u) { continue; }
    let g = blockPixels(u.y);
    var m = array<vec4f, 8>();
    var x: array<vec4f, 8>;
    for (var t = 0u; t < U.timeSteps; t++) {
      if (t < U.convSteps) {
        x = blockAddResidual(t, u.x, g, blockConv(t, u.x, g));
        if (U.storeConv != 0u) { x = blockStore(t, u.x, g, x); }
      }
      blockAddCount(t, blockFire(t, u, b == 0u, x, &m));
    }
  }
}
