/**
 * "Load from URL": a checkpoint streamed from a web address, with progress and cancel. A body that
 * breaks off (the connection drops, fewer bytes than Content-Length) is resumed from where it
 * stopped with a Range request (`bytes=N-`, with `If-Range` when the server gave an ETag or
 * Last-Modified), where the server allows it: a 206 answer carries on, a 200 answer (ranges not
 * supported, or the file changed) starts again from the first byte. Everything that goes wrong is
 * one line naming the address. Plain TypeScript: `fetch` is injected (Node tests use a local server).
 */
import { isAbort } from './errors.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface DownloadOptions {
  fetch?: FetchLike;
  signal?: AbortSignal;
  /** Bytes received so far, and the file's size when the server said it. */
  progress?(received: number, total: number | null): void;
  /** How many times a broken body is resumed before giving up (default 3). */
  maxResumes?: number;
}

export interface DownloadResult {
  blob: Blob;
  /** Times the body broke off and was resumed with a Range request (or started again). */
  resumes: number;
}

export class ModelDownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelDownloadError';
  }
}

/** The address as an absolute http(s) URL, or a one-line error. */
export function modelUrl(text: string, base?: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim(), base);
  } catch {
    throw new ModelDownloadError(`"${text}" is not a web address`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ModelDownloadError(`${text}: only http:// and https:// addresses can be loaded`);
  return url;
}

/** The file name an address ends with (`…/models/tiny.safetensors?x=1` → `tiny.safetensors`). */
export function fileNameOfUrl(url: string): string {
  try {
    const path = new URL(url).pathname;
    const last = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
    return last || new URL(url).host;
  } catch {
    return url;
  }
}

/** The first byte of a `Content-Range: bytes 100-199/200` answer, or null when the header is unreadable. */
function rangeStart(res: Response): number | null {
  const m = /^bytes\s+(\d+)-/i.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : null;
}

function sizeOf(res: Response, offset: number): number | null {
  const total = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
  if (total) return Number(total[1]);
  const length = res.headers.get('content-length');
  return length !== null && /^\d+$/.test(length) ? offset + Number(length) : null;
}

export async function downloadModel(address: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const url = modelUrl(address).href;
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const { signal } = options;
  const maxResumes = options.maxResumes ?? 3;
  const chunks: Uint8Array[] = [];
  let received = 0;
  let total: number | null = null;
  let validator: string | null = null;
  let resumes = 0;
  const broke = (why: string) => new ModelDownloadError(`${url}: ${why}`);

  for (;;) {
    const headers: Record<string, string> = {};
    if (received > 0) {
      headers.Range = `bytes=${received}-`;
      if (validator) headers['If-Range'] = validator;
    }
    let res: Response;
    try {
      res = await fetchFn(url, { signal, headers, cache: 'no-store' });
    } catch (e) {
      if (signal?.aborted || isAbort(e)) throw e;
      if (received > 0 && resumes < maxResumes) {
        resumes++;
        continue;
      }
      throw broke('the server could not be reached, or it does not let this page read the file (no CORS headers)');
    }
    if (received > 0 && res.status === 206 && (rangeStart(res) ?? received) === received) {
      // Carries on where the body broke off.
    } else if (res.ok && res.status !== 206) {
      // The whole file (the first request, or a server that ignores ranges: start again).
      chunks.length = 0;
      received = 0;
      if ((res.headers.get('content-type') ?? '').includes('text/html')) throw broke('the server sent a web page, not a checkpoint');
      validator = res.headers.get('etag') ?? res.headers.get('last-modified');
    } else if (res.status === 206) {
      await res.body?.cancel().catch(() => {});
      throw broke(`the server resumed the download at the wrong place (asked for byte ${received}, got ${rangeStart(res)})`);
    } else {
      await res.body?.cancel().catch(() => {});
      throw broke(`the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    total = sizeOf(res, received) ?? total;
    options.progress?.(received, total);
    let brokeOff = false;
    if (!res.body) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      chunks.push(bytes);
      received += bytes.length;
    } else {
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          received += value.length;
          options.progress?.(received, total);
        }
      } catch (e) {
        if (signal?.aborted || isAbort(e)) throw e;
        brokeOff = true;
      }
    }
    if (total !== null && received < total) brokeOff = true;
    if (!brokeOff) break;
    if (resumes >= maxResumes) {
      throw broke(`the download broke off after ${received.toLocaleString('en-US')} of ${total?.toLocaleString('en-US') ?? '?'} bytes (tried to resume ${maxResumes} times)`);
    }
    resumes++;
  }
  if (received === 0) throw broke('the server sent an empty file');
  return { blob: new Blob(chunks as Uint8Array<ArrayBuffer>[]), resumes };
}
