"""Measures a trained checkpoint on the evaluation sets of generalization.py (data unlike the
training data, framed as a webcam sees it) and records the result in its run's metrics.json under
`generalization.<split>`.

    python3 training/evaluate_generalization.py [--run training/runs/default] [--split val|test] [--n 500]

Decisions (which run, which checkpoint, thresholds) are taken on `val`; `test` is read once for the
model that ships. For a model with the 'no digit' class the figures are those of its no-digit rule
(no_digit_rule.py): on `val` without a threshold in metrics.json the threshold is chosen there and
recorded (`no_digit_rule`); `test` uses the recorded one. `--sheet out.png` also writes a contact sheet of the first samples of every set.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_python  # noqa: E402,F401  (re-runs under Debian's python3 when this one lacks torch)

import argparse
import json
import time
from typing import Optional

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import data  # noqa: E402
import export  # noqa: E402
import generalization  # noqa: E402
import no_digit_rule  # noqa: E402
import run_sweep  # noqa: E402


def classifier(model, batch=250, device=torch.device('cpu')):
    """uint8 [n,64,64,3] → softmax probabilities [n, classes] (float64), the model on `device`."""
    @torch.no_grad()
    def classify(imgs):
        model.eval()
        out = []
        for i in range(0, len(imgs), batch):
            x = torch.from_numpy(data.normalize(imgs[i:i + batch])).to(device)
            out.append(torch.softmax(model(x, ('cls',))['logits'].double(), 1).cpu().numpy())
        return np.concatenate(out)
    return classify


def evaluate_model(model, split: str, n: int, metrics: dict, no_digit: Optional[int], log=print,
                   load=None, device=torch.device('cpu')) -> dict:
    """The evaluation sets' results for `model` (what metrics.json keeps under generalization.<split>).
    With a no-digit class they are the no-digit rule's, with the threshold from metrics['no_digit_rule']
    or, on val when there is none yet, chosen now and stored there."""
    classify, load = classifier(model, device=device), load or generalization.eval_set
    if no_digit is None:
        return generalization.evaluate_sets(classify, split, n, no_digit_class=None, log=log, load=load)
    known = metrics.get('no_digit_rule', {}).get('noDigitBelow')
    if known is None and split != 'val':
        raise SystemExit(f'no no-digit threshold recorded: evaluate --split val first (the threshold is chosen there, '
                         f'never on {split})')
    scored, rule = no_digit_rule.evaluate(classify, split, n, generalization.SETS, no_digit, run_sweep.CLASSIFY_GOALS,
                                          run_sweep.NON_DIGIT_GOAL, load, threshold=known, log=log)
    if known is None:
        metrics['no_digit_rule'] = rule
        log(f'no-digit threshold chosen on val: {rule["noDigitBelow"]:g}')
    return scored


def contact_sheet(path, per_set=10):
    from PIL import Image
    rows = [np.concatenate(list(generalization.eval_set(s, 'val', per_set)[0]), axis=1) for s in generalization.SETS]
    sheet = np.concatenate(rows, axis=0)
    Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.NEAREST).save(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default=os.path.join(HERE, 'runs', 'default'))
    ap.add_argument('--split', choices=sorted(generalization.SPLITS), default='val')
    ap.add_argument('--n', type=int, default=500, help='samples per set')
    ap.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--sheet', default='')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    t0 = time.time()
    model = export.load_checkpoint(os.path.join(a.run, 'checkpoint.pth'))
    names = getattr(model, 'class_names', None)
    no_digit = names.index('no digit') if names and 'no digit' in names else None
    path = os.path.join(a.run, 'metrics.json')
    metrics = json.load(open(path)) if os.path.exists(path) else {}
    result = evaluate_model(model, a.split, a.n, metrics, no_digit)
    metrics.setdefault('generalization', {})[a.split] = {
        **result, 'samples_per_set': a.n, 'evaluated_by': 'training/evaluate_generalization.py',
        'seconds': round(time.time() - t0, 1)}
    with open(path, 'w') as f:
        json.dump(metrics, f, indent=1, default=str)
    print(f'wrote {path} ({time.time() - t0:.0f} s)')
    if a.sheet:
        contact_sheet(a.sheet)


if __name__ == '__main__':
    main()
