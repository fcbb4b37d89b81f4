"""Re-runs the held-out evaluation of a trained checkpoint and rewrites the `test` (or `val`) section
of its run's metrics.json (train.py runs the same evaluation at the end of training).

    python3 training/evaluate.py [--run training/runs/default] [--split test|val] [--threads N]

`--split val` (the validation digits and scenes) is for decisions, e.g. comparing a candidate with
the shipped model; `test` is read once for a model that ships.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_python  # noqa: E402,F401  (re-runs under Debian's python3 when this one lacks torch)

import argparse
import json
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export  # noqa: E402
import train  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default=os.path.join(HERE, 'runs', 'default'))
    ap.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--cls-test', type=int, default=10000)
    ap.add_argument('--scene-test', type=int, default=500)
    ap.add_argument('--split', choices=['test', 'val'], default='test')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    log = train.Logger(os.path.join(a.run, 'train.log'))
    t0 = time.time()
    model = export.load_checkpoint(os.path.join(a.run, 'checkpoint.pth'))
    if a.split == 'test':
        cls_te = train.make_cls_set('test', a.cls_test, log)
    else:
        cls_te = train.make_val_cls_set('val', a.cls_test, log)
    sc_te = train.make_scene_set(a.split, a.scene_test, log)
    result = train.final_evaluation(model, cls_te, sc_te, log, prefix=f'evaluate.py ({a.split}):')
    path = os.path.join(a.run, 'metrics.json')
    metrics = json.load(open(path)) if os.path.exists(path) else {}
    if a.split in metrics:
        metrics.setdefault(f'{a.split}_at_end_of_training', metrics[a.split])
    metrics[a.split] = {**result, 'evaluated_by': 'training/evaluate.py', 'seconds': round(time.time() - t0, 1),
                        'scenes': 'data.py scenes with printed, stroke, dim and blurred digits'}
    with open(path, 'w') as f:
        json.dump(metrics, f, indent=1, default=str)
    log(f'evaluate.py: wrote {path}')


if __name__ == '__main__':
    main()
