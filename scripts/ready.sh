#!/usr/bin/env bash
# Readies a machine for `npm test`: installs what the test suite needs and this machine lacks,
# then the npm packages if they are not installed yet. Idempotent: on a readied machine it only
# checks (a second or two).
#
#   - Chromium (headless, WebGPU on SwiftShader) for the browser tests and the app's end-to-end test;
#   - the Vulkan loader (libvulkan1), through which Dawn for Node (npm `webgpu`) reaches SwiftShader;
#   - PyTorch, Pillow and numpy for the training code's tests (training/tests), and two font
#     families for its printed-digit evaluation sets (DejaVu for training, Liberation held out).
#
# All from Debian's packages, with apt-get, as root (or through sudo). Where nothing can be installed
# (no root, no apt-get) it says what is missing and leaves the rest to `npm test`, whose first step
# (scripts/check-test-prerequisites.mjs) prints one line per missing piece and how to get it.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q 'libvulkan\.so\.1 ' || missing+=(libvulkan1)
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)
/usr/bin/python3 -c 'import PIL' >/dev/null 2>&1 || missing+=(python3-pil)
/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ -e /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || missing+=(fonts-liberation)

if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    as_root=()
    [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && as_root=(sudo -n); }
    if [ "$(id -u)" = 0 ] || [ ${#as_root[@]} -gt 0 ]; then
      echo "ready: installing ${missing[*]} from Debian's packages" >&2
      export DEBIAN_FRONTEND=noninteractive
      "${as_root[@]}" apt-get update -qq
      "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "ready: missing ${missing[*]}; run as root (or with sudo): apt-get install ${missing[*]}" >&2
    fi
  else
    echo "ready: missing ${missing[*]} and no apt-get here; npm test will say what each is for" >&2
  fi
fi

# npm packages: a clean install when there are none (a fresh clone), else leave them as they are.
[ -d node_modules/vitest ] || npm ci --no-audit --no-fund
