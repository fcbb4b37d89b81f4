// Included by spike_conv.wgsl and dense_conv.wgsl (a line `//@include conv_lif`): the LIF neuron
// (lif.wgsl) run in the conv's epilogue, entry points `lif` and `residual_lif`, so the float map
// between the conv and its neuron never goes out (unless another op still reads it) and the
// neuron's own dispatch disappears.
//
// A thread owns the neurons of whole spike words, for all T steps: per step and per output vec4
// (4 channels of one pixel, a "unit") it computes the conv (bias, taps, BatchNorm affines,
// + residual for `residual_lif`; once for a step-invariant conv, convSteps = 1, then kept; the 8
// units of a channel word, all at one pixel, in one pass over the input: wordConv), stores
// the float map when storeConv = 1 (another op reads it), then runs the LIF on it with the
// membranes v in registers, from v = 0:
//   h = v + (x − v)·0.5;  s = h ≥ threshold;  v = s ? 0 : h
// exactly lif.wgsl's f32 operations (a BatchNorm that only the neuron reads is applied by the
// conv's epilogue, the same rounding as lif.wgsl's, so no affines are left to the neuron here).
// No workgroup memory and no barriers (SwiftShader runs a shader with barriers several times
// slower); the per-step spike counts are one atomicAdd per thread and step.
//
// Threads and units by spike layout (spikeLayout, lif.wgsl's MODE; total = the thread count):
//   0: channel-packed bits S[t][c/32][n], bit c%32, and 2: dense 0/1 f32 S[t][c][n] (the
//      `webgpu-dense` baseline): one thread per (32-channel word, pixel n), word fastest; units:
//      the word's 8 vec4s at pixel n;
//   1: token-packed bits S[t][c][n/32], bit n%32 (attention k and v): one thread per (32-pixel
//      word, vec4), word fastest; units: the vec4 at the word's 32 pixels.
//
// The including kernel declares the bindings S (u32), counts (atomic u32) and M (f32, membrane
// h [T][Cout][N] before reset, written when writeMembrane = 1), the uniform fields cout, ov,
// outH, outW, total, timeSteps, convSteps, storeConv, spikeLayout, countBase, writeMembrane,
// threshold, and the functions unitConv(t, u) (the conv of vec4 u.x at pixel u.y, step t),
// wordConv(t, g0, n) (the convs of vec4s g0 .. g0 + 7 at pixel n, step t, each accumulated in the
// order unitConv accumulates it; entries for vec4s ≥ ov are not used), unitResidual(t, u, x)
// (x + the residual at unit u) and unitStore(t, u, x) (its store).

// At most 32 units per thread (token-packed).
const LIF_UNITS: u32 = 32u;

struct LifThread {
  // Unit e is the vec4 g0 + e·gStep at pixel n0 + e·nStep.
  g0: u32,
  gStep: u32,
  n0: u32,
  nStep: u32,
  units: u32,
}

fn lifThread(idx: u32) -> LifThread {
  let N = U.outH * U.outW;
  var q: LifThread;
  if (U.spikeLayout == 1u) {
    let nw = (N + 31u) / 32u;
    q.g0 = idx / nw; q.gStep = 0u; q.n0 = (idx % nw) * 32u; q.nStep = 1u; q.units = 32u;
  } else {
    let cw = (U.cout + 31u) / 32u;
    q.g0 = (idx % cw) * 8u; q.gStep = 1u; q.n0 = idx / cw; q.nStep = 0u; q.units = 8u;
  }
  if (idx >= U.total) { q.units = 0u; }
  return q;
}

// Unit e of thread q: (vec4, pixel, 1 if it exists).
fn lifUnit(q: LifThread, e: u32) -> vec3u {
  let g = q.g0 + e * q.gStep;
  let n = q.n0 + e * q.nStep;
  return vec3u(g, n, select(0u, 1u, g < U.ov && n < U.outH * U.outW));
}

