"""training/run_schedule.py turns the shipped schedule into the train.py calls the shipped model was
made with (the thirteen runs listed in training/README.md, each for the number of steps it took,
then one reading of the test split), with the step counts that runs/default/train.log records, and
refuses malformed schedules; a stage with no time limit runs exactly its steps.

Run from the project root:  python3 -m unittest discover -s training/tests -v
"""
import json
import os
import re
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
        val = ['--eval-split', 'val']  # read_test_once: every phase evaluates on val
        webcam = ['--cls-data', 'webcam', '--no-digit-class']
        data = ['--cls-train', '30000', '--scene-train', '10000', '--eval-generalization', '500', *cont,
                '--stage2-cls-batch', '32', '--stage2-cls-weight', '1.0']
        self.assertEqual(argvs, [
            ['--out', out, *val, '--stage1-iters', '2602', '--stage1-minutes', '0', '--stage2-iters', '2396', '--stage2-minutes', '0',
             '--threads', '2'],
            ['--out', out, *ck, *val, '--seed', '1', '--stage2-iters', '1880', '--stage2-minutes', '0', *cont, '--threads', '2'],
            ['--out', out, *ck, *val, '--seed', '2', '--stage2-iters', '4262', '--stage2-minutes', '0', *cont, '--threads', '2'],
            ['--out', out, *ck, *val, '--seed', '3', '--stage2-iters', '2629', '--stage2-minutes', '0', *cont, '--threads', '2'],
            ['--out', out, *ck, *val, '--seed', '4', '--stage2-iters', '6173', '--stage2-minutes', '0', *cont, '--stage2-cls-batch', '32', '--threads', '2'],
            ['--out', out, *ck, *val, '--seed', '5', '--stage2-iters', '6084', '--stage2-minutes', '0', *cont, '--stage2-cls-batch', '32', '--threads', '2'],
            ['--out', out, *ck, *val, '--seed', '6', '--stage2-iters', '6764', '--stage2-minutes', '0', *cont, '--stage2-cls-batch', '32',
             '--stage2-cls-weight', '1.0', '--threads', '2'],
            ['--out', out, *ck, *val, *webcam, '--no-digit-share', '0.15', *data, '--seed', '11', '--stage2-iters', '718', '--stage2-minutes', '0',
             '--threads', '2'],
            ['--out', out, *ck, *val, *webcam, '--no-digit-share', '0.25', *data, '--seed', '12', '--stage2-iters', '2044', '--stage2-minutes', '0',
             '--threads', '2'],
            ['--out', out, *ck, *val, *webcam, '--no-digit-share', '0.35', *data, '--seed', '13', '--stage2-iters', '1616', '--stage2-minutes', '0',
             '--threads', '2'],
            ['--out', out, *ck, *val, *webcam, '--no-digit-share', '0.35', '--small-framing-share', '0.3', '--cls-data-seed', '6',
             *data, '--seed', '15', '--stage2-iters', '1569', '--stage2-minutes', '0', '--threads', '2'],
            ['--out', out, *ck, *val, *webcam, '--no-digit-share', '0.35', '--small-framing-share', '0.5', '--cls-data-seed', '7',
             *data, '--seed', '16', '--stage2-iters', '2088', '--stage2-minutes', '0', '--threads', '2'],
            ['--out', out, *ck, *val, *webcam, '--no-digit-share', '0.35', '--small-framing-share', '0.6', '--cls-data-seed', '8',
             *data, '--seed', '17', '--stage2-iters', '1410', '--stage2-minutes', '0', '--threads', '2'],
        ])
        with open(os.path.join(ROOT, 'training', 'schedules', 'shipped.json')) as f:
            self.assertEqual([s for s, _ in run_schedule.test_argvs(json.load(f))], ['evaluate', 'evaluate_generalization'])

    def test_each_phase_runs_the_steps_its_log_records(self):
        # The step counts in shipped.json are those the shipped model's phases reached, in the order
        # runs/default/train.log records them ("stageN done: K iterations in M min").
        with open(os.path.join(ROOT, 'training', 'runs', 'default', 'train.log')) as f:
            logged = [(int(s), int(k)) for s, k in re.findall(r'stage(\d) done: (\d+) iterations', f.read())]
        with open(os.path.join(ROOT, 'training', 'schedules', 'shipped.json')) as f:
            argvs = run_schedule.phase_argvs(json.load(f), [])
        scheduled = []
        for argv in argvs:
            for stage in (1, 2):
                flag = f'--stage{stage}-iters'
                if flag in argv and not (stage == 1 and '--resume-stage1' in argv):
                    scheduled.append((stage, int(argv[argv.index(flag) + 1])))
        self.assertEqual(len(logged), 14)
        self.assertEqual(scheduled, logged)

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

    def test_a_stage_without_time_limit_runs_its_steps(self):
        import torch
        import train
        model = torch.nn.Linear(2, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        lrs = []

        def step(it):
            lrs.append(opt.param_groups[0]['lr'])
            return {'loss': model(torch.ones(1, 2)).pow(2).sum()}

        # The stage reads a clock that moves a second per reading, so no assertion depends on this
        # machine's speed. A limit of 0 minutes is none: 7 steps, the learning rate following step
        # progress (0 at the first step, warm-up over 3%, then the cosine towards 0); a 1e-6-minute
        # limit stops at once.
        from unittest import mock
        clock = iter(range(1_000_000))
        with mock.patch.object(train.time, 'time', lambda: float(next(clock))):
            its, _ = train.train_stage('probe', model, opt, step, 7, 0, lambda msg: None, 'cpu')
            self.assertEqual(its, 7)
            self.assertEqual(lrs, [0.1 * train.lr_factor(i / 7) for i in range(7)])
            self.assertEqual(opt.param_groups[0]['lr'], 0.1)
            its, _ = train.train_stage('probe', model, opt, step, 7, 1e-6, lambda msg: None, 'cpu')
            self.assertLess(its, 7)


if __name__ == '__main__':
    unittest.main()
