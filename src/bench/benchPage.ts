/** The benchmark page's script (bench/index.html): exposes `window.spikeformerBench` to bin/bench.mjs. */
import { runBenchmark } from './benchmark.ts';

declare global {
  interface Window { spikeformerBench?: (o: Parameters<typeof runBenchmark>[0]) => ReturnType<typeof runBenchmark> }
}
window.spikeformerBench = (o) => runBenchmark(o);
