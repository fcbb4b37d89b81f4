/**
 * "Load from URL" (issue #22 point 4): the download logic against a local HTTP server on 127.0.0.1
 * started here (it stops with the tests): a good file, a 404, a web page, a body that breaks off
 * (resumed with a Range request; started again where the server ignores ranges; given up where it
 * never finishes), a slow server cancelled. A server without CORS headers cannot be told apart in
 * Node (which has no CORS), so that case injects the browser's failure: a fetch that rejects with
 * TypeError. Then the model library: the download feeds the worker's conversion, its progress can be
 * cancelled, and an address's model that cannot be loaded leaves its error and the built-in model.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TINY_CONFIG } from '../../src/app/engine/builtinModel.ts';
import type { ModelWorker, RequestOptions, WorkerModel } from '../../src/app/engine/modelWorkerClient.ts';
import type { AppModel } from '../../src/app/engine/types.ts';
import { downloadModel, fileNameOfUrl, modelUrl, type DownloadOptions } from '../../src/app/logic/modelDownload.ts';
import { ModelLibrary, type KeptModels } from '../../src/app/logic/modelLibrary.ts';

const FILE = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251);
const ETAG = '"v1"';

interface Seen {
  path: string;
  range?: string;
  ifRange?: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
/** Responses held by the slow route, ended when the tests end. */
const slow = new Set<ServerResponse>();
let brokenOnce = 0;

function send(res: ServerResponse, req: IncomingMessage, { ranges, breakAt }: { ranges: boolean; breakAt?: number }): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = ranges && range && (!req.headers['if-range'] || req.headers['if-range'] === ETAG) ? Number(range[1]) : 0;
  const body = FILE.subarray(start);
  res.writeHead(start > 0 ? 206 : 200, {
    'content-type': 'application/octet-stream',
    'content-length': String(body.length),
    ...(ranges ? { 'accept-ranges': 'bytes', etag: ETAG } : {}),
    ...(start > 0 ? { 'content-range': `bytes ${start}-${FILE.length - 1}/${FILE.length}` } : {}),
  });
  if (breakAt !== undefined) {
    // Half the body, then the connection is closed (FIN, so the half arrives): fewer bytes than Content-Length.
    res.write(body.subarray(0, breakAt), () => res.socket?.end());
    return;
  }
  res.end(body);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ path, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined });
    if (path === '/good.safetensors') return send(res, req, { ranges: true });
    if (path === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<!doctype html><p>not a checkpoint</p>');
    }
    // Breaks off once, then serves ranges.
    if (path === '/truncated.safetensors') return send(res, req, brokenOnce++ === 0 ? { ranges: true, breakAt: 80_000 } : { ranges: true });
    // Breaks off once; ignores Range (always 200, the whole file).
    if (path === '/no-ranges.safetensors') return send(res, req, seen.filter((s) => s.path === path).length === 1 ? { ranges: false, breakAt: 50_000 } : { ranges: false });
    // Never gets past the middle.
    if (path === '/always-broken.safetensors') return send(res, req, { ranges: true, breakAt: 10_000 });
    if (path === '/slow.safetensors') {
      res.writeHead(200, { 'content-length': String(FILE.length) });
      res.write(FILE.subarray(0, 1000));
      slow.add(res);
      return;
    }
    res.writeHead(404, 'Not Found');
    res.end('no such file');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of slow) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The blob holds exactly FILE (compared as buffers: a deep equal of 200,000 numbers is slow). */
async function sameBytes(blob: Blob): Promise<boolean> {
  return Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(FILE));
}

function recorded(): { options: DownloadOptions; reports: [number, number | null][] } {
  const reports: [number, number | null][] = [];
  return { options: { progress: (done, total) => reports.push([done, total]) }, reports };
}

