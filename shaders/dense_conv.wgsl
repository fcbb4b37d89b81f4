// Dense convolution of a real-valued (or 0/1 f32) map: the stem on the image, the 1×1 convs
// after depthwise ones, and every conv of the `webgpu-dense` baseline. Grouped convs too (sibling
// RepConvs read as one, siblingMerge.ts): output channel o reads the cin input channels of group
// o / groupCout (groupCout = cout for an ungrouped conv, a multiple of 4 otherwise).
// With DW = 1 the input is a depthwise conv computed here (RepConv's 3×3 before its 1×1, on a
// hardware adapter; `main` and `residual` then take 8 output vec4s of one pixel a thread, as the
// fused LIF does, so each depthwise value is computed once per 32 output channels): this conv is
// then 1×1 (stride 1, no padding) and its input value at channel
// c, pixel (y, x) is Σ over the dwK×dwK taps (ky outer, kx inner) of fma(X[c][y+ky][x+kx], wdw[c][tap], ·)
// from 0, on the unpadded dwInH × dwInW map X (the BN-and-pad output): the same operations, in the
// same order, as dense_dwconv.wgsl without bias or affines, so the result is bit-exact with the
// two dispatches; the depthwise map never goes out.
// Register-tiled, no workgroup memory or barriers: a thread computes 4 output channels (one vec4
// of weights per input value) × COLS consecutive output pixels of a row (COLS = 4: 16
// accumulators, each weight load reused 4 times; COLS = 1 for layers too small to fill the GPU
// otherwise). On hardware adapters a conv that is not depthwise (the stem, RepConv's 1×1s, every
// conv of the dense baseline) runs instead as a GEMM tiled in workgroup memory, with or without a
// fused neuron (conv_tile.wgsl's entry points `tile`, `tile_residual`, `tile_lif`,
// `tile_residual_lif`, with tileConv below).
//
// Threads: one per (output vec4, group of COLS output columns, output row, step), vec4 index fastest
// (lanes share the input pixels and read consecutive weights).
// Epilogue (conv_epilogue.wgsl): bias, fused BatchNorm affines, optionally padded output.
//
// Bindings:
//   0 uniform U
//   1 X  f32   [S][Cin][inH][inW] input (xStepStride = 0 for a step-invariant input); with DW = 1
//              the depthwise conv's input [S][groups·Cin][dwInH][dwInW]
//   2 W  vec4  [k·k][Cin][OV] weights, OV = ceil(Cout/4) (Cin: input channels per group); with DW = 1
//              followed from vec4 dwWeights by the depthwise weights [dwK·dwK][dwCv] (dense_dwconv's W)
//   3 P  vec4  [hasBias + 2·nAffine][OV]
//   4 O  f32   output
//   5 R  f32   residual (entry points `residual`, `residual_lif`): [S][Cout][outH][outW], step stride rStepStride
//   6 S       u32   spikes of the fused LIF (entry points `lif`, `residual_lif`; conv_lif.wgsl)
//   7 counts  atomic u32, counts[countBase + t] += spikes of step t (`lif`, `residual_lif`)
//   8 M       f32   membrane [T][Cout][outH·outW] (`lif`, `residual_lif`; written when writeMembrane = 1)
//
// Entry points: `main` stores the conv; `residual` stores the conv + R (conv_epilogue.wgsl);
// `lif` and `residual_lif` (declared in conv_lif.wgsl) run the LIF neuron on that value over the
// T steps (threads own whole spike words, all steps in the thread; COLS = 1); `tile`,
// `tile_residual`, `tile_lif` and `tile_residual_lif` (conv_tile.wgsl) are those four as a GEMM
// tiled in workgroup memory (COLS = 1).

//@include thread
//@include conv_epilogue
//@include conv_columns
//@include word_accumulators
//@include conv_lif
//@include conv_tile

const COLS: u32 = {{COLS}}u;
const DW: u32 = {{DW}}u;

