// Included by the kernels that apply BatchNorm affines (a line `//@include affine`).
//
// affine(x, s, b) = x·s + b rounded once to f32, the way the CPU reference computes it (the exact
// product and sum in double, then one rounding; also what a fused multiply-add gives). WGSL's
// fma() may be computed unfused (SwiftShader does: x·s rounded, then + b rounded, off by one ulp in
// about a quarter of the cases), so the product is split exactly (Dekker: x·s = p + e with
// 12-bit halves whose products are exact) and the sum is an error-free TwoSum, then the two error
// terms are added back. Every product here is exact, so the result does not depend on whether a
// compiler contracts a·b + c into an fma.

fn affineSplit(a: vec4f) -> array<vec4f, 2> {
  let c = 4097.0 * a;
  let hi = c - (c - a);
  return array<vec4f, 2>(hi, a - hi);
}

fn affine4(x: vec4f, s: vec4f, b: vec4f) -> vec4f {
  let p = x * s;
  let xs = affineSplit(x);
  let ss = affineSplit(s);
  let e = ((xs[0] * ss[0] - p) + xs[0] * ss[1] + xs[1] * ss[0]) + xs[1] * ss[1];
  let r = p + b;
  let bb = r - p;
  let t = (p - (r - bb)) + (b - bb);
  return r + (t + e);
}

fn affine(x: f32, s: f32, b: f32) -> f32 {
  return affine4(vec4f(x), vec4f(s), vec4f(b)).x;
}
