"""training/run_schedule.py turns the shipped schedule into the train.py calls the shipped model was
made with (the seven runs listed in training/README.md), and refuses malformed schedules.

Run from the project root:  python3 -m unittest discover -s training/tests -v
"""
import json
import os
import sys
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training'))

import run_schedule  # noqa: E402


class ScheduleTest(unittest.TestCase):
    def test_shipped_schedule_is_the_recipe_of_the_shipped_model(self):
        with open(os.path.join(ROOT, 'training', 'schedules', 'shipped.json')) as f:
            argvs = run_schedule.phase_argvs(json.load(f), ['--threads', '2'])
        out = os.path.join(ROOT, 'training', 'runs', 'default')
        ck = ['--resume-stage1', os.path.join(out, 'checkpoint.pth')]
        cont = ['--stage2-lr', '1e-3']
        self.assertEqual(argvs, [
            ['--out', out, '--threads', '2'],
            ['--out', out, *ck, '--seed', '1', '--stage2-minutes', '35', *cont, '--threads', '2'],
            ['--out', out, *ck, '--seed', '2', '--stage2-minutes', '80', *cont, '--threads', '2'],
            ['--out', out, *ck, '--seed', '3', '--stage2-minutes', '50', *cont, '--threads', '2'],
            ['--out', out, *ck, '--seed', '4', '--stage2-minutes', '132', *cont, '--stage2-cls-batch', '32', '--threads', '2'],
            ['--out', out, *ck, '--seed', '5', '--stage2-minutes', '130', *cont, '--stage2-cls-batch', '32', '--threads', '2'],
            ['--out', out, *ck, '--seed', '6', '--stage2-minutes', '148', *cont, '--stage2-cls-batch', '32',
             '--stage2-cls-weight', '1.0', '--threads', '2'],
        ])

    def test_every_phase_parses_as_train_options(self):
        import train
        with open(os.path.join(ROOT, 'training', 'schedules', 'shipped.json')) as f:
            for argv in run_schedule.phase_argvs(json.load(f), []):
                train.parse_args(argv)  # exits on an unknown option

    def test_malformed_schedules_are_refused(self):
        with self.assertRaises(SystemExit):
            run_schedule.phase_argvs({'out': 'x', 'phases': [{'resume': True}]}, [])
        with self.assertRaises(SystemExit):
            run_schedule.phase_argvs({'out': 'x', 'phases': [{'args': [], 'minutes': 3}]}, [])


if __name__ == '__main__':
    unittest.main()