describe('downloading a checkpoint from a URL', () => {
  test('a good file: every byte, with progress up to its size', async () => {
    const { options, reports } = recorded();
    const { blob, resumes } = await downloadModel(`${base}/good.safetensors`, options);
    expect(await sameBytes(blob)).toBe(true);
    expect(resumes).toBe(0);
    expect(reports.at(-1)).toEqual([FILE.length, FILE.length]);
    expect(reports.every(([done], i) => i === 0 || done >= reports[i - 1][0])).toBe(true);
  });

  test('a 404, a web page, a wrong address: one line naming it', async () => {
    await expect(downloadModel(`${base}/missing.pth`)).rejects.toThrow(`${base}/missing.pth: the server answered HTTP 404 Not Found`);
    await expect(downloadModel(`${base}/page.html`)).rejects.toThrow('the server sent a web page, not a checkpoint');
    await expect(downloadModel('not a url')).rejects.toThrow('"not a url" is not a web address');
    await expect(downloadModel('ftp://example.org/m.pth')).rejects.toThrow('only http:// and https:// addresses can be loaded');
  });

  test('a server without CORS headers (the browser\'s fetch rejects with TypeError): one line saying so', async () => {
    const fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    const e = (await downloadModel(`${base}/good.safetensors`, { fetch }).catch((x: Error) => x)) as Error;
    expect(e.message).toBe(`${base}/good.safetensors: the server could not be reached, or it does not let this page read the file (no CORS headers)`);
    expect(e.message.split('\n')).toHaveLength(1);
  });

  test('a body that breaks off is resumed from where it stopped (Range, If-Range) and ends whole', async () => {
    const { options, reports } = recorded();
    const { blob, resumes } = await downloadModel(`${base}/truncated.safetensors`, options);
    expect(await sameBytes(blob)).toBe(true);
    expect(resumes).toBe(1);
    const requests = seen.filter((s) => s.path === '/truncated.safetensors');
    expect(requests).toHaveLength(2);
    expect(requests[0].range).toBeUndefined();
    expect(requests[1]).toMatchObject({ range: 'bytes=80000-', ifRange: ETAG });
    // Progress never goes back: the resumed bytes carry on from 80,000.
    expect(reports.some(([done]) => done === 80_000)).toBe(true);
    expect(reports.every(([done], i) => i === 0 || done >= reports[i - 1][0])).toBe(true);
  });

  test('a server that ignores ranges: the download starts again and ends whole', async () => {
    const { blob, resumes } = await downloadModel(`${base}/no-ranges.safetensors`);
    expect(await sameBytes(blob)).toBe(true);
    expect(resumes).toBe(1);
  });

  test('a body that never finishes: resumed a few times, then one line', async () => {
    await expect(downloadModel(`${base}/always-broken.safetensors`, { maxResumes: 2 }))
      .rejects.toThrow(/always-broken\.safetensors: the download broke off after 30,000 of 200,000 bytes \(tried to resume 2 times\)$/);
  });

  test('a slow server, cancelled: the download stops with an AbortError', async () => {
    const controller = new AbortController();
    const { options, reports } = recorded();
    const done = downloadModel(`${base}/slow.safetensors`, { ...options, signal: controller.signal });
    // Cancelled once the first bytes have arrived (the server sends no more).
    await expect.poll(() => reports.some(([n]) => n > 0)).toBe(true);
    controller.abort();
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
  });

  test('file names and addresses', () => {
    expect(fileNameOfUrl('https://example.org/models/tiny%20one.safetensors?x=1')).toBe('tiny one.safetensors');
    expect(fileNameOfUrl('https://example.org/')).toBe('example.org');
    expect(modelUrl(' https://example.org/a.pth ').href).toBe('https://example.org/a.pth');
  });
});