struct Uniforms {
  cin: u32, inH: u32, inW: u32, cout: u32,
  ov: u32, outH: u32, outW: u32, outWQ: u32,
  k: u32, stride: u32, pad: u32, total: u32,
  hasBias: u32, nAffine: u32, xStepStride: u32, outStepStride: u32,
  outPlaneStride: u32, outRowStride: u32, outOffset: u32, rStepStride: u32,
  timeSteps: u32, convSteps: u32, storeConv: u32,
  spikeLayout: u32, countBase: u32, writeMembrane: u32, threshold: f32,
  groupCout: u32,
  dwK: u32, dwInH: u32, dwInW: u32, dwWeights: u32, dwCv: u32,
  tiles: u32, groupTiles: u32, pixelTiles: u32,
}

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read> P: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<storage, read> R: array<f32>;
@group(0) @binding(6) var<storage, read_write> S: array<u32>;
@group(0) @binding(7) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(8) var<storage, read_write> M: array<f32>;

// DW = 1: the depthwise conv's value at channel c (of its map), pixel (y, x), step t.
fn depthwiseAt(t: u32, c: u32, y: u32, x: u32) -> f32 {
  let base = t * U.xStepStride + (c * U.dwInH + y) * U.dwInW + x;
  var a = 0.0;
  for (var ky = 0u; ky < U.dwK; ky++) {
    for (var kx = 0u; kx < U.dwK; kx++) {
      a = fma(X[base + ky * U.dwInW + kx], W[U.dwWeights + (ky * U.dwK + kx) * U.dwCv + c / 4u][c % 4u], a);
    }
  }
  return a;
}

// The conv at output vec4 ov of COLS pixels from (oy, ox0), step t: bias, taps, fused affines.
// The columns accumulate in named vec4s a0..a3 (a1..a3 unused when COLS = 1), not in an array
// indexed by a loop counter, which SwiftShader keeps in memory (word_accumulators.wgsl); entries
// ≥ COLS of the returned array are not used.
fn convolve(ov: u32, ox0: u32, oy: u32, t: u32) -> array<vec4f, 4> {
  let inPlane = U.inH * U.inW;
  let xBase = t * U.xStepStride + (ov * 4u / U.groupCout) * U.cin * inPlane;
  var a0 = convBias(ov);
  var a1 = a0;
  var a2 = a0;
  var a3 = a0;
  if (DW == 1u) {
    // 1×1 over the depthwise values of this group's channels (DW = 1 runs with COLS = 1).
    let c0 = (ov * 4u / U.groupCout) * U.cin;
    var wi = ov;
    for (var ci = 0u; ci < U.cin; ci++) {
      a0 = fma(vec4f(depthwiseAt(t, c0 + ci, oy, ox0)), W[wi], a0);
      wi += U.ov;
    }
  } else {
    let maxX = i32(U.inW) - 1;
    for (var ky = 0u; ky < U.k; ky++) {
      let iy = i32(oy * U.stride + ky) - i32(U.pad);
      if (iy < 0 || iy >= i32(U.inH)) { continue; }
      let row = xBase + u32(iy) * U.inW;
      for (var kx = 0u; kx < U.k; kx++) {
        // Input columns of the COLS pixels at this tap; those in the zero padding read column 0 and add 0.
        let ix = vec4i((vec4u(ox0) + vec4u(0u, 1u, 2u, 3u)) * U.stride + kx) - i32(U.pad);
        let ok = (ix >= vec4i(0)) & (ix <= vec4i(maxX));
        let cx = vec4u(clamp(ix, vec4i(0), vec4i(maxX)));
        var wi = (ky * U.k + kx) * U.cin * U.ov + ov;
        var xi = row;
        for (var ci = 0u; ci < U.cin; ci++) {
          let w = W[wi];
          a0 = fma(vec4f(select(0.0, X[xi + cx.x], ok.x)), w, a0);
          if (COLS > 1u) {
            a1 = fma(vec4f(select(0.0, X[xi + cx.y], ok.y)), w, a1);
            a2 = fma(vec4f(select(0.0, X[xi + cx.z], ok.z)), w, a2);
            a3 = fma(vec4f(select(0.0, X[xi + cx.w], ok.w)), w, a3);
          }
          wi += U.ov;
          xi += inPlane;
        }
      }
    }
  }
  for (var a = 0u; a < U.nAffine; a++) {
    let sc = convScale(a, ov, U.ov);
    let sh = convShift(a, ov, U.ov);
    a0 = affine4(a0, sc, sh);
    if (COLS > 1u) {
      a1 = affine4(a1, sc, sh);
      a2 = affine4(a2, sc, sh);
      a3 = affine4(a3, sc, sh);
    }
  }
  return array<vec4f, 4>(a0, a1, a2, a3);
}

