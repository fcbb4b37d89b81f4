// Event-driven convolution (groups = 1) of a spike map: every output is the sum of the weights at
// the input positions that spiked. No multiplications: a thread visits only the set bits of the
// channel-packed input words (firstTrailingBit, clear lowest bit) and adds one vec4 of weights
// (4 output channels) per spike; zero words cost one load.
//
// Threads: one per (output vec4 of 4 channels, output pixel, step), the vec4 index fastest, so
// neighbouring lanes share the pixel (same bits, uniform loop) and read consecutive weights.
// Epilogue (conv_epilogue.wgsl): acc starts at the conv bias (if any); then the BatchNorm affines
// fused into this conv, in order; the result is written to a [T][Cout][rows][cols] map, possibly
// into the interior of a padded map (RepConv's BN-and-pad: the border is filled once).
//
// Bindings:
//   0 uniform U
//   1 X  u32   [T][ceil(Cin/32)][inH·inW] spikes, bit c%32 of word c/32
//   2 W  vec4  [k·k][Cin][OV] weights, OV = ceil(Cout/4), zero-padded output channels
//   3 P  vec4  [hasBias + 2·nAffine][OV]: bias, then per affine scale and shift
//   4 O  f32   output
//   5 R  f32   residual (entry points `residual`, `residual_lif`): [S][Cout][outH][outW], step stride rStepStride
//   6 S       u32   spikes of the fused LIF (entry points `lif`, `residual_lif`; conv_lif.wgsl)
//   7 counts  atomic u32, counts[countBase + t] += spikes of step t (`lif`, `residual_lif`)
//   8 M       f32   membrane [T][Cout][outH·outW] (`lif`, `residual_lif`; written when writeMembrane = 1)
//
// Entry points: `main` stores the conv; `residual` stores the conv + R (conv_epilogue.wgsl);
// `lif` and `residual_lif` (declared in conv_lif.wgsl) run the LIF neuron on that value over the
// T steps (threads own whole spike words, all steps in the thread); `tile`, `tile_residual`,
// `tile_lif` and `tile_residual_lif` (conv_tile.wgsl, with tileConv below) are those four tiled
// in workgroup memory, for hardware adapters; `block`, `block_residual`, `block_lif` and
// `block_residual_lif` (conv_block.wgsl, with blockConv below) those four 8 pixels per thread, for
// software adapters.

//@include thread
//@include conv_epilogue
//@include word_accumulators
//@include conv_lif
//@include conv_tile
//@include conv_block

struct Uniforms {
  cin: u32, cwin: u32, inH: u32, inW: u32,
  cout: u32, ov: u32, outH: u32, outW: u32,
  k: u32, stride: u32, pad: u32, total: u32,
  hasBias: u32, nAffine: u32, xStepStride: u32, outStepStride: u32,
  outPlaneStride: u32, outRowStride: u32, outOffset: u32, rStepStride: u32,
  timeSteps: u32, convSteps: u32, storeConv: u32,
  spikeLayout: u32, countBase: u32, writeMembrane: u32, threshold: f32,
  groupCout: u32, tiles: u32, groupTiles: u32, pixelTiles: u32,
}

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read> P: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<storage, read> R: array<f32>;
@group(0) @binding(6) var<storage, read_write> S: array<u32>;
@group(0) @binding(7) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(8) var<storage, read_write> M: array<f32>;

// Output vec4, column, row and step of thread idx.
fn position(idx: u32) -> vec4u {
  let ov = idx % U.ov;
  var rest = idx / U.ov;
  let ox = rest % U.outW; rest = rest / U.outW;
  let oy = rest % U.outH;
  return vec4u(ov, ox, oy, rest / U.outH);
}

