// Spike-driven attention (no softmax), per step and head (d = C/heads channels from c0 = head·d):
//   KV = kᵀ·v, a d×d matrix of integer counts;  out[c0+j][n] = (Σ_i q[c0+i][n] · KV[i][j]) · scale.
// One dispatch: a workgroup computes the KV columns it needs into workgroup memory, then the
// outputs of those columns for every token, so KV never goes out.
//
// Spike mode (MODE 0): k and v are token-packed (bit n%32 of word [t][c][n/32]) and
// KV[i][j] = Σ_words popcount(k_i & v_j) — AND + popcount, 32 tokens per operation; q is
// channel-packed (bit c%32 of word [t][c/32][n]): a thread visits the set bits of q within its
// head's channels (a head may straddle words) and adds one vec4 row of KV per spike —
// accumulation only. Dense mode (MODE 1): k, v, q are 0/1 f32 [T][C][N]; KV[i][j] = Σ_n k·v and
// the output a full dot product (fma, in order). Counts are exact integers in f32; the scale is a
// power of two.
//
// Threads: one workgroup per (block of DVB output vec4s, head, step), block fastest; in it, lane
// l takes output vec4 l % DVB of the block and the tokens n ≡ l / DVB (mod WORKGROUP_SIZE / DVB).
// Phase 1 (then a barrier): the workgroup's KV columns, one vec4 of 4 columns per entry, columns
// j ≥ d zero. DVB (a power of two ≤ 8, dividing WORKGROUP_SIZE) and KVW = d·DVB are set by the host.
//
// Bindings:
//   0 uniform U
//   1 Q   u32 channel-packed (MODE 0) or f32 bits (MODE 1)
//   2 K   u32 token-packed (MODE 0) or f32 bits (MODE 1)
//   3 V   same layout as K
//   4 O   f32 [T][C][N]

//@include thread

const MODE: u32 = {{MODE}}u;
const DVB: u32 = {{DVB}}u;
const KVW: u32 = {{KVW}}u;

struct Uniforms { channels: u32, tokens: u32, heads: u32, d: u32, dv: u32, blocks: u32, total: u32, scale: f32 }

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> Q: array<u32>;
@group(0) @binding(2) var<storage, read> K: array<u32>;
@group(0) @binding(3) var<storage, read> V: array<u32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;

// KV columns jv0·4 .. jv0·4 + 4·DVB − 1 of this workgroup's head: kv[i·DVB + jv − jv0].
var<workgroup> kv: array<vec4f, KVW>;

// KV[i][j] of head h, step t (0 for j ≥ d).
fn kvEntry(t: u32, h: u32, i: u32, j: u32) -> f32 {
  if (j >= U.d) { return 0.0; }
  let ci = h * U.d + i;
  let cj = h * U.d + j;
  if (MODE == 0u) {
    let nw = (U.tokens + 31u) / 32u;
    let kb = (t * U.channels + ci) * nw;
    let vb = (t * U.channels + cj) * nw;
    var count = 0u;
    for (var w = 0u; w < nw; w++) { count += countOneBits(K[kb + w] & V[vb + w]); }
    return f32(count);
  }
  let kb = (t * U.channels + ci) * U.tokens;
  let vb = (t * U.channels + cj) * U.tokens;
  var sum = 0.0;
  for (var n = 0u; n < U.tokens; n++) { sum = fma(bitcast<f32>(K[kb + n]), bitcast<f32>(V[vb + n]), sum); }
  return sum;
}

// Σ_i q[c0+i][n] · kv row i (vec4 jl of the block), head h, step t.
fn attend(t: u32, h: u32, n: u32, jl: u32) -> vec4f {
  let N = U.tokens;
  let c0 = h * U.d;
  var acc = vec4f(0.0);
  if (MODE == 0u) {
    let cw = (U.channels + 31u) / 32u;
    let first = c0 / 32u;
    let last = (c0 + U.d - 1u) / 32u;
    for (var wi = first; wi <= last; wi++) {
      var word = Q[(t * cw + wi) * N + n];
      let lo = select(0u, c0 - wi * 32u, c0 > wi * 32u);
      let hi = min(32u, c0 + U.d - wi * 32u);
      word &= select((1u << hi) - 1u, 0xffffffffu, hi == 32u);
      word &= ~((1u << lo) - 1u);
      while (word != 0u) {
        let b = firstTrailingBit(word);
        acc += kv[(wi * 32u + b - c0) * DVB + jl];
        word &= word - 1u;
      }
    }
  } else {
    let qb = (t * U.channels + c0) * N + n;
    for (var i = 0u; i < U.d; i++) {
      acc = fma(vec4f(bitcast<f32>(Q[qb + i * N])), kv[i * DVB + jl], acc);
    }
  }
  return acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let wg = threadIndex(inv) / WORKGROUP_SIZE;
  let l = inv.local;
  let block = wg % U.blocks;
  let h = (wg / U.blocks) % U.heads;
  let t = wg / (U.blocks * U.heads);
  let inRange = threadIndex(inv) < U.total;
  let jv0 = block * DVB;
  // Phase 1: this block's KV columns.
  if (inRange) {
    for (var e = l; e < U.d * DVB; e += WORKGROUP_SIZE) {
      let i = e / DVB;
      let j = (jv0 + e % DVB) * 4u;
      kv[e] = vec4f(kvEntry(t, h, i, j), kvEntry(t, h, i, j + 1u), kvEntry(t, h, i, j + 2u), kvEntry(t, h, i, j + 3u));
    }
  }
  workgroupBarrier();
  // Phase 2: the block's outputs for every token.
  let jl = l % DVB;
  let jv = jv0 + jl;
  if (!inRange || jv >= U.dv) { return; }
  let c0 = h * U.d;
  for (var n = l / DVB; n < U.tokens; n += WORKGROUP_SIZE / DVB) {
    let acc = attend(t, h, n, jl) * U.scale;
    for (var q = 0u; q < 4u; q++) {
      let j = jv * 4u + q;
      if (j < U.d) { O[(t * U.channels + c0 + j) * U.tokens + n] = acc[q]; }
    }
  }
}