// Step t of the neurons of unit e (vec4 u.x, pixel u.y) on the conv value x; v holds their
// membranes. Returns `word` with the unit's spikes added (token-packed: word[j] for channel j of
// the vec4; else word.x as a channel-packed word, written for layout 0, counted for both).
fn lifFire(t: u32, e: u32, u: vec3u, x: vec4f, v: ptr<function, vec4f>, word: vec4u) -> vec4u {
  let C = U.cout;
  let N = U.outH * U.outW;
  let h = *v + (x - *v) * 0.5;
  let fire = h >= vec4f(U.threshold);
  *v = select(h, vec4f(0.0), fire);
  var bits = 0u;
  for (var j = 0u; j < 4u; j++) {
    let c = u.x * 4u + j;
    if (c >= C) { break; }
    if (U.writeMembrane != 0u) { M[(t * C + c) * N + u.y] = h[j]; }
    if (U.spikeLayout == 2u) { S[(t * C + c) * N + u.y] = bitcast<u32>(select(0.0, 1.0, fire[j])); }
    bits |= select(0u, 1u << j, fire[j]);
  }
  var w = word;
  if (U.spikeLayout == 1u) {
    for (var j = 0u; j < 4u; j++) { w[j] |= ((bits >> j) & 1u) << e; }
  } else {
    w.x |= bits << (4u * e);
  }
  return w;
}

// After step t: the thread's packed words and its spike count.
fn lifFlush(q: LifThread, t: u32, word: vec4u) {
  if (q.units == 0u) { return; }
  let C = U.cout;
  let N = U.outH * U.outW;
  if (U.spikeLayout == 0u && q.n0 < N) {
    S[(t * ((C + 31u) / 32u) + q.g0 / 8u) * N + q.n0] = word.x;
  }
  if (U.spikeLayout == 1u) {
    for (var j = 0u; j < 4u; j++) {
      let c = q.g0 * 4u + j;
      if (c < C) { S[(t * C + c) * ((N + 31u) / 32u) + q.n0 / 32u] = word[j]; }
    }
  }
  let ones = countOneBits(word.x) + countOneBits(word.y) + countOneBits(word.z) + countOneBits(word.w);
  if (ones != 0u) { atomicAdd(&counts[U.countBase + t], ones); }
}

// The conv values of thread q's units at step t, into xs.
fn lifConvs(t: u32, q: LifThread, xs: ptr<function, array<vec4f, LIF_UNITS>>) {
  if (q.units == 0u) { return; }
  if (U.spikeLayout == 1u) {
    for (var e = 0u; e < q.units; e++) {
      let u = lifUnit(q, e);
      if (u.z != 0u) { (*xs)[e] = unitConv(t, u); }
    }
  } else {
    let word = wordConv(t, q.g0, q.n0);
    for (var e = 0u; e < 8u; e++) { (*xs)[e] = word[e]; }
  }
}

// xs + the residual (entry point residual_lif).
fn lifAddResidual(t: u32, q: LifThread, xs: ptr<function, array<vec4f, LIF_UNITS>>) {
  for (var e = 0u; e < q.units; e++) {
    let u = lifUnit(q, e);
    if (u.z != 0u) { (*xs)[e] = unitResidual(t, u, (*xs)[e]); }
  }
}

// Stores xs when another op reads the map.
fn lifStore(t: u32, q: LifThread, xs: ptr<function, array<vec4f, LIF_UNITS>>) {
  if (U.storeConv == 0u) { return; }
  for (var e = 0u; e < q.units; e++) {
    let u = lifUnit(q, e);
    if (u.z != 0u) { unitStore(t, u, (*xs)[e]); }
  }
}

// Step t of the thread's neurons on xs (membranes v), then its words and counts.
fn lifStep(t: u32, q: LifThread, xs: ptr<function, array<vec4f, LIF_UNITS>>, v: ptr<function, array<vec4f, LIF_UNITS>>) {
  var word = vec4u(0u);
  for (var e = 0u; e < q.units; e++) {
    let u = lifUnit(q, e);
    if (u.z == 0u) { continue; }
    word = lifFire(t, e, u, (*xs)[e], &(*v)[e], word);
  }
  lifFlush(q, t, word);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn lif(inv: Invocation) {
  let q = lifThread(threadIndex(inv));
  var v: array<vec4f, LIF_UNITS>;
  var xs: array<vec4f, LIF_UNITS>;
  for (var t = 0u; t < U.timeSteps; t++) {
    if (t < U.convSteps) {
      lifConvs(t, q, &xs);
      lifStore(t, q, &xs);
    }
    lifStep(t, q, &xs, &v);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn residual_lif(inv: Invocation) {
  let q = lifThread(threadIndex(inv));
  var v: array<vec4f, LIF_UNITS>;
  var xs: array<vec4f, LIF_UNITS>;
  for (var t = 0u; t < U.timeSteps; t++) {
    if (t < U.convSteps) {
      lifConvs(t, q, &xs);
      lifAddResidual(t, q, &xs);
      lifStore(t, q, &xs);
    }
    lifStep(t, q, &xs, &v);
  }
}
