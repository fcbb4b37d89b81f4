"""Runs a sweep: the candidate runs of one JSON file (training/schedules/*-sweep.json), each a set of
train.py options added to the sweep's common ones, side by side on one machine (one GPU), then
ranks them on the validation split by `rank_key`. The data sets are generated once, first, on every
core (`train.py --prepare-data`), and the candidates read them from the cache.

    python3 training/run_sweep.py training/schedules/gpu-sweep.json --out DIR
    python3 training/run_sweep.py <sweep> --out DIR --dry-run          prints the train.py calls
    python3 training/run_sweep.py <sweep> --out DIR --rank-only        ranks finished runs

Each candidate writes DIR/<name>/{train.log, metrics.json, checkpoint.pth} (no export); DIR/ranking.json
lists every candidate's validation figures and the ranking. The sweep must evaluate on 'val'.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# The goals a run is ranked by (issue #21): on the validation split.
CLASSIFY_GOALS = {'printed-unseen-fonts': 0.99, 'framing-35': 0.95, 'framing-small': 0.95,
                  'framing-off-centre': 0.95, 'framing-rotated': 0.95, 'framing-perspective': 0.95,
                  'framing-low-light': 0.95, 'framing-motion-blur': 0.95, 'framing-coloured-ink': 0.95,
                  'framing-ruled-paper': 0.95}
NON_DIGIT_GOAL = 0.05   # at most this share of non-digit frames called a digit
MAP_GOAL, MIOU_GOAL = 0.80, 0.65


def candidate_argvs(sweep: dict, out: str) -> dict:
    """name → train.py argument list of each candidate."""
    common = list(sweep.get('common', []))
    if '--eval-split' not in common or common[common.index('--eval-split') + 1] != 'val':
        raise SystemExit('a sweep takes decisions: its common options must include --eval-split val')
    argvs = {}
    for i, c in enumerate(sweep['candidates']):
        unknown = set(c) - {'name', 'args'}
        if unknown or 'name' not in c:
            raise SystemExit(f'candidate {i + 1}: needs a name and only name/args (got {sorted(c)})')
        if c['name'] in argvs:
            raise SystemExit(f'candidate name {c["name"]!r} used twice')
        argvs[c['name']] = common + list(c.get('args', [])) + ['--out', os.path.join(out, c['name']), '--no-export']
    return argvs


def goals_met(m: dict) -> dict:
    """Which goals a run's metrics.json meets on the validation split, with the figures."""
    g = m['generalization']['val']
    val = m['val']
    out = {s: {'value': g[s]['accuracy'], 'goal': goal, 'met': g[s]['accuracy'] >= goal} for s, goal in CLASSIFY_GOALS.items()}
    nd = g['non-digit']['called_digit']
    out['non-digit called a digit'] = {'value': nd, 'goal': NON_DIGIT_GOAL, 'met': nd <= NON_DIGIT_GOAL}
    out['mAP@0.5'] = {'value': val['detection']['mAP@0.5'], 'goal': MAP_GOAL, 'met': val['detection']['mAP@0.5'] >= MAP_GOAL}
    out['mIoU'] = {'value': val['segmentation']['mIoU'], 'goal': MIOU_GOAL, 'met': val['segmentation']['mIoU'] >= MIOU_GOAL}
    return out


def rank_key(m: dict) -> tuple:
    """Higher is better: the number of goals met, then the worst margin to a goal (value − goal,
    with the non-digit share counted as goal − value), then the mean classification accuracy."""
    goals = goals_met(m)
    margins = [(g['goal'] - g['value']) if name == 'non-digit called a digit' else (g['value'] - g['goal'])
               for name, g in goals.items()]
    accs = [g['value'] for name, g in goals.items() if name in CLASSIFY_GOALS]
    return (sum(g['met'] for g in goals.values()), min(margins), sum(accs) / len(accs))


def rank(out: str, names: list) -> dict:
    rows = []
    for name in names:
        path = os.path.join(out, name, 'metrics.json')
        if not os.path.exists(path):
            rows.append({'name': name, 'finished': False})
            continue
        with open(path) as f:
            m = json.load(f)
        key = rank_key(m)
        rows.append({'name': name, 'finished': True, 'goals_met': key[0], 'worst_margin': key[1],
                     'mean_accuracy': key[2], 'val_classification': m['val']['classification']['accuracy'],
                     'goals': goals_met(m), 'iterations': {'stage1': m.get('stage1', {}).get('iterations'),
                                                            'stage2': m['stage2']['iterations']}})
    done = sorted((r for r in rows if r['finished']), key=lambda r: (r['goals_met'], r['worst_margin'], r['mean_accuracy']),
                  reverse=True)
    result = {'ranking': [r['name'] for r in done], 'rule': rank_key.__doc__.strip(), 'candidates': rows}
    with open(os.path.join(out, 'ranking.json'), 'w') as f:
        json.dump(result, f, indent=1)
    for r in done:
        print(f"{r['name']}: {r['goals_met']}/{len(r['goals'])} goals, worst margin {r['worst_margin']:+.3f}, "
              f"mean accuracy {r['mean_accuracy']:.4f}", flush=True)
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('sweep')
    ap.add_argument('--out', required=True)
    ap.add_argument('--dry-run', action='store_true')
    ap.add_argument('--rank-only', action='store_true')
    a = ap.parse_args(argv)
    with open(a.sweep) as f:
        sweep = json.load(f)
    argvs = candidate_argvs(sweep, a.out)
    train = [sys.executable, os.path.join(HERE, 'train.py')]
    prepare = list(sweep.get('common', [])) + ['--out', os.path.join(a.out, 'prepare'), '--prepare-data']
    for args in [prepare] + list(argvs.values()):
        print('python3 training/train.py ' + ' '.join(args), flush=True)
    if a.dry_run:
        return
    if not a.rank_only:
        t0 = time.time()
        subprocess.run(train + prepare, check=True)
        procs = {name: subprocess.Popen(train + args, stdout=subprocess.DEVNULL) for name, args in argvs.items()}
        for name, p in procs.items():
            print(f'{name}: exit {p.wait()} after {(time.time() - t0) / 60:.1f} min', flush=True)
    rank(a.out, list(argvs))


if __name__ == '__main__':
    main()
