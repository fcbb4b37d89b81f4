import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * Cross-origin isolation (COOP + COEP), so ONNX Runtime Web gets SharedArrayBuffer and runs its wasm
 * on several threads. Everything the app loads is same-origin (its files, models, samples, blobs
 * from opened files, the camera), which `require-corp` allows. A static host of `dist/` must send
 * the same two headers, or ORT runs on one thread (and says so in the backend line).
 */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// The browser app. Tests have their own config (vitest.config.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  publicDir: 'public',
  plugins: [react()],
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  // ORT's bundle finds its wasm files through `import.meta.url`; the app passes their URLs instead
  // (`?url` imports in onnxEngine.worker.ts), and the dep optimizer leaves the bundle as it is.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  // The workers are module workers (`{ type: 'module' }`); ORT imports its glue dynamically.
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    target: 'es2022',
  },
});
