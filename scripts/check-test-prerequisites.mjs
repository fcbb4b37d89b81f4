#!/usr/bin/env node
// The first step of `npm test`: checks, in a second or two, that this machine has what the suite
// needs beyond Node, and when something is missing prints one line per missing piece (what it is
// for and how to get it) and exits 1, instead of letting dozens of tests fail one by one.
// `bash scripts/ready.sh` installs all of it on Debian (as root); the README's test line runs both.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const PYTHON = '/usr/bin/python3';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = [];

if (!existsSync('node_modules/vitest')) {
  missing.push('npm packages: not installed here; run `npm install` (or `npm ci`)');
}
if (!existsSync(CHROMIUM)) {
  missing.push(`Chromium (${CHROMIUM}): runs the WebGPU, ONNX-in-browser and app tests; apt-get install chromium (or set CHROMIUM_PATH)`);
}
if (!hasVulkanLoader()) {
  missing.push('the Vulkan loader (libvulkan.so.1): lets Dawn for Node (npm webgpu) reach SwiftShader for the CLI\'s WebGPU tests; apt-get install libvulkan1');
}
const pyMissing = missingPythonModules();
if (pyMissing === null) {
  missing.push(`Python 3 (${PYTHON}): runs the training code's tests (training/tests); apt-get install python3 python3-torch python3-pil python3-numpy`);
} else {
  const debian = { torch: 'python3-torch', PIL: 'python3-pil', numpy: 'python3-numpy' };
  for (const m of pyMissing) missing.push(`Python module ${m} for ${PYTHON}: the training code's tests need it; apt-get install ${debian[m]}`);
}

const FONTS = {
  'fonts-dejavu-core': '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  'fonts-liberation': '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
};
for (const [pkg, file] of Object.entries(FONTS)) {
  if (!existsSync(file)) missing.push(`the font ${file}: the training tests' printed-digit sets need it; apt-get install ${pkg}`);
}

if (missing.length) {
  for (const line of missing) console.error(`missing: ${line}`);
  console.error('On Debian, as root, `bash scripts/ready.sh` installs all of these; then run npm test again.');
  process.exit(1);
}

function hasVulkanLoader() {
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig']) {
    try {
      return /libvulkan\.so\.1 /.test(execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    } catch { /* try the next, then the usual folders */ }
  }
  return ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some((d) => existsSync(`${d}/libvulkan.so.1`));
}

/** The modules of torch, PIL and numpy that PYTHON cannot import; null when there is no PYTHON. */
function missingPythonModules() {
  if (!existsSync(PYTHON)) return null;
  const probe = 'import importlib.util as u\nfor m in ("torch", "PIL", "numpy"):\n    if u.find_spec(m) is None: print(m)';
  try {
    return execFileSync(PYTHON, ['-c', probe], { encoding: 'utf8', timeout: 20_000 }).split('\n').filter(Boolean);
  } catch {
    return null;
  }
}
