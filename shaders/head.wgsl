// The classifier head, three entry points over small [T][...] vectors:
//  - spatial_mean: pooled[t][c] = (Σ_n X[t][c][n]) / N  (compensated f32 sum), thread per (c, t);
//  - linear: Y[t][o] = bias[o] + Σ_i W[i][o]·s[t][i] over the head neuron's spikes s; MODE 0 visits
//    the set bits of the channel-packed spikes (accumulate only), MODE 1 reads 0/1 f32 spikes;
//    thread per (output vec4, t);
//  - logits: out[o] = mean over heads of (mean over t of Y_head[t][o]), thread per o.
//
// Bindings (each entry point uses its own subset):
//   0 uniform U
//   1 X   spatial_mean: f32 [S][C][N]; linear: spikes (u32 words or f32 bits); logits: Y of head 0
//   2 W   linear: vec4 [in][OV] weights; logits: Y of head 1 (= head 0 without kd)
//   3 P   linear: vec4 [OV] bias
//   4 O   f32 output

const MODE: u32 = {{MODE}}u;

struct Uniforms { a: u32, b: u32, c: u32, total: u32, steps: u32, heads: u32, xStepStride: u32, _p0: u32 }

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read> P: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;

// U.a = channels, U.b = N
@compute @workgroup_size(64)
fn spatial_mean(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (idx >= U.total) { return; }
  let c = idx % U.a;
  let t = idx / U.a;
  let base = t * U.xStepStride + c * U.b;
  var sum = 0.0;
  var comp = 0.0;
  for (var n = 0u; n < U.b; n++) {
    let x = bitcast<f32>(X[base + n]);
    let s = sum + x;
    comp += select((x - s) + sum, (sum - s) + x, abs(sum) >= abs(x));
    sum = s;
  }
  O[idx] = (sum + comp) / f32(U.b);
}

// U.a = in features, U.b = OV, U.c = out features
@compute @workgroup_size(64)
fn linear(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
          @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (idx >= U.total) { return; }
  let ov = idx % U.b;
  let t = idx / U.b;
  var acc = P[ov];
  if (MODE == 0u) {
    let cw = (U.a + 31u) / 32u;
    for (var w = 0u; w < cw; w++) {
      var word = X[t * cw + w];
      while (word != 0u) {
        let bit = firstTrailingBit(word);
        acc += W[(w * 32u + bit) * U.b + ov];
        word &= word - 1u;
      }
    }
  } else {
    for (var i = 0u; i < U.a; i++) {
      acc = fma(vec4f(bitcast<f32>(X[t * U.a + i])), W[i * U.b + ov], acc);
    }
  }
  for (var j = 0u; j < 4u; j++) {
    let o = ov * 4u + j;
    if (o < U.c) { O[t * U.c + o] = acc[j]; }
  }
}

// U.c = out features (classes)
@compute @workgroup_size(64)
fn logits(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
          @builtin(local_invocation_index) lid: u32) {
  let o = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (o >= U.total) { return; }
  var s0 = 0.0;
  var s1 = 0.0;
  for (var t = 0u; t < U.steps; t++) {
    s0 += bitcast<f32>(X[t * U.c + o]);
    s1 += W[(t * U.c + o) / 4u][(t * U.c + o) % 4u];
  }
  var r = s0 / f32(U.steps);
  if (U.heads > 1u) { r = (r + s1 / f32(U.steps)) / 2.0; }
  O[o] = r;
}