// Output vec4, first column, row and step of thread idx.
fn position(idx: u32) -> vec4u {
  let ov = idx % U.ov;
  var rest = idx / U.ov;
  let ox0 = (rest % U.outWQ) * COLS; rest = rest / U.outWQ;
  let oy = rest % U.outH;
  return vec4u(ov, ox0, oy, rest / U.outH);
}

// DW = 1 (COLS = 1): first vec4 of the thread's 8, column, row and step.
fn wordPosition(idx: u32) -> vec4u {
  let words = (U.ov + 7u) / 8u;
  var rest = idx / words;
  let ox = rest % U.outW; rest = rest / U.outW;
  let oy = rest % U.outH;
  return vec4u((idx % words) * 8u, ox, oy, rest / U.outH);
}

// DW = 1: stores the 8 vec4s from p.x (those < ov) at pixel (p.z, p.y), step p.w.
fn storeWord(p: vec4u, acc: array<vec4f, 8>) {
  for (var e = 0u; e < 8u; e++) {
    if (p.x + e >= U.ov) { break; }
    var a: array<vec4f, 4>;
    a[0] = acc[e];
    convStoreColumns(p.x + e, p.y, p.z, p.w, U.cout, a);
  }
}

// DW = 1: those 8 vec4s + the residual.
fn addResidualWord(p: vec4u, acc: array<vec4f, 8>) -> array<vec4f, 8> {
  var sum = acc;
  for (var e = 0u; e < 8u; e++) {
    if (p.x + e >= U.ov) { break; }
    var a: array<vec4f, 4>;
    a[0] = acc[e];
    sum[e] = convAddResidualColumns(p.x + e, p.y, p.z, p.w, U.cout, a)[0];
  }
  return sum;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  if (DW == 1u) {
    // 8 output vec4s of one pixel a thread: each depthwise value computed once for the 8.
    let p = wordPosition(idx);
    storeWord(p, wordConv(p.w, p.x, p.z * U.outW + p.y));
    return;
  }
  let p = position(idx);
  convStoreColumns(p.x, p.y, p.z, p.w, U.cout, convolve(p.x, p.y, p.z, p.w));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn residual(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  if (DW == 1u) {
    let p = wordPosition(idx);
    storeWord(p, addResidualWord(p, wordConv(p.w, p.x, p.z * U.outW + p.y)));
    return;
  }
  let p = position(idx);
  convStoreColumns(p.x, p.y, p.z, p.w, U.cout, convAddResidualColumns(p.x, p.y, p.z, p.w, U.cout, convolve(p.x, p.y, p.z, p.w)));
}

// ---- The tiled conv (conv_tile.wgsl; entry points `tile`, `tile_residual`, `tile_lif`,
// `tile_residual_lif`) as a GEMM: any kernel, stride and padding, not depthwise; DW = 0 or 1,
// COLS = 1; for hardware adapters.
// The GEMM's inner dimension runs over the taps and input channels in convolve's order:
// kk = (ky·k + kx)·cin + channel, which is also the row of W (a 1×1 conv: kk = channel).
// Per chunk of GEMM_KC values of kk the workgroup stages the chunk's input values at its 32 pixels
// (with DW = 1 the depthwise values, each computed once per tile; past the map's columns 0, as
// convolve reads them) and weights in workgroup memory, then each thread accumulates its output
// vec4 at 4 consecutive pixels from them. Each output is still fma(x, w, ·) over kk in ascending
// order from the bias, then the affines: convolve's arithmetic in its order, so the result is
// bit-exact with `main` / `residual`. Taps whose input row lies outside the map are skipped, not
// added as 0, as convolve skips them (fma(0, w, -0) is +0 for w ≥ 0: adding would change the sign
// of a zero): gemmRows marks, per staged value, the pixels whose row is inside.

const GEMM_KC: u32 = 16u;
// The chunk's inputs: [GEMM_KC][8 pixel quads] vec4 (4 consecutive pixels each).
var<workgroup> gemmX: array<vec4f, 128>;
// The chunk's weights: [GEMM_KC][8 output vec4s].
var<workgroup> gemmW: array<vec4f, 128>;
// Padded convs (pad > 0): [GEMM_KC][8 pixel quads], bit j set where pixel j of the quad reads a row
// of the map at that kk (its fma is done); clear where convolve skips the tap.
var<workgroup> gemmRows: array<u32, 128>;

// The GEMM's inner dimension: taps × input channels of a group.
fn gemmDepth() -> u32 {
  return U.k * U.k * U.cin;
}

// The input at kk of the group from channel c0, pixel n, step t (x: the value; y: 1 where its row is
// inside the map, so the fma is done, else 0). Past the map's columns x is 0 (as convolve reads
// it); past the last pixel, 0.
fn gemmInput(t: u32, c0: u32, kk: u32, n: u32) -> vec2f {
  let N = U.outH * U.outW;
  if (n >= N) { return vec2f(0.0, 1.0); }
  if (DW == 1u) { return vec2f(depthwiseAt(t, c0 + kk, n / U.outW, n % U.outW), 1.0); }
  if (U.k == 1u && U.stride == 1u && U.pad == 0u) { return vec2f(X[t * U.xStepStride + (c0 + kk) * N + n], 1.0); }
  let tap = kk / U.cin;
  let c = c0 + kk % U.cin;
  let iy = i32((n / U.outW) * U.stride + tap / U.k) - i32(U.pad);
  let ix = i32((n % U.outW) * U.stride + tap % U.k) - i32(U.pad);
  if (iy < 0 || iy >= i32(U.inH)) { return vec2f(0.0); }
  if (ix < 0 || ix >= i32(U.inW)) { return vec2f(0.0, 1.0); }
  return vec2f(X[t * U.xStepStride + (c * U.inH + u32(iy)) * U.inW + u32(ix)], 1.0);
}

// Thread `lid` stages kk = k0 + lid / 4 at pixels 8·(lid % 4) .. + 7 (and their rows' marks), and
// weight columns v0 + 2·(lid % 4) .. + 1 of that kk (clamped to the group's last column; unused
// past it).
fn gemmStage(tile: ConvTile, k0: u32, lid: u32) {
  let ci = lid / 4u;
  let q = lid % 4u;
  var xv = array<vec2f, 8>();
  let k = k0 + ci;
  if (k < gemmDepth()) {
    let n = tile.n0 + q * 8u;
    xv = array<vec2f, 8>(gemmInput(tile.t, tile.c0, k, n), gemmInput(tile.t, tile.c0, k, n + 1u),
                         gemmInput(tile.t, tile.c0, k, n + 2u), gemmInput(tile.t, tile.c0, k, n + 3u),
                         gemmInput(tile.t, tile.c0, k, n + 4u), gemmInput(tile.t, tile.c0, k, n + 5u),
                         gemmInput(tile.t, tile.c0, k, n + 6u), gemmInput(tile.t, tile.c0, k, n + 7u));
    let row = k * U.ov;
    gemmW[ci * 8u + q * 2u] = W[row + min(tile.v0 + q * 2u, tile.vEnd - 1u)];
    gemmW[ci * 8u + q * 2u + 1u] = W[row + min(tile.v0 + q * 2u + 1u, tile.vEnd - 1u)];
  }
  gemmX[ci * 8u + q * 2u] = vec4f(xv[0].x, xv[1].x, xv[2].x, xv[3].x);
  gemmX[ci * 8u + q * 2u + 1u] = vec4f(xv[4].x, xv[5].x, xv[6].x, xv[7].x);
  if (U.pad != 0u) {
    gemmRows[ci * 8u + q * 2u] = gemmRowBits(xv[0].y, xv[1].y, xv[2].y, xv[3].y);
    gemmRows[ci * 8u + q * 2u + 1u] = gemmRowBits(xv[4].y, xv[5].y, xv[6].y, xv[7].y);
  }
}

fn gemmRowBits(a: f32, b: f32, c: f32, d: f32) -> u32 {
  return u32(a) | (u32(b) << 1u) | (u32(c) << 2u) | (u32(d) << 3u);
}

// The tile's conv at output vec4 tile.v0 + lid % 8, pixels tile.n0 + 4·(lid / 8) .. + 3 (a0..a3),
// after the affines (conv_tile.wgsl's tileConv).
fn tileConv(tile: ConvTile, lid: u32) -> array<vec4f, 4> {
  let cv = lid % 8u;
  let pq = lid / 8u;
  var a = tileBias(tile, lid);
  let depth = gemmDepth();
  for (var k0 = 0u; k0 < depth; k0 += GEMM_KC) {
    workgroupBarrier();
    gemmStage(tile, k0, lid);
    workgroupBarrier();
    let kc = min(GEMM_KC, depth - k0);
    if (U.pad == 0u) {
      for (var ci = 0u; ci < kc; ci++) {
        let w = gemmW[ci * 8u + cv];
        let x = gemmX[ci * 8u + pq];
        a[0u] = fma(vec4f(x.x), w, a[0u]);
        a[1u] = fma(vec4f(x.y), w, a[1u]);
        a[2u] = fma(vec4f(x.z), w, a[2u]);
        a[3u] = fma(vec4f(x.w), w, a[3u]);
      }
    } else {
      // Padded: a pixel's fma only where its row is inside the map (gemmRows).
      for (var ci = 0u; ci < kc; ci++) {
        let w = gemmW[ci * 8u + cv];
        let x = gemmX[ci * 8u + pq];
        let r = gemmRows[ci * 8u + pq];
        a[0u] = select(a[0u], fma(vec4f(x.x), w, a[0u]), (r & 1u) != 0u);
        a[1u] = select(a[1u], fma(vec4f(x.y), w, a[1u]), (r & 2u) != 0u);
        a[2u] = select(a[2u], fma(vec4f(x.z), w, a[2u]), (r & 4u) != 0u);
        a[3u] = select(a[3u], fma(vec4f(x.w), w, a[3u]), (r & 8u) != 0u);
      }
    }
  }
  return tileAffines(tile, lid, a);
}

// For the fused LIF (conv_lif.wgsl; COLS = 1): the conv of unit u (vec4 u.x at pixel u.y), step
// t; the convs of the 8 vec4s from g0 at pixel n in one pass over the input (each input value, or
// depthwise value with DW = 1, read or computed once for the 8; each vec4's sum in convolve's
// order; vec4s ≥ ov read valid weights and are not used); x + the residual; the store.
fn unitConv(t: u32, u: vec3u) -> vec4f {
  return convolve(u.x, u.y % U.outW, u.y / U.outW, t)[0];
}

fn wordConv(t: u32, g0: u32, n: u32) -> array<vec4f, 8> {
  let ox = n % U.outW;
  let oy = n / U.outW;
  if (U.groupCout != U.cout && U.groupCout % 32u != 0u) {
    // Groups of other than whole words: the word's vec4s may read different groups.
    var acc: array<vec4f, 8>;
    for (var e = 0u; e < 8u; e++) { acc[e] = convolve(min(g0 + e, U.ov - 1u), ox, oy, t)[0]; }
    return acc;
  }
  // The group of the word's vec4s, and its first input channel.
  let c0 = (g0 * 4u / U.groupCout) * U.cin;
  let cols = word8Columns(g0);
  var acc = wordBias(cols);
  if (DW == 1u) {
    for (var ci = 0u; ci < U.cin; ci++) {
      acc = wordFma(acc, vec4f(depthwiseAt(t, c0 + ci, oy, ox)), ci * U.ov, cols);
    }
  } else {
    let inPlane = U.inH * U.inW;
    let maxX = i32(U.inW) - 1;
    for (var ky = 0u; ky < U.k; ky++) {
      let iy = i32(oy * U.stride + ky) - i32(U.pad);
      if (iy < 0 || iy >= i32(U.inH)) { continue; }
      let row = t * U.xStepStride + c0 * inPlane + u32(iy) * U.inW;
      for (var kx = 0u; kx < U.k; kx++) {
        let ix = i32(ox * U.stride + kx) - i32(U.pad);
        let ok = ix >= 0 && ix <= maxX;
        var xi = row + u32(clamp(ix, 0, maxX));
        var wi = (ky * U.k + kx) * U.cin * U.ov;
        for (var ci = 0u; ci < U.cin; ci++) {
          acc = wordFma(acc, vec4f(select(0.0, X[xi], ok)), wi, cols);
          wi += U.ov;
          xi += inPlane;
        }
      }
    }
  }
  return wordAffines(acc, cols);
}

fn unitResidual(t: u32, u: vec3u, x: vec4f) -> vec4f {
  var a: array<vec4f, 4>;
  a[0] = x;
  return convAddResidualColumns(u.x, u.y % U.outW, u.y / U.outW, t, U.cout, a)[0];
}

fn unitStore(t: u32, u: vec3u, x: vec4f) {
  var acc: array<vec4f, 4>;
  acc[0] = x;
  convStoreColumns(u.x, u.y % U.outW, u.y / U.outW, t, U.cout, acc);
}
