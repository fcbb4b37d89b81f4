/**
 * End to end: the app in headless Chromium (playwright-core driving /usr/bin/chromium) against a
 * Vite dev server started here, with a fake webcam playing a clip written from a sample picture.
 *
 * The cases that need the WebGPU engine ask for it (`?backend=webgpu`): on SwiftShader `auto` times
 * WebGPU against ONNX Runtime Web (wasm) and keeps the faster, which on 2 cores is ORT.
 *  0. `auto` on SwiftShader: the page names the engine kept, with both engines' ms/frame, and the
 *     kept one is the faster and the one that runs.
 *  1. WebGPU (SwiftShader): camera → "Top predictions" (5 items), the "Firing rate per layer" chart,
 *     an "fps" readout and the backend name; a destroyed GPU device is recreated and frames go on;
 *     a bad checkpoint shows one line and breaks nothing; a good one is converted, cached in OPFS,
 *     and still listed after a reload.
 *  2. No WebGPU (no --enable-unsafe-webgpu): the fallback message naming ONNX Runtime Web (wasm,
 *     threads: the dev server sends COOP/COEP), predictions from it, and the map views saying they
 *     need the WebGPU or CPU backend; then `?backend=cpu` runs the CPU reference, and so does the app
 *     when ORT cannot start (its wasm answered 404), saying why.
 *  3. The tiny reference checkpoint (tests/fixtures/official/metaspikformer-tiny-t1) through "Open checkpoint…",
 *     at 128×128: the webcam playing a clip of its cat, then the cat PNG itself from "Open image or
 *     video…" (paused, one step) gives the CLI's top-1 and top 5 (`infer --size 128x128`: at the
 *     picture's own size neither side resizes, so both feed the same normalized input).
 *  4. Camera permission denied (prompts denied, not auto-accepted): the page says so, and a sample
 *     and an opened picture still give predictions.
 *  4b. Task heads: a still digits scene (tests/fixtures/digits/scene-a) as the webcam, task "all":
 *     a "Detections" list with a digit, the "Segmentation legend", 90 neuron layers (77 + heads), on
 *     WebGPU and on ONNX Runtime Web (wasm); screenshot test-results/app-tasks.png; then each of
 *     detect, segment, classify alone shows only its own overlay (test-results/app-task-*.png).
 *  4c. The last choice wins: a sample chosen while the camera is still starting stays (the camera,
 *     once granted, is stopped); a checkpoint dropped while another converts is the one that runs;
 *     a bad file chosen while a good one converts leaves its error and the model before running.
 *  5. The production build (`vite build`, served by `vite preview`): ORT's wasm files are there and
 *     run, on the threads of the app's rule (the preview server sends COOP/COEP too).
 * Inputs are 32×32 (128×128 in 3) so SwiftShader and the CPU reference keep up. Screenshots go to
 * test-results/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { build, createServer, preview, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readNpy } from '../../src/io/npy.ts';
import { defaultConfig } from '../../src/model/config.ts';
import { wantedThreads } from '../../src/runtime/onnx/onnxRuntimeBackend.ts';
import { randomSafetensors } from '../helpers/randomCheckpoint.ts';
import { encodeY4m, frameOf, readPngRgb } from './y4m.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = join(ROOT, 'test-results');
const BASE_FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];
/** The tiny reference checkpoint (dims 16·32·64·96, 10 classes, T = 1, 128×128) and one of its cases. */
const REFERENCE = join(ROOT, 'tests/fixtures/official/metaspikformer-tiny-t1');
const REFERENCE_PTH = join(REFERENCE, 'checkpoint.pth');
const CAT_PNG = join(REFERENCE, 'cat/image.png');

let server: ViteDevServer;
let url: string;
let work: string;
let clip: string;
let catClip: string;
let sceneClip: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'spikeformer-e2e-'));
  mkdirSync(RESULTS, { recursive: true });
  // A few frames of a sample digit drifting sideways, 4:2:0.
  const picture = readPngRgb(join(ROOT, 'public/samples/digit-3.png'));
  clip = join(work, 'clip.y4m');
  writeFileSync(clip, encodeY4m(Array.from({ length: 8 }, (_, i) => frameOf(picture, 320, 240, (i - 4) * 3))));
  // A still digits scene (128×128: fills the preview's centred square), for the task heads.
  const scene = readPngRgb(join(ROOT, 'tests/fixtures/digits/scene-a/image.png'));
  sceneClip = join(work, 'scene.y4m');
  writeFileSync(sceneClip, encodeY4m(Array.from({ length: 4 }, () => frameOf(scene, 320, 240, 0))));
  // The same from the reference cat (128×128 RGB), for the reference checkpoint.
  const cat = readPngRgb(CAT_PNG);
  catClip = join(work, 'cat.y4m');
  writeFileSync(catClip, encodeY4m(Array.from({ length: 8 }, (_, i) => frameOf(cat, 320, 240, (i - 4) * 3))));
  server = await createServer({
    configFile: join(ROOT, 'vite.config.ts'),
    logLevel: 'error',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, hmr: false },
    // Pre-bundle what the workers import, so no re-optimization reloads the page mid-test.
    optimizeDeps: { include: ['react', 'react-dom', 'react-dom/client', 'd3-scale', 'd3-scale-chromatic', 'fflate', 'protobufjs/minimal.js'] },
  });
  await server.listen();
  url = server.resolvedUrls!.local[0];
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000); // closing Vite's watchers can take seconds on a loaded 2-core machine

/**
 * Chromium with a fake webcam playing `video` (the digit clip unless told). `camera: 'deny'` leaves
 * out the auto-accept of the permission prompt and denies prompts instead, so getUserMedia fails
 * with NotAllowedError although a (fake) camera is there.
 */
