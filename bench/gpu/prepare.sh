#!/bin/bash
# Packs into .gpu/ (git-ignored, about 35 MB) what bench/gpu/run.sh needs on a GPU machine that
# has neither Node nor the Vulkan loader (the H200 a session may be lent through `device`): this
# machine's Node (xz), Dawn for Node (npm `webgpu`, linux-x64 only, xz), the Node benchmark
# bundled with its shaders (bin/build-node-bench.mjs) and Debian's libvulkan1.
# Run here, in the repository root, after `npm install`:  bash bench/gpu/prepare.sh
# Then, on the device:  run(command="bash bench/gpu/run.sh", carry=[".gpu"]).
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .gpu
mkdir -p .gpu/node_modules/webgpu/dist/linux-x64 .gpu/deb
node bin/build-node-bench.mjs .gpu/node-bench.mjs
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .gpu/node_modules/webgpu/
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpu/dawn.node.xz
xz -T0 -6 -c "$(command -v node)" > .gpu/node.xz
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/apt-amd64'
mkdir -p /tmp/apt-amd64/partial
apt-get $o update -qq
(cd .gpu/deb && apt-get $o download libvulkan1 >/dev/null)
du -sh .gpu
