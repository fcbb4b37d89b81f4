// Spike-driven attention, second product: out[c0+j][n] = (Σ_i q[c0+i][n] · KV[i][j]) · scale per
// head (c0 = head·d). Spike mode (MODE 0): q is channel-packed (bit c%32 of word [t][c/32][n]); a
// thread visits the set bits of q within its head's channels (a head may straddle words) and adds
// one vec4 row of KV per spike — accumulation only. Dense mode (MODE 1): q is 0/1 f32
// [T][C][N], a full dot product. Counts are exact integers in f32; the scale is a power of two.
//
// Threads: one per (vec4 of output columns j, token n, head, step), vec4 index fastest.
//
// Bindings:
//   0 uniform U
//   1 Q   u32 channel-packed (MODE 0) or f32 bits (MODE 1)
//   2 KV  vec4 [T][heads][d][DP/4]
//   3 O   f32 [T][C][N]

//@include thread

const MODE: u32 = {{MODE}}u;

struct Uniforms { channels: u32, tokens: u32, heads: u32, d: u32, dv: u32, total: u32, scale: f32 }

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> Q: array<u32>;
@group(0) @binding(2) var<storage, read> KV: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let jv = idx % U.dv;
  var rest = idx / U.dv;
  let n = rest % U.tokens; rest = rest / U.tokens;
  let h = rest % U.heads;
  let t = rest / U.heads;
  let N = U.tokens;
  let c0 = h * U.d;
  let kvBase = (t * U.heads + h) * U.d * U.dv + jv;
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
        acc += KV[kvBase + (wi * 32u + b - c0) * U.dv];
        word &= word - 1u;
      }
    }
  } else {
    let qb = (t * U.channels + c0) * N + n;
    for (var i = 0u; i < U.d; i++) {
      acc = fma(vec4f(bitcast<f32>(Q[qb + i * N])), KV[kvBase + i * U.dv], acc);
    }
  }
  acc = acc * U.scale;
  for (var q = 0u; q < 4u; q++) {
    let j = jv * 4u + q;
    if (j < U.d) { O[(t * U.channels + c0 + j) * N + n] = acc[q]; }
  }
}
