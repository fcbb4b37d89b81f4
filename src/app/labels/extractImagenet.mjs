#!/usr/bin/env node
/**
 * Dev-time helper (not part of the app bundle): writes `imagenet.json`, the 1000 ImageNet-1k class
 * names in class-index order, from the `imagenet_classes.js` shipped in the npm package
 * `@tensorflow-models/mobilenet` (Apache-2.0, Copyright 2019 Google LLC).
 *
 *   cd /tmp && npm pack @tensorflow-models/mobilenet@2.1.1 && tar xzf tensorflow-models-mobilenet-2.1.1.tgz
 *   node src/app/labels/extractImagenet.mjs /tmp/package/dist/imagenet_classes.js
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const from = process.argv[2];
if (!from) {
  console.error('usage: extractImagenet.mjs <path to @tensorflow-models/mobilenet/dist/imagenet_classes.js>');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const { IMAGENET_CLASSES } = require(resolve(from));
const names = [];
for (let i = 0; i < 1000; i++) {
  const name = IMAGENET_CLASSES[i];
  if (typeof name !== 'string') throw new Error(`class ${i} is missing from ${from}`);
  names.push(name);
}
const out = fileURLToPath(new URL('./imagenet.json', import.meta.url));
writeFileSync(out, JSON.stringify(names, null, 0) + '\n');
console.log(`wrote ${names.length} class names to ${out}`);
