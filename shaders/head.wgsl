// The classifier head, three entry points over small [T][...] vectors:
//  - spatial_mean: pooled[t][c] = (Σ_n X[t][c][n]) / N  (compensated f32 sum);
//    threads: one per (c, t), c fastest;
//  - linear: Y[t][o] = bias[o] + Σ_i W[i][o]·s[t][i] over the head neuron's spikes s; MODE 0 visits
//    the set bits of the channel-packed spikes (accumulate only), MODE 1 reads 0/1 f32 spikes;
//    threads: one per (output vec4, t), vec4 fastest;
//  - logits: out[o] = mean over heads of (mean over t of Y_head[t][o]); threads: one per o;
//  - classifier: the linear head(s) and their logits in one: per output vec4, Y_head[t] as `linear`
//    computes it, step by step, summed as `logits` sums it (the same f32 operations, so the same
//    bits) and no Y goes out; with two heads (kd) W and P hold head 0 then head 1;
//    threads: one per output vec4.
// Each entry point reads only its own uniform fields (the others are packed as 0).
//
// Bindings (each entry point uses its own subset):
//   0 uniform U
//   1 X   spatial_mean: f32 [S][C][N]; linear: spikes (u32 words or f32 bits); logits: Y of head 0
//   2 W   linear: vec4 [in][OV] weights (classifier: [heads][in][OV]); logits: Y of head 1 (= head 0 without kd)
//   3 P   linear: vec4 [OV] bias (classifier: [heads][OV])
//   4 O   f32 output

//@include thread

const MODE: u32 = {{MODE}}u;

struct Uniforms {
  total: u32,
  // spatial_mean: C channels of N positions, input step stride (0: one step for all)
  channels: u32, positions: u32, xStepStride: u32,
  // linear: in features, output vec4s OV = ceil(out / 4), out features (logits: features per step)
  inFeatures: u32, outVecs: u32, outFeatures: u32,
  // logits: time steps, heads (1, or 2 with head_kd)
  steps: u32, heads: u32,
}

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read> P: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn spatial_mean(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let c = idx % U.channels;
  let t = idx / U.channels;
  let base = t * U.xStepStride + c * U.positions;
  var sum = 0.0;
  var comp = 0.0;
  for (var n = 0u; n < U.positions; n++) {
    let x = bitcast<f32>(X[base + n]);
    let s = sum + x;
    comp += select((x - s) + sum, (sum - s) + x, abs(sum) >= abs(x));
    sum = s;
  }
  O[idx] = (sum + comp) / f32(U.positions);
}

// Output vec4 ov of linear head `head` at step t.
fn linearStep(t: u32, ov: u32, head: u32) -> vec4f {
  let wBase = head * U.inFeatures * U.outVecs;
  var acc = P[head * U.outVecs + ov];
  if (MODE == 0u) {
    let cw = (U.inFeatures + 31u) / 32u;
    for (var w = 0u; w < cw; w++) {
      var word = X[t * cw + w];
      while (word != 0u) {
        let bit = firstTrailingBit(word);
        acc += W[wBase + (w * 32u + bit) * U.outVecs + ov];
        word &= word - 1u;
      }
    }
  } else {
    for (var i = 0u; i < U.inFeatures; i++) {
      acc = fma(vec4f(bitcast<f32>(X[t * U.inFeatures + i])), W[wBase + i * U.outVecs + ov], acc);
    }
  }
  return acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn linear(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let ov = idx % U.outVecs;
  let t = idx / U.outVecs;
  let acc = linearStep(t, ov, 0u);
  for (var j = 0u; j < 4u; j++) {
    let o = ov * 4u + j;
    if (o < U.outFeatures) { O[t * U.outFeatures + o] = acc[j]; }
  }
}

// The logits from the sums over T of head 0 (s0) and head 1 (s1): the mean over T, then over the
// heads when there are two (one rule for `logits` and `classifier`, lane by lane).
fn meanOverStepsAndHeads(s0: vec4f, s1: vec4f) -> vec4f {
  var r = s0 / f32(U.steps);
  if (U.heads > 1u) { r = (r + s1 / f32(U.steps)) / 2.0; }
  return r;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn logits(inv: Invocation) {
  let o = threadIndex(inv);
  if (o >= U.total) { return; }
  var s0 = 0.0;
  var s1 = 0.0;
  for (var t = 0u; t < U.steps; t++) {
    s0 += bitcast<f32>(X[t * U.outFeatures + o]);
    s1 += W[(t * U.outFeatures + o) / 4u][(t * U.outFeatures + o) % 4u];
  }
  O[o] = meanOverStepsAndHeads(vec4f(s0), vec4f(s1)).x;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn classifier(inv: Invocation) {
  let ov = threadIndex(inv);
  if (ov >= U.total) { return; }
  var s0 = vec4f(0.0);
  var s1 = vec4f(0.0);
  for (var t = 0u; t < U.steps; t++) {
    s0 += linearStep(t, ov, 0u);
    if (U.heads > 1u) { s1 += linearStep(t, ov, 1u); }
  }
  let r = meanOverStepsAndHeads(s0, s1);
  for (var j = 0u; j < 4u; j++) {
    let o = ov * 4u + j;
    if (o < U.outFeatures) { O[o] = r[j]; }
  }
}
