// Segmentation mask on the GPU: the head's logits [K][h][w] (stride S = H/h) → the class index of
// every input pixel, so that only the mask (one byte per pixel) is read back.
//
// For each output pixel (y, x): bilinear ×S upsampling with align_corners = false (HEADS.md,
// `decode_mask`): along an axis of length n, output o reads
//   src = max(0, (o + 0.5)/S − 0.5), i0 = floor(src), i1 = min(i0 + 1, n − 1), w1 = src − i0, w0 = 1 − w1
// and  v_c = w0y·(w0x·L[c,i0,j0] + w1x·L[c,i0,j1]) + w1y·(w0x·L[c,i1,j0] + w1x·L[c,i1,j1]);
// mask = arg max_c v_c, ties to the lowest class (strictly greater wins). The CPU decoder computes
// v in float64, this kernel in f32, so a pixel whose two best classes are within an f32 rounding
// of each other may differ (tests require ≥ 99.5 % agreement; in practice it is ~100 %).
//
// One thread per 4 horizontally adjacent pixels (W is a multiple of 4), packed as 4 bytes of a u32
// (pixel x in byte x % 4, little-endian), so the read-back bytes are the [H][W] mask row-major.
//
// Threads: one per 4 pixels of a row (see above), x fastest.
// Bindings: 0 uniform U; 1 L f32 [K][h][w] (the `seg_logits` output); 2 M u32 [H][W/4].

//@include thread

struct Uniforms { classes: u32, h: u32, w: u32, stride: u32, height: u32, width: u32, total: u32 }

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> L: array<f32>;
@group(0) @binding(2) var<storage, read_write> M: array<u32>;

struct Tap { i0: u32, i1: u32, w0: f32, w1: f32 }

fn tap(o: u32, n: u32) -> Tap {
  let src = max(0.0, (f32(o) + 0.5) / f32(U.stride) - 0.5);
  let i0 = min(u32(floor(src)), n - 1u);
  let w1 = src - f32(i0);
  return Tap(i0, min(i0 + 1u, n - 1u), 1.0 - w1, w1);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let quads = U.width / 4u;
  let y = idx / quads;
  let x0 = (idx % quads) * 4u;
  let ty = tap(y, U.h);
  var tx: array<Tap, 4>;
  for (var k = 0u; k < 4u; k++) { tx[k] = tap(x0 + k, U.w); }
  var best = vec4f(0.0);
  var cls = vec4u(0u);
  let plane = U.h * U.w;
  for (var c = 0u; c < U.classes; c++) {
    let r0 = c * plane + ty.i0 * U.w;
    let r1 = c * plane + ty.i1 * U.w;
    for (var k = 0u; k < 4u; k++) {
      let t = tx[k];
      let top = t.w0 * L[r0 + t.i0] + t.w1 * L[r0 + t.i1];
      let bot = t.w0 * L[r1 + t.i0] + t.w1 * L[r1 + t.i1];
      let v = ty.w0 * top + ty.w1 * bot;
      if (c == 0u || v > best[k]) {
        best[k] = v;
        cls[k] = c;
      }
    }
  }
  M[idx] = (cls.x & 255u) | ((cls.y & 255u) << 8u) | ((cls.z & 255u) << 16u) | ((cls.w & 255u) << 24u);
}
