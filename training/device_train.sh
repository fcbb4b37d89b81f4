#!/usr/bin/env bash
# The GPU sweep on a machine that cannot fetch anything (the lent GPU machine): unpacks what
# training/device_pack.py packed into .device/ (MNIST, subset fonts), runs
# training/schedules/gpu-sweep.json with run_sweep.py, and leaves in $OUT the sweep's log, its
# ranking and one tar per candidate (train.log, metrics.json, checkpoint.pth).
#
#   here:   python3 training/device_pack.py .device
#   there:  bash training/device_train.sh            (carry .device; $OUT set by the device tool)
set -uo pipefail
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT" /tmp/mnist /tmp/sweep
for f in .device/mnist/*.gz; do gunzip -c "$f" > "/tmp/mnist/$(basename "$f" .gz)"; done
export MNIST_DIR=/tmp/mnist SPIKEFORMER_FONT_DIRS="$PWD/.device/fonts" PYTHONUNBUFFERED=1 OPENBLAS_NUM_THREADS=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/sweep.log"
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))' 2>&1 | tee -a "$OUT/sweep.log"
timeout "${SWEEP_SECONDS:-530}" python3 training/run_sweep.py "${SWEEP:-training/schedules/gpu-sweep.json}" --out /tmp/sweep 2>&1 | tee -a "$OUT/sweep.log"
python3 training/run_sweep.py "${SWEEP:-training/schedules/gpu-sweep.json}" --out /tmp/sweep --rank-only 2>&1 | tail -5 | tee -a "$OUT/sweep.log"
cp /tmp/sweep/ranking.json "$OUT/" 2>/dev/null
for d in /tmp/sweep/*/; do
  name=$(basename "$d")
  [ "$name" = prepare ] && { cp "$d/train.log" "$OUT/prepare.log" 2>/dev/null; continue; }
  tar -C /tmp/sweep -cf "$OUT/$name.tar" "$name"
done
ls -la "$OUT"
