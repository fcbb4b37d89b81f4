// Multi-step LIF neuron (tau 2, hard reset to 0, decayed input) over all T steps, fused with the
// BatchNorm affines that precede it (x ← x·scale + shift rounded once, see affine.wgsl, in order), with spike
// packing and per-step spike counts. One dispatch runs up to 3 neuron layers of the same shape
// (C channels × N positions, same threshold and number of affines) that read channel ranges of
// one map: the q, k and v neurons of attention after their merged RepConvs (siblingMerge.ts);
// each layer keeps its own spike layout, counts row, affines and membrane range.
//
// Per element, from v = 0:  h = v + (x[t] − v)·0.5;  s = h ≥ threshold;  v = s ? 0 : h
// (f32, the same rounding steps as the CPU reference).
//
// Specialized by the host: T (time steps). Per layer k (uniform vec4 lanes, k < layers):
//   spikeLayout[k] 0: channel-packed bits out[t][c/32][n], bit c%32; 1: token-packed bits
//                out[t][c][n/32], bit n%32; 2: dense 0/1 f32 out[t][c][n];
//   xOffset[k]   its input's first element in X;
//   countBase[k] counts row; membrane[k] first element of its membrane in M, or NO_MEMBRANE;
//   firstThread[k] its first thread (a multiple of WORKGROUP_SIZE, so a workgroup serves one layer).
// Threads of a layer: layouts 0/2: one per (n, 32-channel word), n fastest; layout 1: one per
// (32-token word, c), word fastest. Each thread loops over its 32 channels (or tokens) and, for
// each, the T steps; counts are reduced per workgroup, then added with one atomicAdd per step (T ≤ WORKGROUP_SIZE).
//
// Bindings:
//   0 uniform U
//   1 X        f32  [S][C][N] input of layer k from element xOffset[k] (S = T, or 1 with
//                   xStepStride = 0 for a step-invariant input; xStepStride > C·N when the neurons
//                   read channel ranges of a wider map)
//   2 P        f32  [layers][nAffine][2][C]: per layer, per affine, scale[C] then shift[C]
//   3 O        u32  spikes of layer 0: packed words (layouts 0/1) or f32 bits (layout 2)
//   4 O1       u32  spikes of layer 1 (a 16-byte stand-in when layers < 2)
//   5 O2       u32  spikes of layer 2 (a 16-byte stand-in when layers < 3)
//   6 counts   atomic u32, counts[countBase[k] + t] += spikes of layer k at step t
//   7 M        f32  membranes h before reset: layer k's [T][C][N] from element membrane[k]

//@include thread
//@include affine

const T: u32 = {{T}}u;
const NO_MEMBRANE: u32 = 0xffffffffu;

struct Uniforms {
  channels: u32,
  tokens: u32,
  xStepStride: u32,
  nAffine: u32,
  layers: u32,
  total: u32,
  threshold: f32,
  spikeLayout: vec4u,
  xOffset: vec4u,
  countBase: vec4u,
  membrane: vec4u,
  firstThread: vec4u,
}

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> P: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<u32>;
@group(0) @binding(4) var<storage, read_write> O1: array<u32>;
@group(0) @binding(5) var<storage, read_write> O2: array<u32>;
@group(0) @binding(6) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> M: array<f32>;

var<workgroup> stepCounts: array<atomic<u32>, T>;

// Word i of layer k's spikes.
fn store(k: u32, i: u32, word: u32) {
  if (k == 0u) { O[i] = word; } else if (k == 1u) { O1[i] = word; } else { O2[i] = word; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  // Zeroed explicitly: WGSL zero-initializes workgroup memory, but some implementations let that
  // be switched off for speed (Dawn's `disable_workgroup_init`, which the Node CLI sets on
  // software adapters for ONNX Runtime). T <= 64 = WORKGROUP_SIZE (checkConfig).
  let lid = inv.local;
  if (lid < T) { atomicStore(&stepCounts[lid], 0u); }
  workgroupBarrier();
  let global = threadIndex(inv);
  // The layer of this workgroup, and the thread's index within it.
  var k = 0u;
  for (var j = 1u; j < U.layers; j++) { if (global >= U.firstThread[j]) { k = j; } }
  let idx = global - U.firstThread[k];
  let C = U.channels;
  let N = U.tokens;
  let mode = U.spikeLayout[k];
  let inRange = global < U.total && idx < select((C + 31u) / 32u * N, C * ((N + 31u) / 32u), mode == 1u);
  let xOffset = U.xOffset[k];
  let pOffset = k * 2u * U.nAffine * C;
  let mOffset = U.membrane[k];
  // Element b of this thread is (c0 + b·cStep, n0 + b·nStep).
  var c0: u32; var n0: u32; var cStep: u32; var nStep: u32; var outIndex: u32; var outStepStride: u32;
  if (mode == 1u) {
    let NW = (N + 31u) / 32u;
    let nw = idx % NW;
    c0 = idx / NW; n0 = nw * 32u; cStep = 0u; nStep = 1u;
    outIndex = c0 * NW + nw; outStepStride = C * NW;
  } else {
    let CW = (C + 31u) / 32u;
    n0 = idx % N; c0 = (idx / N) * 32u; cStep = 1u; nStep = 0u;
    outIndex = (idx / N) * N + n0; outStepStride = CW * N;
  }
  // Element outer, steps inner: the element's membrane is one value, its affines are read once,
  // and the T words are built up in `words` (T a compile-time constant). The same operations per
  // element and step as steps outer (which kept 32 membranes in an array indexed by the element, in
  // memory per lane on SwiftShader, and read the affines T times).
  var words: array<u32, T>;
  // The first affine's scale and shift (the usual single BatchNorm) are read once for the T steps.
  let first = U.nAffine != 0u;
  if (inRange) {
    for (var b = 0u; b < 32u; b++) {
      let c = c0 + b * cStep;
      let n = n0 + b * nStep;
      if (c >= C || n >= N) { continue; }
      var v = 0.0;
      var scale0 = 1.0;
      var shift0 = 0.0;
      if (first) { scale0 = P[pOffset + c]; shift0 = P[pOffset + C + c]; }
      for (var t = 0u; t < T; t++) {
        var x = X[xOffset + t * U.xStepStride + c * N + n];
        if (first) { x = affine(x, scale0, shift0); }
        for (var a = 1u; a < U.nAffine; a++) {
          x = affine(x, P[pOffset + 2u * a * C + c], P[pOffset + (2u * a + 1u) * C + c]);
        }
        let h = v + (x - v) * 0.5;
        let s = h >= U.threshold;
        v = select(h, 0.0, s);
        words[t] |= select(0u, 1u << b, s);
        if (mOffset != NO_MEMBRANE) { M[mOffset + (t * C + c) * N + n] = h; }
        if (mode == 2u) { store(k, (t * C + c) * N + n, bitcast<u32>(select(0.0, 1.0, s))); }
      }
    }
    if (mode != 2u) {
      for (var t = 0u; t < T; t++) { store(k, t * outStepStride + outIndex, words[t]); }
    }
  }
  for (var t = 0u; t < T; t++) {
    let ones = countOneBits(words[t]);
    if (ones != 0u) { atomicAdd(&stepCounts[t], ones); }
  }
  workgroupBarrier();
  if (lid < T) {
    let n = atomicLoad(&stepCounts[lid]);
    if (n != 0u) { atomicAdd(&counts[U.countBase[k] + lid], n); }
  }
}
