// Included by dense_conv.wgsl and spike_conv.wgsl (a line `//@include conv_tile`): a conv tiled in
// workgroup memory, for hardware adapters (barriers are costly on a CPU), entry points `tile`,
// `tile_residual`, `tile_lif` and `tile_residual_lif` (the conv; + the residual; with the LIF
// neuron in the epilogue; both).
//
// A workgroup of 64 threads owns a tile of 32 output channels (8 vec4s) × 32 pixels (flattened
// row · outW + column). The including kernel computes the tile's conv: tileConv(tile, lid) returns
// thread lid's output vec4 tileVec(tile, lid) at its 4 consecutive pixels from tilePixel(tile, lid)
// (a0..a3, after the affines), staging its inputs in workgroup memory with barriers in uniform
// control flow, each output accumulated in the order its register-tiled kernel (`main`)
// accumulates it, so every entry here is bit-identical to its register-tiled twin.
//
// With the neuron a workgroup owns its tile for all T steps: per step it computes the tile's conv
// (t < convSteps; then kept), adds the residual, stores the map when storeConv = 1, and each
// thread runs conv_lif.wgsl's lifFire (lif.wgsl's f32 operations) on its vec4 at its 4 pixels
// with the membranes in registers. Spikes: dense 0/1 f32 (spikeLayout 2) written by lifFire;
// channel-packed (0) through workgroup memory, the tile's 8 vec4s being one 32-channel word
// (tiles start at a multiple of 8 vec4s: groupCout a multiple of 32, or no groups): each thread
// ORs its 4 bits into the word of each of its pixels, then 32 threads write the words and count
// them. Not for token-packed spikes.
//
// Threads: 64 per workgroup; one workgroup per (channel tile, pixel tile, step) without the
// neuron, per (channel tile, pixel tile) with it; channel tile fastest (tiles = the channel tiles,
// groupTiles of them per group; pixelTiles the pixel tiles; total = 64 · workgroups). A tile lies
// in one group: a group of 360 channels has 12 tiles, the last of 8 channels.
//
// The including kernel declares the bindings O, R, S, counts, M and P (conv_epilogue.wgsl,
// conv_lif.wgsl), the uniform fields tiles, groupTiles, pixelTiles, groupCout, cin (a group's input
// channels), ov, cout, outH, outW, timeSteps, convSteps, storeConv, spikeLayout, countBase, and
// the function tileConv. The entry points take the builtins apart, not an Invocation (whose local
// index is not uniform), so the barriers may follow a return that depends on the workgroup alone.
// `tile_lif` and `tile_residual_lif` repeat their step loop: one shared function adding the
// residual would make `tile_lif` use the binding R too (an entry point uses every binding its
// functions name).

const_assert WORKGROUP_SIZE == 64u;

// tile_lif, channel-packed spikes: the tile's spike word at each of its 32 pixels.
var<workgroup> tileWords: array<atomic<u32>, 32>;

struct ConvTile {
  t: u32,
  // First pixel (flattened row · outW + column) and first output vec4 of the tile.
  n0: u32,
  v0: u32,
  // One past the last output vec4 of the tile's group (tiles do not straddle groups).
  vEnd: u32,
  // The group's first input channel.
  c0: u32,
}

// The workgroup's index in dispatch order, from the builtins workgroup_id and num_workgroups
// alone: uniform in the workgroup.
fn tileWorkgroup(workgroup: vec3u, workgroups: vec3u) -> u32 {
  return workgroup.y * workgroups.x + workgroup.x;
}

fn convTile(wg: u32) -> ConvTile {
  let ct = wg % U.tiles;
  let rest = wg / U.tiles;
  let group = ct / U.groupTiles;
  let groupVecs = (U.groupCout + 3u) / 4u;
  let v0 = group * groupVecs + (ct % U.groupTiles) * 8u;
  return ConvTile(rest / U.pixelTiles, (rest % U.pixelTiles) * 32u, v0, min((group + 1u) * groupVecs, U.ov), group * U.cin);
}

// The thread's output vec4 and its first pixel in the tile (it holds that vec4 at 4 pixels).
fn tileVec(tile: ConvTile, lid: u32) -> u32 {
  return tile.v0 + lid % 8u;
}

fn tilePixel(tile: ConvTile, lid: u32) -> u32 {
  return tile.n0 + (lid / 8u) * 4u;
}

// The vec4 whose weights and affines the thread uses: tileVec, clamped into the tile's group (a
// thread past the group's last vec4 computes a valid vec4 and stores nothing).
fn tileWeightVec(tile: ConvTile, lid: u32) -> u32 {
  return min(tileVec(tile, lid), tile.vEnd - 1u);
}

// The thread's 4 accumulators, each starting at its vec4's bias.
fn tileBias(tile: ConvTile, lid: u32) -> array<vec4f, 4> {
  let b = convBias(tileWeightVec(tile, lid));
  return array<vec4f, 4>(b, b, b, b);
}

