#!/usr/bin/env node
// The `spikeformer` command: runs the TypeScript CLI (src/cli/main.ts) through tsx, with `?raw`
// imports (WGSL shaders) handled as Vite handles them.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./raw-loader.mjs', import.meta.url);
registerTsx();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
