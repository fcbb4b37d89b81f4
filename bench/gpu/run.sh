#!/bin/bash
# On a GPU machine (device `run` with carry [".gpu"], made by bench/gpu/prepare.sh): unpacks Node,
# Dawn and the Vulkan loader, then runs the Node benchmark (src/bench/nodeRun.ts): first parity of
# both modes with the CPU reference on random models (every spike, on this GPU, with the plan its
# adapter gets: the convs tiled in workgroup memory and the inlined depthwise convs on a hardware
# one), then our runtime in spike and dense mode on 15M and 55M at 224×224 (T = 1; 55M also T = 4) and the
# built-in digits model at 128×128, with dispatches, per-layer GPU time and the layer sweep.
# Writes gpu-bench.json and gpu-bench.log to $OUT (copy the JSON to bench/results/).
# Then, unless PLAN is set, 15M at 224×224 once more with the software plan (register-tiled
# kernels, no workgroup memory) into gpu-bench-software-plan.json: the tiled kernels against the
# register-tiled ones on the same GPU.
# PLAN=software|hardware forces a plan (default: the adapter's); FRAMES and BENCHES override the rest.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/gpu-bench-out}
mkdir -p "$OUT" /tmp/gpu-node
if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  for f in .gpu/deb/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then export VK_DRIVER_FILES=$nvidia_icd; fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
xz -dc .gpu/node.xz > /tmp/gpu-node/node && chmod +x /tmp/gpu-node/node
[ -f .gpu/node_modules/webgpu/dist/linux-x64/dawn.node ] || xz -dc .gpu/dawn.node.xz > .gpu/node_modules/webgpu/dist/linux-x64/dawn.node
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu-bench.log"
/tmp/gpu-node/node .gpu/node-bench.mjs --frames ${FRAMES:-30} ${PLAN:+--plan $PLAN} \
  ${BENCHES:---bench 15M@224x224 --bench 55M@224x224 --bench 55M@224x224:T4 --bench public/models/digits-tiny.safetensors@128x128} \
  --json "$OUT/gpu-bench.json" 2>&1 | tee -a "$OUT/gpu-bench.log"
if [ -z "${PLAN:-}" ]; then
  /tmp/gpu-node/node .gpu/node-bench.mjs --frames ${FRAMES:-30} --plan software --no-parity --no-sweep --bench 15M@224x224 \
    --json "$OUT/gpu-bench-software-plan.json" 2>&1 | tee -a "$OUT/gpu-bench.log"
fi
