#!/usr/bin/env node
// npm run bench -- [--json FILE] [--model CHECKPOINT] [--size HxW] [--frames N] [--time-steps T]
//                  [--dims a,b,c,d] [--classes N] [--sweep-repeat N] [--chromium PATH]
//                  [--sweep-layer cin,cout,kernel,stride,h,w | model] [--ort-threads N] [--ort-providers webgpu,wasm]
//                  [--plan software|hardware]
//
// Starts a Vite dev server on 127.0.0.1 serving bench/index.html (src/bench/benchPage.ts), opens
// it in headless Chromium (playwright-core; WebGPU on SwiftShader, the flags of vitest.config.ts) and
// runs both WebGPU backends (webgpu-spike, webgpu-dense) on the same model, input and device, and
// ONNX Runtime Web (webgpu and wasm providers; wasm with the threads the app would use here: the
// page is cross-origin isolated like the app). Each run records its dispatches per frame (null
// where not known) and, for ORT wasm, its threads.
// Default model: the calibrated random model (src/model/randomWeights.ts) at the tiny reference
// dims 16,32,64,96, 1000 classes, T = 1, input 128×128.
import { writeFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const o = { frames: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--json') o.json = next();
    else if (a === '--model') o.model = resolve(next());
    else if (a === '--size') {
      const m = /^(\d+)x(\d+)$/.exec(next());
      if (!m) throw new Error('--size must be HxW, e.g. 224x224');
      o.size = [Number(m[1]), Number(m[2])];
    } else if (a === '--frames') o.frames = Number(next());
    else if (a === '--time-steps') o.timeSteps = Number(next());
    else if (a === '--dims') o.dims = next().split(',').map(Number);
    else if (a === '--classes') o.classes = Number(next());
    else if (a === '--sweep-repeat') o.sweepRepeat = Number(next());
    else if (a === '--chromium') o.chromium = next();
    else if (a === '--ort-threads') o.ortThreads = Number(next());
    else if (a === '--ort-providers') o.ortProviders = next().split(',');
    else if (a === '--plan') {
      o.plan = next();
      if (o.plan !== 'software' && o.plan !== 'hardware') throw new Error('--plan is software or hardware');
    }
    else if (a === '--sweep-layer') {
      const v = next();
      if (v === 'model') o.sweepLayer = 'model';
      else {
        const [cin, cout, kernel, stride, h, w] = v.split(',').map(Number);
        if (![cin, cout, kernel, stride, h, w].every((x) => Number.isInteger(x) && x > 0)) throw new Error('--sweep-layer is cin,cout,kernel,stride,h,w or model');
        o.sweepLayer = { cin, cout, kernel, stride, h, w };
      }
    }
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new Error(`unknown argument ${a} (see --help)`);
  }
  return o;
}

const fmt = (n, d = 2) => (n === null || n === undefined ? '-' : Number(n).toFixed(d));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

