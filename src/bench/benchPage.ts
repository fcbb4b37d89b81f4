/** The benchmark page's script (bench/index.html): exposes `window.spikeformerBench` to bin/bench.mjs. */
import * as ort from 'onnxruntime-web';
import { runBenchmark } from './benchmark.ts';

// ORT's wasm files, served by the Vite dev server that bin/bench.mjs starts.
ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';

declare global {
  interface Window { spikeformerBench?: (o: Parameters<typeof runBenchmark>[0]) => ReturnType<typeof runBenchmark> }
}
window.spikeformerBench = (o) => runBenchmark(o, navigator.gpu, ort);
