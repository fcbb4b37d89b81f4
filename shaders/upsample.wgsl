// Upsampling ×2 of a real-valued map: [S][C][H][W] → [S][C][2H][2W], one thread per output.
//
// MODE 0 nearest:  out[y][x] = in[y / 2][x / 2].
// MODE 1 bilinear (align_corners = false, HEADS.md): along an axis of length n, output o reads
//   o = 0:           i0 = 0,     i1 = min(1, n − 1),      w0 = 1,    w1 = 0
//   o = 2k + 1:      i0 = k,     i1 = min(k + 1, n − 1),  w0 = 0.75, w1 = 0.25
//   o = 2k (k ≥ 1):  i0 = k − 1, i1 = k,                  w0 = 0.25, w1 = 0.75
// (src = max(0, (o + 0.5)/2 − 0.5), i0 = floor(src), w1 = src − i0), and
//   out = w0y·(w0x·z[i0,j0] + w1x·z[i0,j1]) + w1y·(w0x·z[i1,j0] + w1x·z[i1,j1])
// rounded to f32 after every multiply and add, as the CPU reference and PyTorch compute it. Each
// product w·z is formed as z·hi + z·lo with hi, lo powers of two or 0 (0.75 = 0.5 + 0.25), whose
// products are exact: one rounding, the same whether or not a compiler fuses it into an fma.
//
// Threads: one per output element (x, y, c, step), x fastest.
// Bindings: 0 uniform U; 1 X f32 [S][C][H][W] (step stride xStepStride, 0 = one step for all);
//           2 O f32 [S][C][2H][2W].

//@include thread

const MODE: u32 = {{MODE}}u;

struct Uniforms { channels: u32, inH: u32, inW: u32, total: u32, xStepStride: u32 }

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;

struct Tap { i0: u32, i1: u32, w0: f32, w1: f32 }

fn tap(o: u32, n: u32) -> Tap {
  if (o == 0u) { return Tap(0u, min(1u, n - 1u), 1.0, 0.0); }
  let k = o / 2u;
  if ((o & 1u) == 1u) { return Tap(k, min(k + 1u, n - 1u), 0.75, 0.25); }
  return Tap(k - 1u, k, 0.25, 0.75);
}

// w·z rounded once, for w in {0, 0.25, 0.75, 1}.
fn mulw(z: f32, w: f32) -> f32 {
  let three = w == 0.75;
  return z * select(w, 0.5, three) + z * select(0.0, 0.25, three);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let H = U.inH;
  let W = U.inW;
  let ow = 2u * W;
  let oh = 2u * H;
  let x = idx % ow;
  var rest = idx / ow;
  let y = rest % oh;
  rest = rest / oh;
  let c = rest % U.channels;
  let t = rest / U.channels;
  let base = t * U.xStepStride + c * H * W;
  if (MODE == 0u) {
    O[idx] = X[base + (y / 2u) * W + x / 2u];
    return;
  }
  let r = tap(y, H);
  let q = tap(x, W);
  let row0 = base + r.i0 * W;
  let row1 = base + r.i1 * W;
  let top = mulw(X[row0 + q.i0], q.w0) + mulw(X[row0 + q.i1], q.w1);
  let bot = mulw(X[row1 + q.i0], q.w0) + mulw(X[row1 + q.i1], q.w1);
  O[idx] = mulw(top, r.w0) + mulw(bot, r.w1);
}
