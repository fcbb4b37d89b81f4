// Residual add: out[t][e] = A[t·aStepStride + e] + B[t·bStepStride + e] (a step stride of 0
// broadcasts a step-invariant input over the T steps).
//
// Threads: one per output element (t, e), e fastest.
// Bindings: 0 uniform U; 1 A f32; 2 B f32; 3 O f32 [S][perStep].

//@include thread

struct Uniforms { perStep: u32, total: u32, aStepStride: u32, bStepStride: u32 }

@group(0) @binding(0) var<uniform> U: Uniforms;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(inv: Invocation) {
  let idx = threadIndex(inv);
  if (idx >= U.total) { return; }
  let t = idx / U.perStep;
  let e = idx % U.perStep;
  O[idx] = A[t * U.aStepStride + e] + B[t * U.bStepStride + e];
}
