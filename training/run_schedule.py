"""Runs a training schedule: one JSON file (training/schedules/) that lists the phases of a model's
training in order, each a set of train.py options; a phase with "resume": true starts from the
checkpoint the previous phase wrote. All phases write into the schedule's "out" folder, and the
last one exports the model (safetensors, fixtures) as train.py does. A phase with "keep_as": NAME
also copies its checkpoint to out/kept/NAME.pth; an entry {"average_with": [NAME, ...]} in place of
train.py options replaces the checkpoint with the mean of it and the kept ones
(average_checkpoints.py), evaluates the mean on the validation split (evaluate.py,
evaluate_generalization.py, which choose its no-digit threshold there) and exports it. With "read_test_once": true the
schedule ends by measuring the exported model on the test split (evaluate.py and
evaluate_generalization.py --split test): the one reading of test for a shipped model; every phase
before it evaluates on the validation split.

    python3 training/run_schedule.py training/schedules/shipped.json     (npm run train)
    python3 training/run_schedule.py <schedule> --dry-run                 prints the train.py calls

Options after the schedule (e.g. --threads 2, --device cuda) are passed to every phase.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def out_dir(schedule: dict) -> str:
    """The folder every phase writes into (relative paths are from the project root)."""
    return os.path.join(ROOT, schedule['out']) if not os.path.isabs(schedule['out']) else schedule['out']


def phase_argvs(schedule: dict, extra: list) -> list:
    """The train.py argument lists of the schedule's phases, in order."""
    out = out_dir(schedule)
    argvs = []
    kept = set()
    for i, phase in enumerate(schedule['phases']):
        if 'average_with' in phase:
            unknown = set(phase) - {'name', 'average_with'}
            if unknown:
                raise SystemExit(f'phase {i + 1}: an averaging entry takes only name and average_with, not {sorted(unknown)}')
            missing = [n for n in phase['average_with'] if n not in kept]
            if i == 0 or not phase['average_with'] or missing:
                raise SystemExit(f'phase {i + 1}: average_with names checkpoints kept by earlier phases (keep_as); '
                                 f'not kept: {missing or "none named"}')
            argvs.append(averaging_calls(out, phase['average_with']))
            continue
        unknown = set(phase) - {'name', 'args', 'resume', 'keep_as'}
        if '--eval-split' in phase.get('args', []) and schedule.get('read_test_once'):
            raise SystemExit(f'phase {i + 1}: the schedule reads test once at the end; phases evaluate on val')
        if unknown:
            raise SystemExit(f'phase {i + 1}: unknown keys {sorted(unknown)}')
        argv = ['--out', out]
        if phase.get('resume'):
            if i == 0:
                raise SystemExit('phase 1 cannot resume: there is no checkpoint before it')
            argv += ['--resume-stage1', os.path.join(out, 'checkpoint.pth')]
        if schedule.get('read_test_once'):
            argv += ['--eval-split', 'val']
        argvs.append(argv + list(phase.get('args', [])) + list(extra))
        if 'keep_as' in phase:
            kept.add(phase['keep_as'])
    return argvs


def kept_path(out: str, name: str) -> str:
    return os.path.join(out, 'kept', f'{name}.pth')


def averaging_calls(out: str, names: list) -> list:
    """The (script, arguments) calls of an averaging entry: the mean of the kept checkpoints and the
    current one, its threshold and figures on val (metrics.json starts anew), then its export."""
    ck = os.path.join(out, 'checkpoint.pth')
    return [('average_checkpoints', [*(kept_path(out, n) for n in names), ck, '--out', ck]),
            ('evaluate', ['--run', out, '--split', 'val']),
            ('evaluate_generalization', ['--run', out, '--split', 'val']),
            ('export', ['--checkpoint', ck])]


def test_argvs(schedule: dict) -> list:
    """The (script, arguments) calls that read the test split once at the end, if the schedule asks."""
    if not schedule.get('read_test_once'):
        return []
    out = out_dir(schedule)
    return [('evaluate', ['--run', out, '--split', 'test']),
            ('evaluate_generalization', ['--run', out, '--split', 'test'])]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('schedule', nargs='?', default=os.path.join(HERE, 'schedules', 'shipped.json'))
    ap.add_argument('--dry-run', action='store_true')
    a, extra = ap.parse_known_args(argv)
    with open(a.schedule) as f:
        schedule = json.load(f)
    argvs = phase_argvs(schedule, extra)
    out = out_dir(schedule)
    for i, (phase, args) in enumerate(zip(schedule['phases'], argvs)):
        print(f'phase {i + 1}/{len(argvs)}: {phase.get("name", "")}', flush=True)
        if 'average_with' in phase:
            for script, script_args in args:
                print(f'  python3 training/{script}.py {" ".join(script_args)}', flush=True)
                if not a.dry_run:
                    if script == 'average_checkpoints':
                        metrics = os.path.join(out, 'metrics.json')
                        if os.path.exists(metrics):  # the last phase's figures and threshold, not the mean's
                            os.replace(metrics, os.path.join(out, 'metrics.before-averaging.json'))
                    __import__(script).main(script_args)
            continue
        print(f'  python3 training/train.py {" ".join(args)}', flush=True)
        if not a.dry_run:
            import train  # noqa: E402  (imports torch; not needed for --dry-run)
            train.main(args)
            if 'keep_as' in phase:
                import shutil
                os.makedirs(os.path.dirname(kept_path(out, phase['keep_as'])), exist_ok=True)
                shutil.copyfile(os.path.join(out, 'checkpoint.pth'), kept_path(out, phase['keep_as']))
    for script, args in test_argvs(schedule):
        print(f'test split, read once: python3 training/{script}.py {" ".join(args)}', flush=True)
        if not a.dry_run:
            __import__(script).main(args)


if __name__ == '__main__':
    sys.path.insert(0, HERE)
    main()
