#!/usr/bin/env node
// Bundles src/bench/nodeRun.ts into one ES module (shaders inlined, `webgpu` left external) for a
// machine that has no node_modules: node bin/build-node-bench.mjs OUTFILE
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rawPlugin = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({ path: resolve(args.resolveDir, args.path.slice(0, -4)), namespace: 'raw' }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, async (args) => ({ contents: await readFile(args.path, 'utf8'), loader: 'text' }));
  },
};
await build({
  entryPoints: [resolve(root, 'src/bench/nodeRun.ts')],
  bundle: true, platform: 'node', format: 'esm', target: 'node20',
  external: ['webgpu'], outfile: process.argv[2] ?? resolve(root, 'out/node-bench.mjs'),
  plugins: [rawPlugin], logLevel: 'warning',
});