// The thread's 4 sums after the affines (BatchNorm, scale) of its vec4.
fn tileAffines(tile: ConvTile, lid: u32, a: array<vec4f, 4>) -> array<vec4f, 4> {
  let v = tileWeightVec(tile, lid);
  return array<vec4f, 4>(convAffines(a[0], v, U.ov), convAffines(a[1], v, U.ov), convAffines(a[2], v, U.ov), convAffines(a[3], v, U.ov));
}

// x + the residual at the thread's pixels in the map (conv_epilogue.wgsl's add).
fn tileAddResidual(tile: ConvTile, lid: u32, x: array<vec4f, 4>) -> array<vec4f, 4> {
  var r = x;
  let n0 = tilePixel(tile, lid);
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n >= U.outH * U.outW) { break; }
    r[j] = convAddResidual(convResidualIndex(tile.t, n / U.outW, n % U.outW), tileVec(tile, lid) * 4u, U.cout, x[j]);
  }
  return r;
}

// Stores x at the thread's pixels in the map, if its vec4 is in the tile's group.
fn tileStore(tile: ConvTile, lid: u32, x: array<vec4f, 4>) {
  let v = tileVec(tile, lid);
  if (v >= tile.vEnd) { return; }
  let n0 = tilePixel(tile, lid);
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n >= U.outH * U.outW) { break; }
    convStore(convOutputIndex(tile.t, n / U.outW, n % U.outW), v * 4u, U.cout, x[j]);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tile(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wg = tileWorkgroup(workgroup, workgroups);
  if (wg * WORKGROUP_SIZE >= U.total) { return; }
  let tile = convTile(wg);
  tileStore(tile, lid, tileConv(tile, lid));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tile_residual(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wg = tileWorkgroup(workgroup, workgroups);
  if (wg * WORKGROUP_SIZE >= U.total) { return; }
  let tile = convTile(wg);
  tileStore(tile, lid, tileAddResidual(tile, lid, tileConv(tile, lid)));
}

// Step t of the neurons of the thread's vec4 at its 4 pixels on the conv values x (membranes v):
// membranes M (writeMembrane = 1), spikes S and the step's count.
fn tileFire(tile: ConvTile, lid: u32, t: u32, x: array<vec4f, 4>, v: ptr<function, array<vec4f, 4>>) {
  let vec = tileVec(tile, lid);
  let n0 = tilePixel(tile, lid);
  let N = U.outH * U.outW;
  if (lid < 32u) { atomicStore(&tileWords[lid], 0u); }
  workgroupBarrier();
  var ones = 0u;
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (vec >= tile.vEnd || n >= N) { continue; }
    // The unit's 4 spike bits (channels vec·4 + i), from lifFire's word as unit 0.
    let bits = lifFire(t, 0u, vec3u(vec, n, 1u), x[j], &(*v)[j], vec4u(0u)).x;
    if (U.spikeLayout == 2u) {
      ones += countOneBits(bits);
    } else if (bits != 0u) {
      atomicOr(&tileWords[(lid / 8u) * 4u + j], bits << (4u * (lid % 8u)));
    }
  }
  if (ones != 0u) { atomicAdd(&counts[U.countBase + t], ones); }
  workgroupBarrier();
  if (U.spikeLayout == 0u && lid < 32u && tile.n0 + lid < N) {
    let word = atomicLoad(&tileWords[lid]);
    S[(t * ((U.cout + 31u) / 32u) + tile.v0 / 8u) * N + tile.n0 + lid] = word;
    if (word != 0u) { atomicAdd(&counts[U.countBase + t], countOneBits(word)); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tile_lif(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wg = tileWorkgroup(workgroup, workgroups);
  if (wg * WORKGROUP_SIZE >= U.total) { return; }
  var tile = convTile(wg);
  var x: array<vec4f, 4>;
  var v: array<vec4f, 4>;
  for (var t = 0u; t < U.timeSteps; t++) {
    if (t < U.convSteps) {
      tile.t = t;
      x = tileConv(tile, lid);
      if (U.storeConv != 0u) { tileStore(tile, lid, x); }
    }
    tileFire(tile, lid, t, x, &v);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tile_residual_lif(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wg = tileWorkgroup(workgroup, workgroups);
  if (wg * WORKGROUP_SIZE >= U.total) { return; }
  var tile = convTile(wg);
  var x: array<vec4f, 4>;
  var v: array<vec4f, 4>;
  for (var t = 0u; t < U.timeSteps; t++) {
    if (t < U.convSteps) {
      tile.t = t;
      x = tileAddResidual(tile, lid, tileConv(tile, lid));
      if (U.storeConv != 0u) { tileStore(tile, lid, x); }
    }
    tileFire(tile, lid, t, x, &v);
  }
}
