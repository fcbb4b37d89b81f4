/**
 * SpikeFormer Web works offline after the first visit: this service worker keeps the app and the
 * built-in model in Cache Storage.
 *
 *  - Same-origin GETs go to the network first; every good answer is kept (its headers too: the
 *    COOP/COEP that make the page cross-origin isolated come back with a kept page), and the kept
 *    copy answers when the network does not. Pages are kept under their path (any `?…` opens them).
 *  - The first visit loads the app before this worker controls it, so the page sends the list of
 *    what it loaded (`{ type: 'keep', urls }`, see src/app/offline.ts); those files are fetched and
 *    kept, and so is every module they import, found by reading the JavaScript for same-origin paths
 *    (the dev server serves modules one by one, workers import their own; a built dist/ has hashed
 *    chunks): the same worker serves `npm run dev` and a built dist/.
 *  - Other origins (a model loaded from a URL) and range requests are left to the network.
 */
const CACHE = 'spikeformer-offline-v1';
/** At most this many files are fetched by following imports (a bound, not a budget). */
const MAX_CRAWL = 3000;
/** Quoted same-origin paths in JavaScript: `"/src/…"`, `"/node_modules/…"`, `"/@vite/…"`, `"./chunk.js"`, `"/assets/…"`. */
const PATH_IN_JS = /["'`]((?:\/(?:src|node_modules|@vite|@react-refresh|@id|@fs|assets|models)\/?[^"'`\s<>]*)|(?:\.{1,2}\/[^"'`\s<>]+\.(?:js|mjs|ts|tsx|wasm|json|css)(?:\?[^"'`\s<>]*)?))["'`]/g;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

/** Pages are kept under their path; everything else under its full URL. */
function keyOf(request) {
  const url = new URL(request.url);
  return request.mode === 'navigate' ? `${url.origin}${url.pathname}` : request.url;
}

async function keep(key, response) {
  if (!response.ok || response.type !== 'basic' || response.status === 206) return;
  const cache = await caches.open(CACHE);
  await cache.put(key, response);
}

async function networkFirst(event) {
  const request = event.request;
  const key = keyOf(request);
  try {
    const response = await fetch(request);
    event.waitUntil(keep(key, response.clone()).catch(() => {}));
    return response;
  } catch (error) {
    const kept = await caches.match(key, { ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || request.headers.has('range')) return;
  if (new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(networkFirst(event));
});

function isJavaScript(url, response) {
  const type = response.headers.get('content-type') ?? '';
  return type.includes('javascript') || /\.(m?js|tsx?)(\?|$)/.test(new URL(url).pathname);
}

/** Fetches and keeps `urls`, then what their JavaScript imports; answers how many files were kept. */
async function keepAll(urls, documentUrl) {
  const cache = await caches.open(CACHE);
  const seen = new Set();
  const queue = [];
  const add = (raw, base) => {
    let url;
    try {
      url = new URL(raw, base);
    } catch {
      return;
    }
    if (url.origin !== self.location.origin || url.pathname.endsWith('/sw.js')) return;
    url.hash = '';
    if (!seen.has(url.href) && seen.size < MAX_CRAWL) {
      seen.add(url.href);
      queue.push(url.href);
    }
  };
  for (const u of urls) add(u, self.location.href);
  let kept = 0;
  if (documentUrl) {
    // The page itself, under its path, as a navigation would be kept.
    const doc = new URL(documentUrl);
    const response = await fetch(`${doc.origin}${doc.pathname}`, { headers: { accept: 'text/html' }, cache: 'no-cache' }).catch(() => null);
    if (response?.ok) {
      const text = await response.clone().text();
      await cache.put(`${doc.origin}${doc.pathname}`, response);
      kept++;
      for (const m of text.matchAll(/(?:src|href)="([^"]+)"/g)) add(m[1], doc.href);
    }
  }
  while (queue.length > 0) {
    const batch = queue.splice(0, 8);
    await Promise.all(batch.map(async (url) => {
      const response = await fetch(url, { cache: 'no-cache' }).catch(() => null);
      if (!response?.ok || response.type !== 'basic') return;
      const html = (response.headers.get('content-type') ?? '').includes('text/html');
      // The dev server answers an unknown path with its index.html: not kept under that path.
      if (html) return;
      if (isJavaScript(url, response)) {
        const text = await response.clone().text();
        for (const m of text.matchAll(PATH_IN_JS)) add(m[1], url);
      }
      await cache.put(url, response);
      kept++;
    }));
  }
  return kept;
}

self.addEventListener('message', (event) => {
  const data = event.data;
  if (!data || data.type !== 'keep' || !Array.isArray(data.urls)) return;
  const reply = (message) => event.source?.postMessage(message);
  event.waitUntil(keepAll(data.urls, data.document).then(
    (kept) => reply({ type: 'kept', kept }),
    (error) => reply({ type: 'keep-failed', message: String(error?.message ?? error) }),
  ));
});
