/**
 * Works offline after the first visit: registers `public/sw.js` (see there) and, once it is
 * active, sends it what this page loaded (the page, its modules and styles, the built-in model,
 * the sample pictures) to keep. The outcome is readable as `window.__spikeformerOffline` (for the
 * e2e test and the console): 'registering', 'kept N files', or why not.
 */
import { BUILTIN_URL } from './engine/builtinModel.ts';
import { SAMPLES, sampleUrl } from './samples.ts';

declare global {
  interface Window {
    __spikeformerOffline?: string;
  }
}

export function registerOffline(): void {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) {
    window.__spikeformerOffline = 'no service workers in this browser';
    return;
  }
  window.__spikeformerOffline = 'registering';
  const base = import.meta.env?.BASE_URL ?? '/';
  const container = navigator.serviceWorker;
  container.addEventListener('message', (e: MessageEvent<{ type: string; kept?: number; message?: string }>) => {
    if (e.data?.type === 'kept') window.__spikeformerOffline = `kept ${e.data.kept} files`;
    else if (e.data?.type === 'keep-failed') window.__spikeformerOffline = `not kept: ${e.data.message}`;
  });
  container.register(`${base}sw.js`, { scope: base }).then(
    () => container.ready,
  ).then((registration) => {
    const loaded = performance.getEntriesByType('resource').map((r) => r.name);
    const urls = [...loaded, new URL(BUILTIN_URL, location.href).href, ...SAMPLES.map((s) => new URL(sampleUrl(s.file), location.href).href)];
    registration.active?.postMessage({ type: 'keep', urls, document: location.href });
  }).catch((e: unknown) => {
    window.__spikeformerOffline = `no offline copy: ${(e as Error).message}`;
  });
}