function printTables(r) {
  const a = r.device.adapter;
  console.log(`device: ${a.vendor} ${a.architecture} ${a.description || a.device || ''}${a.isFallbackAdapter ? ' (fallback adapter)' : ''}; timestamps: ${r.device.timestamps}`);
  console.log(`model: ${r.model.name} dims ${r.model.embed_dims.join(',')} classes ${r.model.classes} T ${r.model.T} params ${r.model.params}`);
  console.log(`dense MACs/frame ${(r.totals.dense_macs / 1e6).toFixed(1)} M, synaptic ops ${(r.totals.sops / 1e6).toFixed(1)} M, mean firing rate ${fmt(r.totals.spike_rate, 3)}`);
  console.log('');
  console.log(`${pad('backend', 14)}${lpad('median ms', 11)}${lpad('min ms', 9)}${lpad('GPU ms', 9)}${lpad('frames', 8)}${lpad('× spike', 9)}${lpad('spikes', 10)}${lpad('dispatches', 12)}${lpad('threads', 9)}  input   top1`);
  for (const run of r.runs) {
    console.log(`${pad(run.backend + (run.plan ? ` (${run.plan[0]})` : ''), 14)}${lpad(fmt(run.ms_per_frame.median), 11)}${lpad(fmt(run.ms_per_frame.min), 9)}${lpad(fmt(run.gpu_ms_total), 9)}${lpad(run.frames, 8)}${lpad(fmt(run.ratio_to_webgpu_spike, 2), 9)}${lpad(run.spikes ?? '', 10)}${lpad(run.dispatches ?? '-', 12)}${lpad(run.threads ?? '-', 9)}  ${run.input.join('x')} ${run.top1}`);
  }
  console.log('(dispatches: GPU dispatches per frame, - where not known; (s)/(h): the WebGPU plan for a software/hardware adapter; threads: ONNX Runtime wasm threads, as the app would use here)');
  for (const f of r.failed ?? []) console.log(`${pad(f.backend, 14)}did not run: ${f.error}`);
  console.log('(× spike: median time over webgpu-spike\'s; above 1 means slower than the event-driven runtime)');
  if (r.tasks?.length) {
    console.log('');
    console.log('task heads (webgpu-spike, one backbone pass per frame):');
    for (const t of r.tasks) console.log(`${pad(t.tasks.join('+'), 30)}${lpad(fmt(t.ms_per_frame.median), 11)} ms`);
    console.log(`heads' share of the frame with all tasks: ${fmt(100 * r.heads_share, 1)} %`);
  }
  console.log('');
  const top = [...r.layers].filter((l) => l.macs > 0).sort((x, y) => y.macs - x.macs).slice(0, 15);
  console.log(`largest layers (of ${r.layers.length} dispatches):`);
  console.log(`${pad('layer', 42)}${pad('kernel', 15)}${lpad('MMAC', 8)}${lpad('in rate', 9)}${lpad('MSOP', 8)}${lpad('spike ms', 10)}${lpad('dense ms', 10)}`);
  for (const l of top) {
    console.log(`${pad(l.name, 42)}${pad(l.kernel, 15)}${lpad(fmt(l.macs / 1e6, 1), 8)}${lpad(fmt(l.input_rate, 3), 9)}${lpad(fmt(l.sops === null ? null : l.sops / 1e6, 1), 8)}${lpad(fmt(l.gpu_ms['webgpu-spike'], 3), 10)}${lpad(fmt(l.gpu_ms['webgpu-dense'], 3), 10)}`);
  }
  if (r.sweep.length) {
    const s = r.sweep[0];
    console.log('');
    console.log(`sweep: ${s.layer} (${s.shape.cin}→${s.shape.cout}, ${s.shape.kernel}×${s.shape.kernel} s${s.shape.stride}, ${s.shape.h}×${s.shape.w}, ${(s.macs / 1e6).toFixed(0)} MMAC dense)`);
    console.log(`${lpad('rate', 6)}${lpad('spike ms', 10)}${lpad('dense ms', 10)}${lpad('speedup', 9)}`);
    for (const p of r.sweep) console.log(`${lpad(fmt(p.rate, 2), 6)}${lpad(fmt(p['webgpu-spike_ms'], 3), 10)}${lpad(fmt(p['webgpu-dense_ms'], 3), 10)}${lpad(fmt(p.speedup, 1), 9)}`);
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) {
    console.log(readUsage());
    return;
  }
  if (o.model && !existsSync(o.model)) throw new Error(`model ${o.model} does not exist`);
  const { createServer } = await import('vite');
  const { chromium } = await import('playwright-core');
  const allow = [root];
  if (o.model) allow.push(dirname(o.model));
  const server = await createServer({
    root, configFile: false, logLevel: 'warn', clearScreen: false,
    // Cross-origin isolated as the app is (vite.config.ts), so ONNX Runtime's wasm gets the threads the app's would.
    server: { host: '127.0.0.1', port: 5190, strictPort: false, fs: { allow }, headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
  });
  let browser;
  try {
    await server.listen();
    const url = server.resolvedUrls.local[0];
    browser = await chromium.launch({
      executablePath: o.chromium ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'],
    });
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error('[page]', m.text()); });
    page.on('pageerror', (e) => console.error('[page]', e.message));
    await page.goto(`${url}bench/index.html`);
    await page.waitForFunction(() => typeof window.spikeformerBench === 'function', null, { timeout: 120000 });
    const opts = {
      modelUrl: o.model ? `/@fs${o.model}` : undefined,
      modelName: o.model ? o.model.split('/').pop() : undefined,
      dims: o.dims, classes: o.classes, timeSteps: o.timeSteps, size: o.size, frames: o.frames, sweepRepeat: o.sweepRepeat, sweepLayer: o.sweepLayer,
      ortThreads: o.ortThreads, ortProviders: o.ortProviders, plan: o.plan,
    };
    const t0 = Date.now();
    const result = await page.evaluate((opts) => window.spikeformerBench(opts), opts);
    result.wall_s = (Date.now() - t0) / 1000;
    printTables(result);
    if (o.json) {
      writeFileSync(o.json, JSON.stringify(result, null, 2));
      console.log(`\nwrote ${o.json}`);
    }
  } finally {
    await browser?.close();
    await server.close();
  }
}

function readUsage() {
  return `usage: npm run bench -- [--json FILE] [--model CHECKPOINT] [--size HxW] [--frames N]
                       [--time-steps T] [--dims a,b,c,d] [--classes N] [--sweep-repeat N] [--chromium PATH]
                       [--sweep-layer cin,cout,kernel,stride,h,w | model] [--ort-threads N] [--ort-providers webgpu,wasm]
                       [--plan software|hardware]
--ort-threads: ONNX Runtime wasm threads (default: the app's rule, wantedThreads); --ort-providers: the ORT providers to run
--plan: the WebGPU plan for a software or a hardware adapter (default: what the adapter is, as the app does)
default model: calibrated random weights, dims 16,32,64,96, 1000 classes, T=1, 128x128
default sweep layer: 128,512,3,1,28,28 (15M's ConvBlock2 conv1 at 224x224), random weights`;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
