#!/usr/bin/env node
// Runs src/bench/nodeRun.ts (WebGPU through Dawn for Node, npm `webgpu`) with tsx and `?raw` imports.
// Without a GPU: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node bin/bench-node.mjs ...
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./raw-loader.mjs', import.meta.url);
registerTsx();
await import('../src/bench/nodeRun.ts');
