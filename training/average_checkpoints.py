"""Averages the weights of checkpoints of one model (e.g. two ends of one stage-2 run): every float
tensor of the state dict (parameters and BatchNorm running statistics) becomes the mean of the
inputs'; integer buffers (BatchNorm's num_batches_tracked) and everything outside the state dict
(args, epoch) are the last input's. The recorded no-digit threshold and metrics are dropped, since
they were measured on another model: evaluate_generalization.py --split val chooses the threshold
for the mean anew.

    python3 training/average_checkpoints.py A.pth B.pth [...] --out MEAN.pth

Refuses checkpoints whose state dicts differ in keys, shapes or dtypes.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_python  # noqa: E402,F401  (re-runs under Debian's python3 when this one lacks torch)

import argparse

import torch


def average_state_dicts(states: list) -> dict:
    """The mean of `states` (state dicts with the same keys, shapes and dtypes), as described above."""
    if not states:
        raise ValueError('no state dicts to average')
    first = states[0]
    for i, sd in enumerate(states[1:], start=2):
        if set(sd) != set(first):
            diff = sorted(set(sd) ^ set(first))
            raise ValueError(f'checkpoint {i} has other keys than checkpoint 1: {diff[:5]}')
        for k, v in sd.items():
            if v.shape != first[k].shape or v.dtype != first[k].dtype:
                raise ValueError(f'{k}: checkpoint {i} has {tuple(v.shape)} {v.dtype}, checkpoint 1 {tuple(first[k].shape)} '
                                 f'{first[k].dtype}')
    out = {}
    for k, v in states[-1].items():
        if v.is_floating_point():
            out[k] = torch.stack([sd[k] for sd in states]).mean(dim=0)
        else:
            out[k] = v.clone()
    return out


def average_checkpoints(paths: list) -> dict:
    cks = [torch.load(p, map_location='cpu') for p in paths]
    mean = dict(cks[-1])
    mean['model'] = average_state_dicts([ck['model'] for ck in cks])
    mean.pop('metrics', None)
    if 'args' in mean and hasattr(mean['args'], 'no_digit_below'):
        args = argparse.Namespace(**vars(mean['args']))
        del args.no_digit_below
        mean['args'] = args
    mean['averaged_from'] = [os.path.relpath(p) for p in paths]
    return mean


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('checkpoints', nargs='+')
    ap.add_argument('--out', required=True)
    a = ap.parse_args(argv)
    if len(a.checkpoints) < 2:
        ap.error('give two or more checkpoints')
    mean = average_checkpoints(a.checkpoints)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(mean, a.out)
    print(f'wrote {a.out}: the mean of {len(a.checkpoints)} checkpoints, {len(mean["model"])} tensors')


if __name__ == '__main__':
    main()
