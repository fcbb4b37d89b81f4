import { useEffect, useState } from 'react';

/** What the browser told us about WebGPU. */
type GpuStatus =
  | { state: 'checking' }
  | { state: 'unavailable'; reason: string }
  | { state: 'available'; vendor: string; architecture: string; description: string; fallback: boolean };

async function probeWebGpu(): Promise<GpuStatus> {
  if (!('gpu' in navigator) || !navigator.gpu) {
    return { state: 'unavailable', reason: 'WebGPU not available in this browser (navigator.gpu is missing).' };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { state: 'unavailable', reason: `WebGPU not available in this browser: requestAdapter() failed (${(e as Error).message}).` };
  }
  if (!adapter) {
    return { state: 'unavailable', reason: 'WebGPU not available in this browser: no suitable GPU adapter was found.' };
  }
  // `adapter.info` is current; older Chromium builds only had requestAdapterInfo().
  const legacy = adapter as GPUAdapter & { requestAdapterInfo?: () => Promise<GPUAdapterInfo> };
  const info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean } =
    adapter.info ?? (legacy.requestAdapterInfo ? await legacy.requestAdapterInfo() : {});
  return {
    state: 'available',
    vendor: info.vendor || 'unknown vendor',
    architecture: info.architecture || 'unknown architecture',
    description: info.description ?? '',
    fallback: info.isFallbackAdapter === true,
  };
}

function GpuStatusPanel({ status }: { status: GpuStatus }) {
  if (status.state === 'checking') return <p>Checking for WebGPU…</p>;
  if (status.state === 'unavailable') {
    return (
      <p className="status status-bad" role="alert">
        {status.reason} Try a recent Chrome, Edge or Safari, or enable WebGPU in your browser's settings.
      </p>
    );
  }
  return (
    <div className="status status-good">
      <p>WebGPU is available.</p>
      <dl>
        <dt>Vendor</dt>
        <dd>{status.vendor}</dd>
        <dt>Architecture</dt>
        <dd>{status.architecture}</dd>
        {status.description && (
          <>
            <dt>Description</dt>
            <dd>{status.description}</dd>
          </>
        )}
      </dl>
      {status.fallback && <p>This is a software fallback adapter, so inference will be slow.</p>}
    </div>
  );
}

export function App() {
  const [gpu, setGpu] = useState<GpuStatus>({ state: 'checking' });

  useEffect(() => {
    let cancelled = false;
    probeWebGpu().then(
      (s) => !cancelled && setGpu(s),
      (e: unknown) => !cancelled && setGpu({ state: 'unavailable', reason: `WebGPU check failed: ${String(e)}` }),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <main className="app">
      <header>
        <h1>SpikeFormer Web</h1>
        <p className="lead">
          SpikeFormer Web will run Meta-SpikeFormer (Spike-driven Transformer V2), a spiking vision transformer,
          entirely in your browser on WebGPU to classify what your webcam sees. Alongside the predictions it will show
          the spikes each layer fires, so you can watch the network think.
        </p>
      </header>

      <section aria-labelledby="gpu-heading">
        <h2 id="gpu-heading">WebGPU</h2>
        <div aria-live="polite">
          <GpuStatusPanel status={gpu} />
        </div>
      </section>

      <section aria-labelledby="model-heading">
        <h2 id="model-heading">Model</h2>
        <label className="file-label" htmlFor="checkpoint-input" title="Comes with the model loader">
          Open checkpoint…
        </label>
        <input
          id="checkpoint-input"
          type="file"
          accept=".pth,.pt,.safetensors"
          disabled
          title="Comes with the model loader"
          aria-describedby="checkpoint-note"
        />
        <p id="checkpoint-note" className="note">
          Loading checkpoints comes with the model loader; this control is disabled until then.
        </p>
      </section>
    </main>
  );
}