class FakeWorker implements ModelWorker {
  readonly blobs: Blob[] = [];
  inFlight = 0;
  async request(msg: Parameters<ModelWorker['request']>[0], options: RequestOptions = {}): Promise<WorkerModel> {
    if (msg.type !== 'convert') throw new Error(`unexpected ${msg.type}`);
    this.blobs.push(msg.file);
    options.progress?.('reading checkpoint', 0.5);
    if ((await msg.file.text()).startsWith('<')) throw new Error(`${msg.name}: not a checkpoint`);
    return { config: TINY_CONFIG, weights: new Map(), classNames: ['a', 'b'], entry: { id: 'e1', name: msg.name, bytes: msg.file.size, addedAt: 1, summary: { embedDims: TINY_CONFIG.embedDims, numClasses: 10, timeSteps: 2, kd: false, labels: null } }, cached: true };
  }
}

class FakeStore implements KeptModels {
  available = true;
  entries: KeptModels extends { list(): Promise<infer E> } ? E : never = [];
  async list() { return this.entries; }
  async add(e: (typeof this.entries)[number]) { this.entries = [e]; return this.entries; }
  async file(): Promise<Blob> { throw new Error('unused'); }
  async remove() { return this.entries; }
}

const builtin: AppModel = { id: 'builtin:test', name: 'Built-in', config: TINY_CONFIG, weights: new Map(), trained: true };

describe('the model library loads a URL', () => {
  test('downloaded, converted in the worker, kept; the model remembers its address and class names', async () => {
    const worker = new FakeWorker();
    const lib = new ModelLibrary({ worker, store: new FakeStore(), builtin: async () => ({ model: builtin, note: null }) });
    const phases: string[] = [];
    lib.subscribe(() => {
      const p = lib.getState().progress;
      if (p && p.cancellable) phases.push(p.phase);
    });
    await lib.openUrl(`${base}/good.safetensors`);
    expect(lib.getState()).toMatchObject({ error: null, progress: null, model: { name: 'good.safetensors', url: `${base}/good.safetensors`, classNames: ['a', 'b'], id: 'cache:e1' } });
    expect(lib.getState().cached.map((e) => e.name)).toEqual(['good.safetensors']);
    expect(await sameBytes(worker.blobs[0])).toBe(true);
    expect(phases).toContain('downloading');
    expect(phases).toContain('reading checkpoint');
  });

  test('a 404, or a file that is not a checkpoint: one line, and the model before still runs', async () => {
    const lib = new ModelLibrary({ worker: new FakeWorker(), store: new FakeStore(), builtin: async () => ({ model: builtin, note: null }) });
    await lib.useBuiltin(false);
    await lib.openUrl(`${base}/nothing.pth`);
    expect(lib.getState()).toMatchObject({ model: builtin, progress: null, error: `Could not load ${base}/nothing.pth: the server answered HTTP 404 Not Found` });
    const page = new ModelLibrary({
      worker: new FakeWorker(), store: new FakeStore(), builtin: async () => ({ model: builtin, note: null }),
      download: async () => ({ blob: new Blob(['<html>']), resumes: 0 }),
    });
    await page.openUrl('https://example.org/x.pth');
    expect(page.getState().error).toBe('Could not load x.pth: not a checkpoint');
  });

  test('cancelled while it downloads: no error, no progress, the model before runs', async () => {
    const lib = new ModelLibrary({ worker: new FakeWorker(), store: new FakeStore(), builtin: async () => ({ model: builtin, note: null }) });
    await lib.useBuiltin(false);
    const done = lib.openUrl(`${base}/slow.safetensors`);
    await expect.poll(() => lib.getState().progress?.cancellable).toBe(true);
    lib.cancel();
    await done;
    expect(lib.getState()).toMatchObject({ model: builtin, progress: null, error: null });
  });

  test('an address naming a model that cannot be loaded: its error stays, and the built-in model runs', async () => {
    const lib = new ModelLibrary({ worker: new FakeWorker(), store: new FakeStore(), builtin: async () => ({ model: builtin, note: null }) });
    lib.start(false, `${base}/gone.safetensors`);
    await expect.poll(() => lib.getState().model).toBe(builtin);
    expect(lib.getState().error).toBe(`Could not load ${base}/gone.safetensors: the server answered HTTP 404 Not Found`);
  });
});
