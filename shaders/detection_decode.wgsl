// Detection decoding on the GPU (HEADS.md, `decode_detections`), so that only the final boxes are
// read back. Three entry points, dispatched in this order in one submission (the candidate
// counter is cleared before `peaks`):
//
//  - peaks: one thread per heatmap cell (c, y, x). A candidate has logit v ≥ the threshold and
//    v ≥ every in-bounds 3×3 neighbour of its class map (plateaus keep all their cells). Its cell
//    index c·h·w + y·w + x is appended to CAND (atomic counter; capacity K·h·w, so no overflow).
//  - rank: one thread per candidate. Rank = number of candidates before it in the order "logit
//    descending, then class, y, x ascending" (= cell index ascending); a total order, so ranks are
//    unique. A candidate with rank < topK writes its cell index to TOP[rank]. The count stops at
//    topK (those beyond it need no exact rank).
//  - nms: one thread. Boxes of TOP[0 .. min(n, topK)) in order: cx = (x + 0.5)·S, cy = (y + 0.5)·S,
//    x0 = max(0, cx − max(0, l)·S), y0 = max(0, cy − max(0, t)·S), x1 = min(W, cx + max(0, r)·S),
//    y1 = min(H, cy + max(0, b)·S); greedy class-agnostic NMS (drop a box whose IoU with a kept one
//    is > nmsIou), at most maxKept. Writes OUT[0] = kept count, then per kept box 8 words:
//    cell index, logit bits, l, t, r, b bits (raw `det_boxreg` values), 0, 0. The CPU turns these
//    into boxes with the exact float64 formulas; this kernel's f32 boxes only drive the NMS.
//
// The threshold uniform is the reference's float64 threshold rounded up to f32, so `v ≥ thr` is
// the same decision for every f32 v.
//
// Threads: peaks one per heatmap cell; rank one per candidate cell (the dispatch covers K·h·w,
// threads past the candidate count return); nms a single thread (@workgroup_size(1)).
//
// Bindings (each entry point uses its subset):
//   0 uniform U
//   1 HEAT  f32 [K][h][w] centre logits (`det_heatmap`)          peaks, rank, nms
//   2 REG   f32 [4][h][w] l, t, r, b in cells (`det_boxreg`)      nms
//   3 CAND  { count: atomic u32, items: u32 [K·h·w] }            peaks (write)
//   4 CANDR the same buffer, read                                rank, nms
//   5 TOP   u32 [topK]                                           rank (write)
//   6 TOPR  the same buffer, read                                nms
//   7 OUT   u32 [4 + 8·maxKept]                                  nms (write)

//@include thread

struct Uniforms {
  classes: u32, h: u32, w: u32, stride: u32,
  height: u32, width: u32, topK: u32, maxKept: u32,
  logitThreshold: f32, nmsIou: f32, total: u32,
}

struct Candidates { count: atomic<u32>, items: array<u32> }
struct CandidatesRead { count: u32, items: array<u32> }

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> HEAT: array<f32>;
@group(0) @binding(2) var<storage, read> REG: array<f32>;
@group(0) @binding(3) var<storage, read_write> CAND: Candidates;
@group(0) @binding(4) var<storage, read> CANDR: CandidatesRead;
@group(0) @binding(5) var<storage, read_write> TOP: array<u32>;
@group(0) @binding(6) var<storage, read> TOPR: array<u32>;
@group(0) @binding(7) var<storage, read_write> OUT: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn peaks(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let plane = U.h * U.w;
  let base = (idx / plane) * plane;
  let r = idx % plane;
  let y = i32(r / U.w);
  let x = i32(r % U.w);
  let v = HEAT[idx];
  if (!(v >= U.logitThreshold)) { return; }
  for (var dy = -1; dy <= 1; dy++) {
    let yy = y + dy;
    if (yy < 0 || yy >= i32(U.h)) { continue; }
    for (var dx = -1; dx <= 1; dx++) {
      let xx = x + dx;
      if (xx < 0 || xx >= i32(U.w)) { continue; }
      if (HEAT[base + u32(yy) * U.w + u32(xx)] > v) { return; }
    }
  }
  let slot = atomicAdd(&CAND.count, 1u);
  CAND.items[slot] = idx;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rank(inv: Invocation) {
  let i = threadIndex(inv);
  let n = CANDR.count;
  if (i >= n) { return; }
  let me = CANDR.items[i];
  let v = HEAT[me];
  var before = 0u;
  for (var j = 0u; j < n && before < U.topK; j++) {
    let other = CANDR.items[j];
    let o = HEAT[other];
    if (o > v || (o == v && other < me)) { before++; }
  }
  if (before < U.topK) { TOP[before] = me; }
}

struct Box { x0: f32, y0: f32, x1: f32, y1: f32 }

fn box_of(cell: u32) -> Box {
  let plane = U.h * U.w;
  let r = cell % plane;
  let S = f32(U.stride);
  let cx = (f32(r % U.w) + 0.5) * S;
  let cy = (f32(r / U.w) + 0.5) * S;
  return Box(
    max(0.0, cx - max(0.0, REG[r]) * S),
    max(0.0, cy - max(0.0, REG[plane + r]) * S),
    min(f32(U.width), cx + max(0.0, REG[2u * plane + r]) * S),
    min(f32(U.height), cy + max(0.0, REG[3u * plane + r]) * S),
  );
}

fn iou(a: Box, b: Box) -> f32 {
  let iw = min(a.x1, b.x1) - max(a.x0, b.x0);
  let ih = min(a.y1, b.y1) - max(a.y0, b.y0);
  if (iw <= 0.0 || ih <= 0.0) { return 0.0; }
  let inter = iw * ih;
  let uni = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return select(0.0, inter / uni, uni > 0.0);
}

@compute @workgroup_size(1)
fn nms() {
  let plane = U.h * U.w;
  let m = min(CANDR.count, U.topK);
  var kept = 0u;
  for (var i = 0u; i < m && kept < U.maxKept; i++) {
    let cell = TOPR[i];
    let b = box_of(cell);
    var keep = true;
    for (var k = 0u; k < kept; k++) {
      if (iou(b, box_of(OUT[4u + 8u * k])) > U.nmsIou) { keep = false; break; }
    }
    if (!keep) { continue; }
    let r = cell % plane;
    let o = 4u + 8u * kept;
    OUT[o] = cell;
    OUT[o + 1u] = bitcast<u32>(HEAT[cell]);
    OUT[o + 2u] = bitcast<u32>(REG[r]);
    OUT[o + 3u] = bitcast<u32>(REG[plane + r]);
    OUT[o + 4u] = bitcast<u32>(REG[2u * plane + r]);
    OUT[o + 5u] = bitcast<u32>(REG[3u * plane + r]);
    OUT[o + 6u] = 0u;
    OUT[o + 7u] = 0u;
    kept++;
  }
  OUT[0] = kept;
}
