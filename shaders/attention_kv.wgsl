// Spike-driven attention, first product: per head, KV = kᵀ·v, a d×d matrix of integer counts
// (d = C/heads). Spike mode (MODE 0): k and v are token-packed (bit n%32 of word [t][c][n/32]) and
// KV[i][j] = Σ_words popcount(k_i & v_j) — AND + popcount, 32 tokens per operation.
// Dense mode (MODE 1): k, v are 0/1 f32 [T][C][N] and KV[i][j] = Σ_n k·v (exact in f32).
//
// Threads: one per (j in 0..DP, i, head, step); DP = d rounded up to 4, columns j ≥ d are 0.
//
// Bindings:
//   0 uniform U
//   1 K   u32 token-packed (MODE 0) or f32 bits (MODE 1)
//   2 V   same layout as K
//   3 KV  f32 [T][heads][d][DP]

//@include thread

const MODE: u32 = {{MODE}}u;

struct Uniforms { channels: u32, tokens: u32, heads: u32, d: u32, dp: u32, total: u32 }

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> K: array<u32>;
@group(0) @binding(2) var<storage, read> V: array<u32>;
@group(0) @binding(3) var<storage, read_write> KV: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let j = idx % U.dp;
  var rest = idx / U.dp;
  let i = rest % U.d; rest = rest / U.d;
  let h = rest % U.heads;
  let t = rest / U.heads;
  var result = 0.0;
  if (j < U.d) {
    let ci = h * U.d + i;
    let cj = h * U.d + j;
    if (MODE == 0u) {
      let nw = (U.tokens + 31u) / 32u;
      let kb = (t * U.channels + ci) * nw;
      let vb = (t * U.channels + cj) * nw;
      var count = 0u;
      for (var w = 0u; w < nw; w++) { count += countOneBits(K[kb + w] & V[vb + w]); }
      result = f32(count);
    } else {
      let kb = (t * U.channels + ci) * U.tokens;
      let vb = (t * U.channels + cj) * U.tokens;
      var sum = 0.0;
      for (var n = 0u; n < U.tokens; n++) { sum = fma(bitcast<f32>(K[kb + n]), bitcast<f32>(V[vb + n]), sum); }
      result = sum;
    }
  }
  KV[idx] = result;
}