async function launch(webgpu: boolean, { video = clip, camera = 'allow', serviceWorkers = 'block' }: { video?: string; camera?: 'allow' | 'deny'; serviceWorkers?: 'allow' | 'block' } = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await chromium.launchPersistentContext(mkdtempSync(join(work, 'profile-')), {
    executablePath: CHROMIUM,
    args: [
      ...BASE_FLAGS,
      ...(webgpu ? WEBGPU_FLAGS : []),
      camera === 'allow' ? '--use-fake-ui-for-media-stream' : '--deny-permission-prompts',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
    viewport: { width: 1360, height: 1000 },
    // The app's service worker (offline use) is tested on its own; elsewhere it is blocked, so that
    // page.route sees every request and each test starts from the network.
    serviceWorkers,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

/** Frames done on the current source (the count starts again with each source). */
async function framesDone(page: Page): Promise<number> {
  return page.evaluate(() => window.__spikeformer?.state().frames ?? 0);
}

/** The name of the source whose frame is shown. */
async function shownSource(page: Page): Promise<string | null> {
  return page.evaluate(() => window.__spikeformer?.state().source ?? null);
}

/**
 * Makes a file named `name` holding `bytes` in the page; the returned function drops it on the
 * page, as a visitor dragging it from their files would.
 */
async function fileToDrop(page: Page, name: string, bytes: Uint8Array): Promise<() => Promise<void>> {
  const transfer = await page.evaluateHandle(({ name, base64 }) => {
    const raw = atob(base64);
    const data = Uint8Array.from(raw, (c) => c.charCodeAt(0));
    const t = new DataTransfer();
    t.items.add(new File([data], name));
    return t;
  }, { name, base64: Buffer.from(bytes).toString('base64') });
  return () => page.locator('main.app').dispatchEvent('drop', { dataTransfer: transfer });
}

/** The checks both backends must pass once the camera runs. */
async function expectLiveClassification(page: Page, backend: RegExp): Promise<void> {
  await page.getByRole('button', { name: 'Start camera' }).click();
  const predictions = page.getByRole('list', { name: 'Top predictions' });
  await predictions.waitFor({ timeout: 45_000 });
  await expect.poll(() => predictions.getByRole('listitem').count(), { timeout: 10_000 }).toBe(5);
  await page.getByRole('img', { name: 'Firing rate per layer' }).waitFor();
  const fps = page.getByTestId('fps');
  await expect(fps.textContent()).resolves.toMatch(/^\d+(\.\d)? fps$/);
  await expect.poll(async () => parseFloat((await fps.textContent()) ?? ''), { timeout: 20_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('backend-name').textContent()).resolves.toMatch(backend);
  // The hidden table has one row per neuron layer (77 in Meta-SpikeFormer).
  await expect.poll(() => page.locator('table tbody tr').count(), { timeout: 5_000 }).toBe(77);
}

describe.skipIf(!existsSync(CHROMIUM))('app end to end (headless Chromium)', () => {
  test('auto on a software adapter (SwiftShader): both engines timed, the faster kept, and the page says so', async () => {
    const { context, page, errors } = await launch(true);
    try {
      await page.goto(`${url}?size=32`);
      const trial = page.getByTestId('engine-trial');
      await expect.poll(() => trial.textContent().catch(() => ''), { timeout: 120_000 }).toMatch(/ kept: /);
      const text = (await trial.textContent())!;
      console.info(`auto on SwiftShader: ${text}`);
      const m = /^(.+) kept: ([\d.]+) ms\/frame against ([\d.]+) ms\/frame on (.+) \(software adapter (.+)\)\.$/.exec(text);
      expect(m, text).not.toBeNull();
      const [, kept, keptMs, otherMs, other, adapter] = m!;
      expect([kept, other].map((n) => (n === 'WebGPU' ? 'webgpu' : /^ONNX Runtime Web \(wasm, \d threads?\)$/.test(n) ? 'wasm' : n)).sort()).toEqual(['wasm', 'webgpu']);
      expect(Number(keptMs)).toBeLessThanOrEqual(Number(otherMs));
      expect(adapter).toMatch(/swiftshader/i);
      // The engine kept is the one that runs, and it gives predictions.
      await expect.poll(() => page.getByTestId('backend-name').textContent().catch(() => ''), { timeout: 30_000 }).toBe(`Backend: ${kept}`);
      await page.getByRole('button', { name: /^Sample: / }).first().click();
      await expect.poll(() => page.getByRole('list', { name: 'Top predictions' }).getByRole('listitem').count(), { timeout: 45_000 }).toBe(5);
      expect(await page.getByRole('alert').filter({ hasText: 'WebGPU is not available' }).count()).toBe(0);
      await page.screenshot({ path: join(RESULTS, 'app-auto-trial.png') });
      // Asked for, WebGPU is not timed against anything.
      await page.goto(`${url}?size=32&backend=webgpu`);
      await expect.poll(() => page.getByTestId('backend-name').textContent().catch(() => ''), { timeout: 60_000 }).toBe('Backend: WebGPU');
      expect(await page.getByTestId('engine-trial').count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);

  test('WebGPU: webcam → predictions, firing rates, fps, backend; survives a lost device; checkpoints', async () => {
    const { context, page, errors } = await launch(true);
    try {
      await page.goto(`${url}?size=32&backend=webgpu`);
      await expectLiveClassification(page, /WebGPU/);
      await expect(page.getByTestId('adapter-name').textContent()).resolves.toMatch(/swiftshader/i);
      await page.screenshot({ path: join(RESULTS, 'app-webgpu.png'), fullPage: true });

      // Pause stops the frames; one step runs exactly one more.
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.waitForTimeout(600);
      const paused = await framesDone(page);
      await page.waitForTimeout(600);
      expect(await framesDone(page)).toBe(paused);
      await page.getByRole('button', { name: 'Step one frame' }).click();
      await expect.poll(() => framesDone(page), { timeout: 10_000 }).toBe(paused + 1);
      await page.getByRole('button', { name: 'Resume' }).click();

      // A lost device is recreated and the frames go on.
      const before = await framesDone(page);
      await page.evaluate(() => window.__spikeformer!.loseDevice());
      await page.getByText(/has been recreated; carrying on/).waitFor({ timeout: 30_000 });
      await expect.poll(() => page.evaluate(() => window.__spikeformer!.state().recoveries), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => framesDone(page), { timeout: 30_000 }).toBeGreaterThan(before + 3);

      // A bad checkpoint (a Git LFS pointer): the reader's one line, and the app carries on.
      const input = page.getByTestId('checkpoint-input');
      const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 124156912\n';
      await input.setInputFiles({ name: 'broken.pth', mimeType: 'application/octet-stream', buffer: Buffer.from(pointer) });
      const alert = page.getByRole('alert').filter({ hasText: 'Could not open broken.pth' });
      await alert.waitFor({ timeout: 20_000 });
      expect((await alert.textContent())!.split('\n')).toHaveLength(1);
      expect(await alert.textContent()).toContain('broken.pth: a Git LFS pointer, not the checkpoint itself; fetch the real file (git lfs pull)');
      const afterBad = await framesDone(page);
      await expect.poll(() => framesDone(page), { timeout: 20_000 }).toBeGreaterThan(afterBad + 2);

      // A good one (safetensors, T = 1) is converted, cached and used; the cache survives a reload.
      const config = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, timeSteps: 1, depths: [1, 1], labels: 'mnist-digits' });
      await input.setInputFiles({ name: 'tiny-test.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(randomSafetensors(config, 3)) });
      const cachedList = page.getByRole('list', { name: 'Cached models' });
      await cachedList.getByText('tiny-test.safetensors').waitFor({ timeout: 30_000 });
      await page.getByText(/dims 16·32·64·96, 2 transformer blocks, 10 classes, T = 1 time step\./).waitFor({ timeout: 30_000 });
      // 4 ConvBlocks × 4 + 4 downsampling neurons + 2 transformer blocks × 7 + the head's = 35 layers.
      await expect.poll(() => page.locator('table tbody tr').count(), { timeout: 20_000 }).toBe(35);
      await page.reload();
      await page.getByRole('list', { name: 'Cached models' }).getByText('tiny-test.safetensors').waitFor({ timeout: 20_000 });
      await page.getByRole('button', { name: 'Use tiny-test.safetensors' }).click();
      await page.getByText(/2 transformer blocks, 10 classes, T = 1 time step\./).waitFor({ timeout: 20_000 });
      await page.getByRole('button', { name: 'Delete tiny-test.safetensors' }).click();
      await page.getByText('None yet: opened checkpoints are converted once and kept here.').waitFor({ timeout: 10_000 });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 150_000);

  test('without WebGPU: ONNX Runtime Web (wasm) runs, and says so; the CPU reference on ?backend=cpu and when ORT cannot start', async () => {
    const { context, page, errors } = await launch(false);
    try {
      await page.goto(`${url}?size=32`);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      // Cross-origin isolated, so ORT runs the threads of the app's rule (one per two cores, up to 4).
      const threads = wantedThreads(true, await page.evaluate(() => navigator.hardwareConcurrency));
      const name = `ONNX Runtime Web (wasm, ${threads} thread${threads === 1 ? '' : 's'})`;
      await page.getByText('WebGPU is not available').waitFor({ timeout: 60_000 });
      await expect(page.getByRole('alert').filter({ hasText: 'WebGPU is not available' }).textContent())
        .resolves.toContain(`WebGPU is not available: running ${name} at 32×32 (`);
      await expectLiveClassification(page, new RegExp(`^Backend: ${name.replace(/[()]/g, '\\$&')}$`));
      await expect(page.getByTestId('adapter-name').textContent()).resolves.toMatch(/cross-origin isolated/);
      // Counts only on this backend: the map views say what they need instead of showing maps.
      await expect(page.getByTestId('spike-map-unavailable').textContent()).resolves.toMatch(/needs the WebGPU or CPU backend/);
      await expect(page.getByTestId('attention-unavailable').textContent()).resolves.toMatch(/needs the WebGPU or CPU backend/);
      await expect(page.getByTestId('membrane-unavailable').textContent()).resolves.toMatch(/needs the WebGPU or CPU backend/);
      await page.screenshot({ path: join(RESULTS, 'app-onnx-wasm-fallback.png'), fullPage: true });

      await page.goto(`${url}?size=32&backend=cpu`);
      await page.getByText('Running the CPU reference at 32×32, as the address asks (backend=cpu).').waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Start camera' }).click();
      await expect.poll(() => page.getByRole('list', { name: 'Top predictions' }).getByRole('listitem').count(), { timeout: 45_000 }).toBe(5);
      await expect(page.getByTestId('backend-name').textContent()).resolves.toMatch(/CPU reference/);
      expect(await page.getByTestId('spike-map-unavailable').count()).toBe(0);

      // ORT cannot start (its wasm is missing): the CPU reference runs, and the message says why.
      await page.route(/ort-wasm-simd-threaded.*\.wasm/, (route) => route.fulfill({ status: 404, body: 'not here' }));
      await page.goto(`${url}?size=32`);
      const alert = page.getByRole('alert').filter({ hasText: 'WebGPU is not available' });
      await alert.waitFor({ timeout: 60_000 });
      await expect(alert.textContent()).resolves.toMatch(/^WebGPU is not available: running the CPU reference at 32×32 \(no WebGPU adapter was found; ONNX Runtime Web could not start: .+\)\.$/);
      await expect(page.getByTestId('backend-name').textContent()).resolves.toMatch(/CPU reference/);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  test('the reference checkpoint through "Open checkpoint…": the cat from the webcam, and from a file the CLI\'s top-1', async () => {
    // The CLI on the same checkpoint and picture, at the app's input size (128×128: the picture's own
    // size, so neither side resizes: the app's centred square crop is the whole picture, and --size
    // resizes 128→128 as the identity; both then normalize with the checkpoint's mean and std).
    const out = join(work, 'cli-cat');
    execFileSync(process.execPath, [join(ROOT, 'bin/spikeformer.mjs'), 'infer', '--weights', REFERENCE_PTH, '--input', CAT_PNG, '--size', '128x128', '--out', out], { stdio: 'pipe' });
    const cliTop1 = (JSON.parse(readFileSync(join(out, 'spikes.json'), 'utf8')) as { top1: number }).top1;
    const logits = Array.from(readNpy(readFileSync(join(out, 'logits.npy'))).data as Float32Array);
    const cliTop5 = logits.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 5).map(([, i]) => i);

    const { context, page, errors } = await launch(true, { video: catClip });
    try {
      await page.goto(`${url}?size=128&backend=webgpu`);
      await page.getByTestId('checkpoint-input').setInputFiles(REFERENCE_PTH);
      await page.getByText(/dims 16·32·64·96, \d+ transformer blocks?, 10 classes, T = 1 time step\./).waitFor({ timeout: 30_000 });
      await expect.poll(() => page.evaluate(() => window.__spikeformer?.state().inputSize), { timeout: 5_000 }).toBe(128);

      // The webcam playing the cat clip.
      await page.getByRole('button', { name: 'Start camera' }).click();
      const predictions = page.getByRole('list', { name: 'Top predictions' });
      await expect.poll(() => predictions.getByRole('listitem').count(), { timeout: 45_000 }).toBe(5);
      await page.getByRole('img', { name: 'Firing rate per layer' }).waitFor();
      await expect.poll(() => page.locator('table tbody tr').count(), { timeout: 10_000 }).toBe(77);
      await expect.poll(async () => parseFloat((await page.getByTestId('fps').textContent()) ?? ''), { timeout: 20_000 }).toBeGreaterThan(0);
      await page.screenshot({ path: join(RESULTS, 'app-reference-checkpoint-camera.png'), fullPage: true });

      // The picture itself, from "Open image or video…": it runs once; paused, one step runs it again.
      await page.locator('input[type=file][accept^="image/"]').setInputFiles(CAT_PNG);
      await expect.poll(() => shownSource(page), { timeout: 30_000 }).toBe('image.png');
      await page.getByRole('button', { name: 'Pause' }).click();
      const paused = await framesDone(page);
      await page.getByRole('button', { name: 'Step one frame' }).click();
      await expect.poll(() => framesDone(page), { timeout: 30_000 }).toBe(paused + 1);
      const top = predictions.getByRole('listitem').first();
      const appTop1 = Number(/^class (\d+):/.exec((await top.getAttribute('title')) ?? '')?.[1]);
      console.info(`reference checkpoint, cat at 128×128: app (${await page.getByTestId('backend-name').textContent()}) top-1 class ${appTop1}, CLI top-1 class ${cliTop1}`);
      expect(appTop1).toBe(cliTop1);
      // The same input gives the same logits: the whole top 5 agrees too.
      const titles = await predictions.getByRole('listitem').evaluateAll((items) => items.map((li) => li.getAttribute('title') ?? ''));
      expect(titles.map((t) => Number(/^class (\d+):/.exec(t)?.[1]))).toEqual(cliTop5);
      await page.screenshot({ path: join(RESULTS, 'app-reference-checkpoint-image.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  test('task heads: "all" on the webcam digits scene shows detections, the mask legend and the head neurons', async () => {
    const { context, page, errors } = await launch(true, { video: sceneClip });
    try {
      await page.goto(`${url}?backend=webgpu`);
      const tasks = page.getByRole('radiogroup', { name: 'Task' });
      await tasks.getByRole('radio', { name: 'All' }).waitFor({ timeout: 45_000 });
      expect(await tasks.getByRole('radio').count()).toBe(4);
      await tasks.getByRole('radio', { name: 'All' }).check();
      await page.getByRole('button', { name: 'Start camera' }).click();
      const detections = page.getByRole('list', { name: 'Detections' });
      await detections.waitFor({ timeout: 90_000 });
      const items = detections.getByRole('listitem');
      await expect.poll(() => items.count(), { timeout: 10_000 }).toBeGreaterThan(0);
      const texts = await items.allTextContents();
      expect(texts.some((t) => /^\s*[0-9]\s+\d+%/.test(t))).toBe(true);
      await page.getByRole('list', { name: 'Segmentation legend' }).waitFor();
      await page.getByRole('slider', { name: 'Mask opacity' }).waitFor();
      // The backbone's 77 neuron layers and the heads' 13 (FPN 6, segmentation 5, detection 2).
      await expect.poll(() => page.locator('table tbody tr').count(), { timeout: 10_000 }).toBe(90);
      expect(await page.evaluate(() => window.__spikeformer!.state().inputSize)).toBe(128);
      await page.locator('.preview').screenshot({ path: join(RESULTS, 'app-tasks-preview.png') });
      await page.screenshot({ path: join(RESULTS, 'app-tasks.png'), fullPage: true });
      // Each task on its own: only its overlay and list (screenshots test-results/app-task-*.png).
      const legend = page.getByRole('list', { name: 'Segmentation legend' });
      for (const [task, name] of [['detect', 'Detect'], ['segment', 'Segment'], ['classify', 'Classify']] as const) {
        await tasks.getByRole('radio', { name }).check();
        const framesBefore = await page.evaluate(() => window.__spikeformer!.state().frames);
        await expect.poll(() => page.evaluate(() => window.__spikeformer!.state().frames), { timeout: 60_000 }).toBeGreaterThan(framesBefore + 1);
        await expect.poll(() => detections.count(), { timeout: 30_000 }).toBe(task === 'detect' ? 1 : 0);
        await expect.poll(() => legend.count(), { timeout: 30_000 }).toBe(task === 'segment' ? 1 : 0);
        if (task === 'detect') await expect.poll(() => items.count(), { timeout: 10_000 }).toBeGreaterThan(0);
        await page.locator('.preview').screenshot({ path: join(RESULTS, `app-task-${task}-preview.png`) });
        await page.screenshot({ path: join(RESULTS, `app-task-${task}.png`), fullPage: true });
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);

  test('task heads on ONNX Runtime Web (wasm): ?task=all gives detections and the mask legend too', async () => {
    const { context, page, errors } = await launch(false, { video: sceneClip });
    try {
      await page.goto(`${url}?backend=onnx-wasm&task=all`);
      await expect.poll(() => page.getByTestId('backend-name').textContent().catch(() => ''), { timeout: 60_000 }).toMatch(/ONNX Runtime Web/);
      await page.getByRole('button', { name: 'Start camera' }).click();
      const detections = page.getByRole('list', { name: 'Detections' });
      await detections.waitFor({ timeout: 90_000 });
      expect(await detections.getByRole('listitem').count()).toBeGreaterThan(0);
      await page.getByRole('list', { name: 'Segmentation legend' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 150_000);

  test('camera denied: the page says so, and samples and files still give predictions', async () => {
    const { context, page, errors } = await launch(false, { camera: 'deny' });
    try {
      await page.goto(`${url}?size=32&backend=cpu`);
      await page.getByText('Running the CPU reference at 32×32').waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Start camera' }).click();
      await page.getByRole('alert').filter({ hasText: 'Camera access was denied.' }).waitFor({ timeout: 20_000 });
      expect(await framesDone(page)).toBe(0);
      await page.screenshot({ path: join(RESULTS, 'app-camera-denied.png'), fullPage: true });

      const predictions = page.getByRole('list', { name: 'Top predictions' });
      await page.getByRole('button', { name: /^Sample: / }).first().click();
      await expect.poll(() => predictions.getByRole('listitem').count(), { timeout: 30_000 }).toBe(5);
      expect(await framesDone(page)).toBeGreaterThan(0);
      const picture = CAT_PNG;
      await page.locator('input[type=file][accept^="image/"]').setInputFiles(picture);
      await expect.poll(() => shownSource(page), { timeout: 30_000 }).toBe(basename(picture));
      await expect.poll(() => predictions.getByRole('listitem').count(), { timeout: 10_000 }).toBe(5);
      await page.screenshot({ path: join(RESULTS, 'app-camera-denied-file.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  test('the last choice wins: a sample while the camera starts, a checkpoint dropped while another converts', async () => {
    const { context, page, errors } = await launch(false);
    try {
      // The camera is granted only when the test says so: the sample is chosen while it starts.
      await page.addInitScript(() => {
        const media = navigator.mediaDevices;
        const original = media.getUserMedia.bind(media);
        let grant!: () => void;
        const granted = new Promise<void>((resolve) => (grant = resolve));
        const camera = { grant: () => grant(), streams: [] as MediaStream[] };
        (window as unknown as { __camera: typeof camera }).__camera = camera;
        media.getUserMedia = async (constraints) => {
          const stream = await original(constraints);
          camera.streams.push(stream);
          await granted;
          return stream;
        };
      });
      await page.goto(`${url}?size=32&backend=cpu`);
      await page.getByText('Running the CPU reference at 32×32').waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Start camera' }).click();
      await page.getByRole('button', { name: 'Starting camera…' }).waitFor();
      await page.getByRole('button', { name: 'Sample: Handwritten 7' }).click();
      await expect.poll(() => shownSource(page), { timeout: 30_000 }).toBe('Handwritten 7');
      await page.getByRole('button', { name: 'Start camera' }).waitFor();
      await page.evaluate(() => (window as unknown as { __camera: { grant(): void } }).__camera.grant());
      // The late camera is stopped, and the sample stays the source.
      const cameraStopped = () => page.evaluate(() => {
        const { streams } = (window as unknown as { __camera: { streams: MediaStream[] } }).__camera;
        return streams.length > 0 && streams.every((s) => s.getVideoTracks().every((t) => t.readyState === 'ended'));
      });
      await expect.poll(cameraStopped, { timeout: 20_000 }).toBe(true);
      expect(await shownSource(page)).toBe('Handwritten 7');
      expect(await page.getByRole('button', { name: 'Stop camera' }).count()).toBe(0);
      await expect(page.getByRole('img', { name: 'Input picture: Handwritten 7' }).isVisible()).resolves.toBe(true);
      await page.screenshot({ path: join(RESULTS, 'app-last-choice-sample.png'), fullPage: true });

      // A checkpoint chosen, and a second dropped on the page while the first converts: the second runs.
      // The first is large (the 15M architecture, 59 MB) so that it converts long after the second is read.
      const modelRequests = () => page.evaluate(() => window.__spikeformer!.state().modelRequests);
      const modelId = () => page.evaluate(() => window.__spikeformer!.state().model);
      await expect.poll(modelRequests, { timeout: 30_000 }).toBe(0);
      const large = join(work, 'large.safetensors');
      writeFileSync(large, randomSafetensors(defaultConfig({ embedDims: [64, 128, 256, 360], numClasses: 10 }), 5));
      const small = defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, timeSteps: 1, depths: [1, 1], labels: 'mnist-digits' });
      const dropSecond = await fileToDrop(page, 'second.safetensors', randomSafetensors(small, 4));
      const input = page.getByTestId('checkpoint-input');
      await input.setInputFiles(large);
      await page.getByRole('status').filter({ hasText: 'large.safetensors' }).waitFor({ timeout: 10_000 });
      await dropSecond();
      await expect.poll(modelRequests, { timeout: 60_000 }).toBe(0);
      await page.getByText(/dims 16·32·64·96, 2 transformer blocks, 10 classes, T = 1 time step\./).waitFor({ timeout: 20_000 });
      expect(await modelId()).toMatch(/second/);
      expect(await page.getByRole('status').count()).toBe(0);
      expect(await page.getByRole('list', { name: 'Cached models' }).getByText('large.safetensors').count()).toBe(0);

      // A bad file while a good one converts: the bad one's error stays, and the model before still runs.
      await input.setInputFiles(large);
      await page.getByRole('status').filter({ hasText: 'large.safetensors' }).waitFor({ timeout: 10_000 });
      const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 124156912\n';
      await input.setInputFiles({ name: 'broken.pth', mimeType: 'application/octet-stream', buffer: Buffer.from(pointer) });
      await expect.poll(modelRequests, { timeout: 60_000 }).toBe(0);
      await page.getByRole('alert').filter({ hasText: 'Could not open broken.pth' }).waitFor({ timeout: 20_000 });
      expect(await modelId()).toMatch(/second/);
      expect(await page.getByRole('status').count()).toBe(0);
      await page.screenshot({ path: join(RESULTS, 'app-last-choice-checkpoints.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 150_000);

  test('the built app serves ONNX Runtime\'s wasm files and runs them on threads', async () => {
    const outDir = join(work, 'dist');
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
    const server = await preview({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
    const { context, page, errors } = await launch(false);
    try {
      await page.goto(`${server.resolvedUrls!.local[0]}?size=32&model=random`);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      const threads = wantedThreads(true, await page.evaluate(() => navigator.hardwareConcurrency));
      await expect.poll(() => page.getByTestId('backend-name').textContent().catch(() => ''), { timeout: 60_000 })
        .toBe(`Backend: ONNX Runtime Web (wasm, ${threads} thread${threads === 1 ? '' : 's'})`);
      await page.getByRole('button', { name: /^Sample: / }).first().click();
      await expect.poll(() => page.getByRole('list', { name: 'Top predictions' }).getByRole('listitem').count(), { timeout: 45_000 }).toBe(5);
      expect(await framesDone(page)).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await server.close();
    }
  }, 120_000);

  test('event-driven vs dense, live: both frame times, identical spikes; the raster and the rate history draw; other backends say why not', async () => {
    const { context, page, errors } = await launch(true);
    /** Pixels of the spike colour, and distinct colours, on a canvas. */
    const colours = (testId: string) => page.getByTestId(testId).evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      let spike = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] === 0x5e && d[i + 1] === 0xea && d[i + 2] === 0xd4) spike++;
        seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      }
      return { spike, distinct: seen.size };
    });
    const msOf = async (testId: string) => parseFloat(((await page.getByTestId(testId).textContent()) ?? '').replace(/[^\d.]/g, '') || 'NaN');
    try {
      await page.goto(`${url}?size=32&backend=webgpu`);
      await page.getByRole('button', { name: 'Start camera' }).click();
      await page.getByRole('list', { name: 'Top predictions' }).waitFor({ timeout: 45_000 });

      // The raster of the chosen layer and every layer's rate history fill frame after frame.
      const raster = page.getByRole('img', { name: /^Spike raster of ConvBlock1_1\.0\.Conv\.lif1: 48 neurons over the last \d+ frames/ });
      await expect.poll(async () => Number(await raster.getAttribute('data-frames')), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
      expect(Number(await raster.getAttribute('data-spikes'))).toBeGreaterThan(0);
      expect((await colours('spike-raster')).spike).toBeGreaterThan(0);
      const strip = page.getByRole('img', { name: /^Firing rate of 77 layers over the last \d+ frames/ });
      await expect.poll(async () => Number(await strip.getAttribute('data-frames')), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      expect((await colours('activity-strip')).distinct).toBeGreaterThan(10);

      // The same frames through the dense kernels: both times, the same spikes, how they were timed.
      await page.getByRole('button', { name: 'Compare with dense kernels' }).click();
      await expect(page.getByRole('button', { name: /^Compare with dense kernels/ }).getAttribute('aria-pressed')).resolves.toBe('true');
      await expect.poll(() => msOf('dense-ms'), { timeout: 90_000 }).toBeGreaterThan(0);
      expect(await msOf('spike-ms')).toBeGreaterThan(0);
      await expect(page.getByTestId('spike-check').textContent()).resolves.toBe('identical: the same count in all 77 layers, every time step');
      const timing = (await page.getByTestId('compare-timing').textContent())!;
      expect(timing).toMatch(/^(GPU time from timestamp queries|Wall time of each run)/);
      if (timing.startsWith('GPU time')) {
        await expect(page.getByRole('img', { name: /^Speed-up per layer against its input firing rate: \d+ spike-driven layers$/ }).getAttribute('aria-label'))
          .resolves.not.toMatch(/: 0 spike-driven/);
      }
      await page.getByText(/The dense pass runs on one frame in \d+/).waitFor();
      // Frames go on while comparing.
      const before = await framesDone(page);
      await expect.poll(() => framesDone(page), { timeout: 60_000 }).toBeGreaterThan(before + 2);
      await page.getByRole('heading', { name: 'Event-driven vs dense, on your GPU' }).scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(RESULTS, 'app-compare.png'), fullPage: true });

      // ONNX Runtime: counts only, so no raster and no comparison (each says why); the rate history still draws.
      await page.goto(`${url}?size=32&backend=onnx-wasm`);
      await page.getByRole('button', { name: 'Start camera' }).click();
      await expect(page.getByTestId('compare-unavailable').textContent()).resolves.toMatch(/^ONNX Runtime Web .* runs one compiled model: there is no event-driven and dense pair to time\. The comparison needs the WebGPU backend\.$/);
      await expect(page.getByTestId('raster-unavailable').textContent()).resolves.toMatch(/^The raster needs the WebGPU or CPU backend/);
      await expect.poll(async () => Number(await page.getByTestId('activity-strip').getAttribute('data-frames')), { timeout: 45_000 }).toBeGreaterThanOrEqual(1);
      // The CPU reference: one way of computing, no comparison either.
      await page.goto(`${url}?size=32&backend=cpu`);
      await expect(page.getByTestId('compare-unavailable').textContent()).resolves.toMatch(/^The CPU reference computes every neuron in JavaScript/);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 240_000);

  /** Clicks "Download this frame" and returns the zip's files. */
  async function downloadFrame(page: Page, name: string): Promise<Record<string, Uint8Array>> {
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      page.getByRole('button', { name: 'Download this frame' }).click(),
    ]);
    const path = join(work, name);
    await download.saveAs(path);
    return unzipSync(readFileSync(path));
  }

  test('Download this frame (WebGPU): the zip holds what `spikeformer infer --dump-spikes` writes for its input.npy; space and → pause and step', async () => {
    const { context, page, errors } = await launch(true);
    try {
      await page.goto(`${url}?backend=webgpu`);
      await page.getByText('Digits (tiny, trained)', { exact: true }).waitFor({ timeout: 45_000 });
      await page.getByRole('button', { name: 'Sample: Handwritten 3' }).click();
      const predictions = page.getByRole('list', { name: 'Top predictions' });
      await expect.poll(() => predictions.getByRole('listitem').count(), { timeout: 45_000 }).toBe(5);

      // Keys on the page (not in a control): space pauses and resumes, → steps one frame.
      await page.locator('h1').click();
      await page.keyboard.press('Space');
      await page.getByRole('button', { name: 'Resume' }).waitFor();
      const paused = await framesDone(page);
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => framesDone(page), { timeout: 20_000 }).toBe(paused + 1);

      const files = await downloadFrame(page, 'frame-webgpu.zip');
      const names = Object.keys(files);
      for (const f of ['README.txt', 'input.png', 'input.npy', 'logits.npy', 'spikes.json', 'spikes.bin', 'views/firing-rate-per-layer.png']) expect(names).toContain(f);
      expect(names.some((n) => n.startsWith('views/spike-map-of-convblock1-1-0-conv-lif1'))).toBe(true);
      const png = PNG.sync.read(Buffer.from(files['input.png']));
      expect([png.width, png.height]).toEqual([64, 64]);
      const chart = PNG.sync.read(Buffer.from(files['views/firing-rate-per-layer.png']));
      expect(chart.width).toBeGreaterThan(200);

      // The CLI on the zip's own input.npy, same model, WebGPU (Dawn in Node on SwiftShader).
      const dir = join(work, 'frame-webgpu');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'input.npy'), files['input.npy']);
      execFileSync(process.execPath, [join(ROOT, 'bin/spikeformer.mjs'), 'infer', '--weights', join(ROOT, 'public/models/digits-tiny.safetensors'),
        '--input', join(dir, 'input.npy'), '--out', join(dir, 'cli'), '--dump-spikes', '--backend', 'webgpu'], { stdio: 'pipe' });
      const cli = (f: string) => readFileSync(join(dir, 'cli', f));
      expect(Buffer.from(files['spikes.bin']).equals(cli('spikes.bin'))).toBe(true);
      const appJson = JSON.parse(new TextDecoder().decode(files['spikes.json'])) as Record<string, unknown>;
      const cliJson = JSON.parse(cli('spikes.json').toString('utf8')) as Record<string, unknown>;
      expect(appJson.backend).toMatch(/^WebGPU/);
      expect({ ...appJson, backend: null }).toEqual({ ...cliJson, backend: null });
      const appLogits = readNpy(files['logits.npy']).data as Float32Array;
      const cliLogits = readNpy(cli('logits.npy')).data as Float32Array;
      expect(appLogits.length).toBe(11); // the built-in model: the digits and 'no digit'
      let worst = 0;
      appLogits.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - cliLogits[i]))));
      console.info(`download vs infer (webgpu): spikes.bin byte-equal, logits ${Buffer.from(files['logits.npy']).equals(cli('logits.npy')) ? 'bit-equal' : `within ${worst}`}`);
      expect(worst).toBeLessThanOrEqual(1e-5);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 150_000);

  test('Download this frame on ONNX Runtime Web: counts only, so no spikes.bin, and the page says so', async () => {
    const { context, page, errors } = await launch(false);
    try {
      await page.goto(`${url}?backend=onnx-wasm&size=32`);
      await expect.poll(() => page.getByTestId('frame-download-note').textContent(), { timeout: 60_000 })
        .toMatch(/^ONNX Runtime Web .*: this backend returns per-layer spike counts only: the zip has spikes\.json with the counts but no spikes\.bin/);
      await page.getByRole('button', { name: 'Sample: Handwritten 3' }).click();
      await expect.poll(() => page.getByRole('list', { name: 'Top predictions' }).getByRole('listitem').count(), { timeout: 45_000 }).toBe(5);
      const files = await downloadFrame(page, 'frame-onnx.zip');
      expect(files['spikes.bin']).toBeUndefined();
      expect(files['input.npy']).toBeDefined();
      expect((JSON.parse(new TextDecoder().decode(files['spikes.json'])) as { layers: unknown[] }).layers).toHaveLength(77);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  test('links restore the view; the layer picker without a mouse; Load from URL (good, 404, no CORS, not a checkpoint, resumed, cancelled)', async () => {
    const checkpoint = randomSafetensors(defaultConfig({ embedDims: [16, 32, 64, 96], numClasses: 10, timeSteps: 1, depths: [1, 1], labels: 'mnist-digits' }), 6);
    const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'content-range, content-length, etag, accept-ranges' };
    const requests: { path: string; range?: string }[] = [];
    const held = new Set<ServerResponse>();
    let truncatedOnce = true;
    // Another origin than the page's (another port), so CORS applies.
    const files = createHttpServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      requests.push({ path, range: req.headers.range });
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...cors, 'access-control-allow-headers': 'range, if-range', 'access-control-allow-methods': 'GET' });
        return res.end();
      }
      const serve = (withCors: boolean, breakAt?: number) => {
        const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        const start = range ? Number(range[1]) : 0;
        const body = checkpoint.subarray(start);
        res.writeHead(start ? 206 : 200, {
          ...(withCors ? cors : {}), 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'accept-ranges': 'bytes', etag: '"c6"',
          // A fresh connection each time: Chromium silently retries a request whose reused connection fails.
          connection: 'close',
          ...(start ? { 'content-range': `bytes ${start}-${checkpoint.length - 1}/${checkpoint.length}` } : {}),
        });
        // Half the body, then (a second later, so that the page has read that half: Chromium drops what
        // it has not handed over when a body fails) the connection closes.
        if (breakAt !== undefined) res.write(body.subarray(0, breakAt), () => setTimeout(() => res.socket?.end(), 1000));
        else res.end(body);
      };
      if (path === '/good.safetensors') return serve(true);
      if (path === '/nocors.safetensors') return serve(false);
      if (path === '/truncated.safetensors') {
        const first = truncatedOnce;
        truncatedOnce = false;
        return serve(true, first ? checkpoint.length >> 1 : undefined);
      }
      if (path === '/junk.safetensors') {
        res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream' });
        return res.end(Buffer.alloc(5000, 7));
      }
      if (path === '/slow.safetensors') {
        res.writeHead(200, { ...cors, 'content-length': String(checkpoint.length) });
        res.write(checkpoint.subarray(0, 1000));
        held.add(res);
        return;
      }
      res.writeHead(404, cors);
      res.end('not here');
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    // Bounded: it stops itself even if the test does not get to.
    const stop = setTimeout(() => files.close(), 240_000);
    stop.unref();
    const base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    const { context, page, errors } = await launch(false);
    const layerParam = () => new URL(page.url()).searchParams.get('layer');
    const modelId = () => page.evaluate(() => window.__spikeformer!.state().model);
    const loadUrl = async (path: string) => {
      await page.getByLabel('Checkpoint URL').fill(`${base}${path}`);
      await page.getByRole('button', { name: 'Load from URL' }).click();
    };
    const alertFor = (text: string) => page.getByRole('alert').filter({ hasText: text });
    try {
      // A link: layer, channel and time step come back.
      await page.goto(`${url}?backend=cpu&size=32&layer=ConvBlock2_1.0.Conv.lif1&channel=3&t=1`);
      await page.getByText('Digits (tiny, trained)', { exact: true }).waitFor({ timeout: 45_000 });
      // The spike map's layer menu (the first menu of its panel).
      const layer = page.locator('section', { has: page.locator('#spikemap-heading') }).getByRole('combobox').first();
      await expect.poll(() => layer.inputValue(), { timeout: 20_000 }).toBe('ConvBlock2_1.0.Conv.lif1');
      await expect(page.locator('section', { has: page.locator('#spikemap-heading') }).locator('input[type=number]').inputValue()).resolves.toBe('3');
      await expect(page.getByRole('slider', { name: /^Time step/ }).inputValue()).resolves.toBe('1');
      await page.getByRole('button', { name: 'Sample: Handwritten 7' }).click();
      await expect.poll(() => page.getByRole('list', { name: 'Top predictions' }).getByRole('listitem').count(), { timeout: 45_000 }).toBe(5);

      // The layer picker from the keyboard: the menu, then the firing-rate chart's arrow keys; the address follows.
      await layer.focus();
      await page.keyboard.press('ArrowDown');
      await expect.poll(layerParam, { timeout: 10_000 }).not.toBe('ConvBlock2_1.0.Conv.lif1');
      const fromMenu = await layer.inputValue();
      expect(layerParam()).toBe(fromMenu);
      await page.getByRole('img', { name: 'Firing rate per layer' }).focus();
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => layer.inputValue(), { timeout: 10_000 }).not.toBe(fromMenu);
      const fromChart = await layer.inputValue();
      await expect.poll(layerParam).toBe(fromChart);
      expect(new URL(page.url()).searchParams.get('t')).toBe('1');
      await page.reload();
      await expect.poll(() => layer.inputValue(), { timeout: 45_000 }).toBe(fromChart);

      // Load from URL: a good file is downloaded, converted, kept, and named in the address.
      await loadUrl('/good.safetensors');
      await page.getByText(/dims 16·32·64·96, 2 transformer blocks, 10 classes, T = 1 time step\./).waitFor({ timeout: 60_000 });
      await page.getByRole('list', { name: 'Cached models' }).getByText('good.safetensors').waitFor({ timeout: 10_000 });
      await expect.poll(() => new URL(page.url()).searchParams.get('model')).toBe(`${base}/good.safetensors`);
      const good = await modelId();
      expect(good).toMatch(/^cache:/);

      // What goes wrong is one line, and the model before runs on.
      const oneLine = async (text: string) => {
        await alertFor(text).waitFor({ timeout: 30_000 });
        expect((await alertFor(text).textContent())!.split('\n')).toHaveLength(1);
        expect(await modelId()).toBe(good);
      };
      await loadUrl('/missing.safetensors');
      await oneLine(`Could not load ${base}/missing.safetensors: the server answered HTTP 404 Not Found`);
      await loadUrl('/nocors.safetensors');
      await oneLine(`Could not load ${base}/nocors.safetensors: the server could not be reached, or it does not let this page read the file (no CORS headers)`);
      await loadUrl('/junk.safetensors');
      await oneLine('Could not load junk.safetensors: ');
      // …and runs frames.
      await page.getByRole('button', { name: 'Sample: Handwritten 7' }).click();
      await expect.poll(() => framesDone(page), { timeout: 30_000 }).toBeGreaterThan(0);

      // A body that breaks off half way is resumed with a Range request.
      await loadUrl('/truncated.safetensors');
      await page.getByRole('list', { name: 'Cached models' }).getByText('truncated.safetensors').waitFor({ timeout: 60_000 });
      await expect.poll(modelId, { timeout: 30_000 }).not.toBe(good);
      expect(requests.filter((r) => r.path === '/truncated.safetensors').map((r) => r.range)).toContain(`bytes=${checkpoint.length >> 1}-`);
      const resumed = await modelId();

      // A slow server: the progress bar, and Cancel stops it; the model before runs on.
      await loadUrl('/slow.safetensors');
      await page.getByRole('status').filter({ hasText: 'slow.safetensors: downloading' }).waitFor({ timeout: 10_000 });
      await page.getByRole('button', { name: 'Cancel download' }).click();
      await expect.poll(() => page.getByRole('status').count(), { timeout: 10_000 }).toBe(0);
      expect(await modelId()).toBe(resumed);
      expect(await page.getByRole('alert').filter({ hasText: 'slow.safetensors' }).count()).toBe(0);
      await page.screenshot({ path: join(RESULTS, 'app-load-from-url.png'), fullPage: true });

      // A link naming a model URL loads it.
      await page.goto(`${url}?backend=cpu&size=32&model=${encodeURIComponent(`${base}/good.safetensors`)}&task=classify`);
      await page.getByText(/dims 16·32·64·96, 2 transformer blocks, 10 classes, T = 1 time step\./).waitFor({ timeout: 60_000 });
      expect(await page.getByText('good.safetensors', { exact: true }).count()).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      clearTimeout(stop);
      for (const r of held) r.destroy();
      files.closeAllConnections();
      await new Promise((resolve) => files.close(resolve));
    }
  }, 240_000);

  test('works offline after the first visit: the service worker keeps the app and the built-in model', async () => {
    const { context, page, errors } = await launch(true, { serviceWorkers: 'allow' });
    try {
      await page.goto(`${url}?size=32`);
      await page.getByText('Digits (tiny, trained)', { exact: true }).waitFor({ timeout: 45_000 });
      await expect.poll(() => page.evaluate(() => window.__spikeformerOffline ?? ''), { timeout: 150_000 }).toMatch(/^kept \d+ files$/);
      console.info(`offline: ${await page.evaluate(() => window.__spikeformerOffline)}`);

      await context.setOffline(true);
      await page.reload();
      // The kept page keeps its COOP/COEP headers: still cross-origin isolated.
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      await page.getByText('Digits (tiny, trained)', { exact: true }).waitFor({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Sample: Handwritten 3' }).click();
      await expect.poll(() => page.getByRole('list', { name: 'Top predictions' }).getByRole('listitem').count(), { timeout: 45_000 }).toBe(5);
      // The network really is off: what was never kept cannot be fetched.
      expect(await page.evaluate(() => fetch(`/not-kept-${Date.now()}.txt`).then(() => 'online', () => 'offline'))).toBe('offline');
      await page.screenshot({ path: join(RESULTS, 'app-offline.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 240_000);
});
