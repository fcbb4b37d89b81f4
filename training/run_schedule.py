"""Runs a training schedule: one JSON file (training/schedules/) that lists the phases of a model's
training in order, each a set of train.py options; a phase with "resume": true starts from the
checkpoint the previous phase wrote. All phases write into the schedule's "out" folder, and the
last one exports the model (safetensors, fixtures) as train.py does. With "read_test_once": true the
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
    for i, phase in enumerate(schedule['phases']):
        unknown = set(phase) - {'name', 'args', 'resume'}
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
    return argvs


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
    for i, (phase, args) in enumerate(zip(schedule['phases'], argvs)):
        print(f'phase {i + 1}/{len(argvs)}: {phase.get("name", "")}\n  python3 training/train.py {" ".join(args)}', flush=True)
        if not a.dry_run:
            import train  # noqa: E402  (imports torch; not needed for --dry-run)
            train.main(args)
    for script, args in test_argvs(schedule):
        print(f'test split, read once: python3 training/{script}.py {" ".join(args)}', flush=True)
        if not a.dry_run:
            __import__(script).main(args)


if __name__ == '__main__':
    sys.path.insert(0, HERE)
    main()
