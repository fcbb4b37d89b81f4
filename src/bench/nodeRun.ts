/**
 * The WebGPU runtime under Node with Dawn (npm `webgpu`), for machines without a browser (a GPU
 * server): first parity of both modes with the CPU reference on random calibrated models, then the
 * benchmark (`benchmark.ts`) on the models asked for. Run with `node bin/bench-node.mjs [...]`
 * (tsx), or as the bundle `bin/build-node-bench.mjs` makes.
 *
 *   --json FILE   write {parity, benches} as JSON
 *   --frames N    frames per backend (default 20)
 *   --bench SPEC  model to bench, repeatable: `tiny@128x128`, `15M@224x224`, `55M@224x224:T4` …,
 *                 or `FILE.safetensors@HxW` / `FILE.pth@HxW` for a checkpoint
 *   --no-parity   skip the parity check
 *   --no-sweep    skip the layer sweep
 *   --dawn OPT    a Dawn option for create() (e.g. backend=vulkan), repeatable
 *   --plan P      the WebGPU plan for parity and benchmark: `software` or `hardware` (default: the
 *                 adapter's, as the app picks it)
 *   --ort DIR     also run ONNX Runtime Web (webgpu and wasm providers) on the same model and
 *                 device; DIR holds onnxruntime-web's .wasm/.mjs files (its dist folder)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { create, globals } from 'webgpu';
import { defaultConfig, PUBLISHED_EMBED_DIMS } from '../model/config.ts';
import { buildModelGraph } from '../model/graph.ts';
import { randomModelWeights, randomSmoothImage } from '../runtime/cpu/randomWeights.ts';
import { CpuReferenceRuntime } from '../runtime/cpu/cpuReferenceRuntime.ts';
import { WebGpuRuntime } from '../runtime/webgpu/webGpuRuntime.ts';
import { planName, planOptions, runBenchmark, type BenchResult } from './benchmark.ts';
import { installNodeWebGpu } from '../runtime/webgpu/nodeWebGpu.ts';
import type { OrtModule } from '../runtime/onnx/onnxRuntimeBackend.ts';

Object.assign(globalThis, globals);

interface ParityRow { model: string; T: number; mode: string; plan: 'software' | 'hardware'; spikes: number; differing: number; firstDiffering: string | null; maxLogitDiff: number; sameTop1: boolean }

async function parity(gpu: GPU, planOption: { software?: boolean }): Promise<ParityRow[]> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const device = await adapter!.requestDevice();
  const rows: ParityRow[] = [];
  const cases: [string, [number, number, number, number], number, number, number, boolean][] = [
    ['tiny', [16, 32, 64, 96], 32, 48, 1, false],
    ['tiny', [16, 32, 64, 96], 64, 96, 3, true],
    ['15M', PUBLISHED_EMBED_DIMS['15M'], 64, 64, 1, false],
  ];
  for (const [name, dims, h, w, T, kd] of cases) {
    const config = defaultConfig({ embedDims: dims, numClasses: 100, timeSteps: T, kd });
    const weights = randomModelWeights(config, { seed: 3, kvRate: 0.3 });
    const graph = buildModelGraph(config, h, w);
    const input = randomSmoothImage(3, h, w, 4);
    const cpu = new CpuReferenceRuntime(graph, weights).run(input, { spikeMaps: 'all' });
    for (const mode of ['spike', 'dense'] as const) {
      const rt = await WebGpuRuntime.create(device, graph, weights, { mode, ...planOption });
      const r = await rt.run(input, { spikeMaps: 'all' });
      let spikes = 0, differing = 0;
      let first: string | null = null;
      for (const l of cpu.layers) {
        const a = cpu.spikeMaps.get(l.name)!, b = r.spikeMaps.get(l.name)!;
        let d = 0;
        for (let i = 0; i < a.length; i++) { spikes += a[i]; if (a[i] !== b[i]) d++; }
        if (d && !first) first = l.name;
        differing += d;
      }
      let maxLogitDiff = 0;
      cpu.logits.forEach((v, i) => { maxLogitDiff = Math.max(maxLogitDiff, Math.abs(v - r.logits[i])); });
      const top = (x: Float32Array) => x.indexOf(Math.max(...x));
      const row = { model: `${name} ${h}x${w}`, T, mode, plan: planName(rt.plan), spikes, differing, firstDiffering: first, maxLogitDiff, sameTop1: top(cpu.logits) === top(r.logits) };
      console.log(JSON.stringify(row));
      rows.push(row);
      rt.destroy();
    }
  }
  device.destroy();
  return rows;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let json: string | null = null, frames = 20, doParity = true;
  let ortDir: string | null = null;
  let sweep = true;
  let plan: 'software' | 'hardware' | undefined;
  const benches: string[] = [];
  const dawn: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = args[++i];
    else if (a === '--frames') frames = Number(args[++i]);
    else if (a === '--bench') benches.push(args[++i]);
    else if (a === '--no-parity') doParity = false;
    else if (a === '--no-sweep') sweep = false;
    else if (a === '--dawn') dawn.push(args[++i]);
    else if (a === '--ort') ortDir = args[++i];
    else if (a === '--plan') {
      plan = args[++i] as 'software' | 'hardware';
      if (plan !== 'software' && plan !== 'hardware') throw new Error('--plan is software or hardware');
    }
    else throw new Error(`unknown argument ${a}`);
  }
  if (!benches.length) benches.push('tiny@128x128');
  let gpu = create(dawn);
  let ort: OrtModule | undefined;
  if (ortDir) {
    // ORT's WebGPU provider in Node needs navigator.gpu and a few fixes (see runtime/webgpu/nodeWebGpu.ts).
    const node = await installNodeWebGpu();
    gpu = node.gpu;
    const ortWeb = await import('onnxruntime-web/webgpu');
    ortWeb.env.webgpu.adapter = node.adapter;
    ortWeb.env.wasm.wasmPaths = pathToFileURL(`${ortDir}/`).href;
    ort = ortWeb;
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  console.log('adapter:', JSON.stringify({ vendor: adapter?.info.vendor, architecture: adapter?.info.architecture, description: adapter?.info.description }));
  const out: { parity: ParityRow[]; benches: BenchResult[] } = { parity: [], benches: [] };
  if (doParity) out.parity = await parity(gpu, planOptions(plan));
  for (const spec of benches) {
    const m = /^([\w./-]+)@(\d+)x(\d+)(?::T(\d+))?$/.exec(spec);
    if (!m) throw new Error(`--bench ${spec}: expected NAME@HxW[:TN]`);
    const file = /\.(safetensors|pth|pt|bin)$/.test(m[1]) ? m[1] : null;
    const dims = m[1] === 'tiny' ? [16, 32, 64, 96] as [number, number, number, number] : PUBLISHED_EMBED_DIMS[m[1]];
    if (!dims && !file) throw new Error(`unknown model ${m[1]}`);
    const t0 = performance.now();
    const model = file ? { modelBytes: new Uint8Array(readFileSync(file)), modelName: basename(file) } : {};
    const r = await runBenchmark({ ...model, dims, classes: 1000, timeSteps: m[4] ? Number(m[4]) : file ? undefined : 1, size: [Number(m[2]), Number(m[3])], frames, warmup: 3, sweepRepeat: 10, sweepRates: sweep ? undefined : [], plan }, gpu, ort);
    console.log(`bench ${spec}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const run of r.runs) console.log(`  ${run.backend}: median ${run.ms_per_frame.median.toFixed(2)} ms, min ${run.ms_per_frame.min.toFixed(2)} ms, GPU ${run.gpu_ms_total?.toFixed(2)} ms, ×${run.ratio_to_webgpu_spike?.toFixed(2)} of webgpu-spike, ${run.spikes} spikes, ${run.dispatches ?? '?'} dispatches${run.threads === null ? '' : `, ${run.threads} threads`}`);
    for (const f of r.failed) console.log(`  ${f.backend}: did not run: ${f.error}`);
    for (const t of r.tasks) console.log(`  tasks ${t.tasks.join('+')}: median ${t.ms_per_frame.median.toFixed(2)} ms, min ${t.ms_per_frame.min.toFixed(2)} ms`);
    if (r.heads_share !== null) console.log(`  heads' share with all tasks: ${(100 * r.heads_share).toFixed(1)} %`);
    for (const s of r.sweep) console.log(`  sweep rate ${s.rate}: spike ${s['webgpu-spike_ms'].toFixed(3)} ms, dense ${s['webgpu-dense_ms'].toFixed(3)} ms, ×${s.speedup.toFixed(1)}`);
    out.benches.push(r);
  }
  if (json) writeFileSync(json, JSON.stringify(out, null, 2));
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
