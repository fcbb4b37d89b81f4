// Included by every kernel (a line `//@include thread`): the workgroup size and the thread index.
//
// The host dispatches ceil(threads / WORKGROUP_SIZE) workgroups as a 2-D grid (x ≤ 65535, y as
// needed; `workgroupGrid` in src/runtime/webgpu/programInterface.ts, which reads each entry
// point's @workgroup_size); thread index = (wid.y·nwg.x + wid.x)·WORKGROUP_SIZE + lid counts the
// threads in dispatch order. The last workgroup may run past the thread count: each kernel
// returns (or idles) when its index is out of range.
//
// An entry point is declared
//   @compute @workgroup_size(WORKGROUP_SIZE)
//   fn main(inv: Invocation) {
//     let idx = threadIndex(inv);

const WORKGROUP_SIZE: u32 = 64u;

struct Invocation {
  @builtin(workgroup_id) workgroup: vec3u,
  @builtin(num_workgroups) workgroups: vec3u,
  @builtin(local_invocation_index) local: u32,
}

fn threadIndex(inv: Invocation) -> u32 {
  return (inv.workgroup.y * inv.workgroups.x + inv.workgroup.x) * WORKGROUP_SIZE + inv.local;
}