// The conv at output vec4 ov of pixel (oy, ox), step t: bias, taps, fused affines.
fn convolve(ov: u32, ox: u32, oy: u32, t: u32) -> vec4f {
  let inPlane = U.inH * U.inW;
  let xBase = t * U.xStepStride;
  var acc = convBias(ov);
  for (var tap = 0u; tap < U.k * U.k; tap++) {
    let pix = convTapPixel(oy, ox, tap / U.k, tap % U.k);
    if (pix < 0) { continue; }
    for (var cw = 0u; cw < U.cwin; cw++) {
      var word = X[xBase + cw * inPlane + u32(pix)];
      while (word != 0u) {
        let b = firstTrailingBit(word);
        acc += W[(tap * U.cin + cw * 32u + b) * U.ov + ov];
        word &= word - 1u;
      }
    }
  }
  return convAffines(acc, ov, U.ov);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let p = position(idx);
  convStore(convOutputIndex(p.w, p.z, p.y), p.x * 4u, U.cout, convolve(p.x, p.y, p.z, p.w));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn residual(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let p = position(idx);
  convStore(convOutputIndex(p.w, p.z, p.y), p.x * 4u, U.cout, convAddResidual(convResidualIndex(p.w, p.z, p.y), p.x * 4u, U.cout, convolve(p.x, p.y, p.z, p.w)));
}

// For the fused LIF (conv_lif.wgsl): the conv of unit u (vec4 u.x at pixel u.y), step t; the
// convs of the 8 vec4s from g0 at pixel n in one walk over the set bits (each vec4's sum in
// convolve's order; vec4s ≥ ov read a valid row's weights and are not used); x + the residual;
// the store.
fn unitConv(t: u32, u: vec3u) -> vec4f {
  return convolve(u.x, u.y % U.outW, u.y / U.outW, t);
}

fn wordConv(t: u32, g0: u32, n: u32) -> array<vec4f, 8> {
  let ox = n % U.outW;
  let oy = n / U.outW;
  let inPlane = U.inH * U.inW;
  let xBase = t * U.xStepStride;
  let cols = word8Columns(g0);
  var acc = wordBias(cols);
  for (var tap = 0u; tap < U.k * U.k; tap++) {
    let pix = convTapPixel(oy, ox, tap / U.k, tap % U.k);
    if (pix < 0) { continue; }
    for (var cw = 0u; cw < U.cwin; cw++) {
      var word = X[xBase + cw * inPlane + u32(pix)];
      while (word != 0u) {
        acc = wordAdd(acc, (tap * U.cin + cw * 32u + firstTrailingBit(word)) * U.ov, cols);
        word &= word - 1u;
      }
    }
  }
  return wordAffines(acc, cols);
}

fn unitResidual(t: u32, u: vec3u, x: vec4f) -> vec4f {
  return convAddResidual(convResidualIndex(t, u.y / U.outW, u.y % U.outW), u.x * 4u, U.cout, x);
}

fn unitStore(t: u32, u: vec3u, x: vec4f) {
  convStore(convOutputIndex(t, u.y / U.outW, u.y % U.outW), u.x * 4u, U.cout, x);
}

// ---- The tiled conv (conv_tile.wgsl's entry points), event-driven: a workgroup's tile is 32
// output channels × 32 pixels; per tap and 32-channel input word it stages the word at each of
// the tile's 32 pixels (0 where the tap falls in the padding: nothing is added, as convolve skips
// the tap) and the word's 32 rows of the tile's weights in workgroup memory. A thread (output vec4
// lid % 8 at the 4 pixels of quad lid / 8) walks the set bits of the OR of its 4 pixels' words,
// once for the 4, and adds the bit's weight vec4 to each pixel whose word has it (select: no
// multiplication, and a pixel without the spike keeps its sum as it was). Per pixel the weights
// are added in convolve's order (tap, word, bit ascending) from the bias, so the result is
// bit-identical to `main`; the 8 threads of a quad share its words, so their bit loops agree.

// The chunk's input words: [32 pixels].
var<workgroup> tileX: array<u32, 32>;
// The chunk's weights: [32 input channels][8 output vec4s].
var<workgroup> tileW: array<vec4f, 256>;

// Thread `lid` stages the word at pixel lid (lid < 32) and 4 of the 256 weight vec4s of tap `tap`,
// input word cw (clamped to the tile's last vec4; channels past cin read as 0, never added).
fn tileStage(tile: ConvTile, tap: u32, cw: u32, lid: u32) {
  if (lid < 32u) {
    let n = tile.n0 + lid;
    var word = 0u;
    if (n < U.outH * U.outW) {
      let pix = convTapPixel(n / U.outW, n % U.outW, tap / U.k, tap % U.k);
      if (pix >= 0) { word = X[tile.t * U.xStepStride + cw * U.inH * U.inW + u32(pix)]; }
    }
    tileX[lid] = word;
  }
  for (var e = lid; e < 256u; e += WORKGROUP_SIZE) {
    let c = cw * 32u + e / 8u;
    var w = vec4f(0.0);
    if (c < U.cin) { w = W[(tap * U.cin + c) * U.ov + min(tile.v0 + e % 8u, tile.vEnd - 1u)]; }
    tileW[e] = w;
  }
}

fn tileConv(tile: ConvTile, lid: u32) -> array<vec4f, 4> {
  let cv = lid % 8u;
  let pq = lid / 8u;
  var a = tileBias(tile, lid);
  for (var tap = 0u; tap < U.k * U.k; tap++) {
    for (var cw = 0u; cw < U.cwin; cw++) {
      workgroupBarrier();
      tileStage(tile, tap, cw, lid);
      workgroupBarrier();
      let x0 = tileX[pq * 4u];
      let x1 = tileX[pq * 4u + 1u];
      let x2 = tileX[pq * 4u + 2u];
      let x3 = tileX[pq * 4u + 3u];
      var any = x0 | x1 | x2 | x3;
      while (any != 0u) {
        let b = firstTrailingBit(any);
        let bit = 1u << b;
        let w = tileW[b * 8u + cv];
        a[0u] = select(a[0u], a[0u] + w, (x0 & bit) != 0u);
        a[1u] = select(a[1u], a[1u] + w, (x1 & bit) != 0u);
        a[2u] = select(a[2u], a[2u] + w, (x2 & bit) != 0u);
        a[3u] = select(a[3u], a[3u] + w, (x3 & bit) != 0u);
        any &= any - 1u;
      }
    }
  }
  return tileAffines(tile, lid, a);
}

// ---- The blocked conv (conv_block.wgsl's entry points), event-driven: output vec4 v at the 8
// pixels g (blockPixels), step t. Per tap and 32-channel input word the thread loads the 8 pixels' words
// (0 where the tap falls in the padding or past the last pixel: nothing is added, as convolve
// skips the tap) and walks the set bits of their OR once: each bit's weight vec4 is loaded once
// and select-added to each pixel whose word has the bit (no multiplication; a pixel without it
// keeps its sum as it was). Per pixel the weights are added in convolve's order (tap, word, bit
// ascending) from the bias, so the result is bit-identical to `main`. The 8 sums are named values,
// not an array, to stay in registers (word_accumulators.wgsl says why).

fn blockWord(base: u32, pix: i32) -> u32 {
  if (pix < 0) { return 0u; }
  return X[base + u32(pix)];
}

fn blockConv(t: u32, v: u32, g: BlockPixels) -> array<vec4f, 8> {
  let inPlane = U.inH * U.inW;
  let bias = convBias(v);
  var a0 = bias; var a1 = bias; var a2 = bias; var a3 = bias;
  var a4 = bias; var a5 = bias; var a6 = bias; var a7 = bias;
  for (var tap = 0u; tap < U.k * U.k; tap++) {
    let ky = tap / U.k;
    let kx = tap % U.k;
    let pl = blockTapPixels(g.oyLo, g.oxLo, g.okLo, ky, kx);
    let ph = blockTapPixels(g.oyHi, g.oxHi, g.okHi, ky, kx);
    for (var cw = 0u; cw < U.cwin; cw++) {
      let base = t * U.xStepStride + cw * inPlane;
      let x0 = blockWord(base, pl.x); let x1 = blockWord(base, pl.y); let x2 = blockWord(base, pl.z); let x3 = blockWord(base, pl.w);
      let x4 = blockWord(base, ph.x); let x5 = blockWord(base, ph.y); let x6 = blockWord(base, ph.z); let x7 = blockWord(base, ph.w);
      var any = x0 | x1 | x2 | x3 | x4 | x5 | x6 | x7;
      let row = (tap * U.cin + cw * 32u) * U.ov + v;
      while (any != 0u) {
        let b = firstTrailingBit(any);
        let bit = 1u << b;
        let w = W[row + b * U.ov];
        a0 = select(a0, a0 + w, (x0 & bit) != 0u);
        a1 = select(a1, a1 + w, (x1 & bit) != 0u);
        a2 = select(a2, a2 + w, (x2 & bit) != 0u);
        a3 = select(a3, a3 + w, (x3 & bit) != 0u);
        a4 = select(a4, a4 + w, (x4 & bit) != 0u);
        a5 = select(a5, a5 + w, (x5 & bit) != 0u);
        a6 = select(a6, a6 + w, (x6 & bit) != 0u);
        a7 = select(a7, a7 + w, (x7 & bit) != 0u);
        any &= any - 1u;
      }
    }
  }
  return blockAffines(v, array<vec4f, 8>(a0, a1, a2, a3, a4, a5, a6, a7));
}
