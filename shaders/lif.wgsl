// Multi-step LIF neuron (tau 2, hard reset to 0, decayed input) over all T steps, fused with the
// BatchNorm affines that precede it (x ← x·scale + shift rounded once, see affine.wgsl, in order), with spike
// packing and per-step spike counts.
//
// Per element, from v = 0:  h = v + (x[t] − v)·0.5;  s = h ≥ threshold;  v = s ? 0 : h
// (f32, the same rounding steps as the CPU reference).
//
// Specialized by the host: T (time steps), MODE (0: channel-packed bits out[t][c/32][n], bit c%32;
// 1: token-packed bits out[t][c][n/32], bit n%32; 2: dense 0/1 f32 out[t][c][n]).
// Threads: MODE 0/2: one per (n, 32-channel word), n fastest; MODE 1: one per (32-token word, c),
// word fastest. Each thread loops over the T steps and its 32 channels (or tokens); counts are
// reduced per workgroup, then added with one atomicAdd per step (T ≤ WORKGROUP_SIZE).
//
// Bindings:
//   0 uniform U
//   1 X        f32  [S][C][N] input from element xOffset (S = T, or 1 with xStepStride = 0 for a
//                   step-invariant input; xStepStride > C·N when the neuron reads some channels of a map)
//   2 P        f32  [nAffine][2][C]: per affine, scale[C] then shift[C]
//   3 O        u32  packed words (MODE 0/1) or f32 bits (MODE 2)
//   4 counts   atomic u32, counts[countBase + t] += spikes of step t
//   5 M        f32  [T][C][N] membrane h before reset (written only when writeMembrane = 1)

//@include thread
//@include affine

const T: u32 = {{T}}u;
const MODE: u32 = {{MODE}}u;

struct Uniforms {
  channels: u32,
  tokens: u32,
  xStepStride: u32,
  xOffset: u32,
  nAffine: u32,
  countBase: u32,
  writeMembrane: u32,
  total: u32,
  threshold: f32,
}

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> P: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<u32>;
@group(0) @binding(4) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> M: array<f32>;

var<workgroup> stepCounts: array<atomic<u32>, T>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  // Zeroed explicitly: WGSL zero-initializes workgroup memory, but some implementations let that
  // be switched off for speed (Dawn's `disable_workgroup_init`, which the Node CLI sets on
  // software adapters for ONNX Runtime). T <= 64 = WORKGROUP_SIZE (checkConfig).
  let lid = inv.local;
  if (lid < T) { atomicStore(&stepCounts[lid], 0u); }
  workgroupBarrier();
  let idx = threadIndex(inv);
  let C = U.channels;
  let N = U.tokens;
  let inRange = idx < U.total;
  // Element b of this thread is (c0 + b·cStep, n0 + b·nStep).
  var c0: u32; var n0: u32; var cStep: u32; var nStep: u32; var outIndex: u32; var outStepStride: u32;
  if (MODE == 1u) {
    let NW = (N + 31u) / 32u;
    let nw = idx % NW;
    c0 = idx / NW; n0 = nw * 32u; cStep = 0u; nStep = 1u;
    outIndex = c0 * NW + nw; outStepStride = C * NW;
  } else {
    let CW = (C + 31u) / 32u;
    n0 = idx % N; c0 = (idx / N) * 32u; cStep = 1u; nStep = 0u;
    outIndex = (idx / N) * N + n0; outStepStride = CW * N;
  }
  var v: array<f32, 32>;
  for (var t = 0u; t < T; t++) {
    var word = 0u;
    if (inRange) {
      for (var b = 0u; b < 32u; b++) {
        let c = c0 + b * cStep;
        let n = n0 + b * nStep;
        if (c < C && n < N) {
          var x = X[U.xOffset + t * U.xStepStride + c * N + n];
          for (var a = 0u; a < U.nAffine; a++) {
            x = affine(x, P[2u * a * C + c], P[(2u * a + 1u) * C + c]);
          }
          let h = v[b] + (x - v[b]) * 0.5;
          let s = h >= U.threshold;
          v[b] = select(h, 0.0, s);
          word |= select(0u, 1u << b, s);
          if (U.writeMembrane != 0u) { M[(t * C + c) * N + n] = h; }
          if (MODE == 2u) { O[(t * C + c) * N + n] = bitcast<u32>(select(0.0, 1.0, s)); }
        }
      }
      if (MODE != 2u) { O[t * outStepStride + outIndex] = word; }
    }
    let ones = countOneBits(word);
    if (ones != 0u) { atomicAdd(&stepCounts[t], ones); }
  }
  workgroupBarrier();
  if (lid < T) {
    let n = atomicLoad(&stepCounts[lid]);
    if (n != 0u) { atomicAdd(&counts[U.countBase + lid], n); }
  }
}
