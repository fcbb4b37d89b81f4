"""training/run_schedule.py turns the shipped schedule into the train.py calls the shipped model was
made with (the fourteen runs listed in training/README.md, each for the number of steps it took,
the mean of the last two, then one reading of the test split), with the step counts that runs/default/train.log records, and
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
            ['--out', out, *ck, *val, *webcam, '--no-digit-share', '0.4', '--small-framing-share', '0.65', '--cls-data-seed', '10',
             *[x if x != '1e-3' else '5e-4' for x in data], '--seed', '19', '--stage2-iters', '1410', '--stage2-minutes', '0',
             '--threads', '2'],
            [('average_checkpoints', [os.path.join(out, 'kept', 'phase14.pth'), os.path.join(out, 'checkpoint.pth'),
                                      '--out', os.path.join(out, 'checkpoint.pth')]),
             ('evaluate', ['--run', out, '--split', 'val']),
             ('evaluate_generalization', ['--run', out, '--split', 'val']),
             ('export', ['--checkpoint', os.path.join(out, 'checkpoint.pth')])],
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
            if isinstance(argv[0], tuple):  # the averaging step trains nothing
                continue
            for stage in (1, 2):
                flag = f'--stage{stage}-iters'
                if flag in argv and not (stage == 1 and '--resume-stage1' in argv):
                    scheduled.append((stage, int(argv[argv.index(flag) + 1])))
        self.assertEqual(len(logged), 15)
        self.assertEqual(scheduled, logged)

    def test_every_phase_parses_as_train_options(self):
        import train
        with open(os.path.join(ROOT, 'training', 'schedules', 'shipped.json')) as f:
            for argv in run_schedule.phase_argvs(json.load(f), []):
                if isinstance(argv[0], tuple):
                    continue  # the averaging step: checked in test_shipped_schedule_is_the_recipe_of_the_shipped_model
                train.parse_args(argv)  # exits on an unknown option

    def test_malformed_schedules_are_refused(self):
        with self.assertRaises(SystemExit):
            run_schedule.phase_argvs({'out': 'x', 'phases': [{'resume': True}]}, [])
        with self.assertRaises(SystemExit):
            run_schedule.phase_argvs({'out': 'x', 'phases': [{'args': [], 'minutes': 3}]}, [])
        # averaging: only checkpoints an earlier phase kept, and nothing else in the entry
        with self.assertRaisesRegex(SystemExit, 'not kept'):
            run_schedule.phase_argvs({'out': 'x', 'phases': [{'args': []}, {'average_with': ['a']}]}, [])
        with self.assertRaisesRegex(SystemExit, 'not kept'):
            run_schedule.phase_argvs({'out': 'x', 'phases': [{'average_with': ['a']}, {'args': [], 'keep_as': 'a'}]}, [])
        with self.assertRaisesRegex(SystemExit, 'only name and average_with'):
            run_schedule.phase_argvs({'out': 'x', 'phases': [{'args': [], 'keep_as': 'a'},
                                                             {'average_with': ['a'], 'args': ['--seed', '1']}]}, [])
        ok = run_schedule.phase_argvs({'out': '/x', 'phases': [{'args': [], 'keep_as': 'a'}, {'average_with': ['a']}]}, [])
        self.assertEqual(ok[1][0], ('average_checkpoints', ['/x/kept/a.pth', '/x/checkpoint.pth', '--out', '/x/checkpoint.pth']))

    def test_a_kept_checkpoint_is_averaged_with_the_last_and_the_mean_evaluated_and_exported(self):
        import tempfile
        from types import SimpleNamespace
        from unittest import mock
        import torch
        import train
        calls = []

        def fake_train(argv):  # each phase writes a checkpoint whose one weight is its number, and its metrics
            out = argv[argv.index('--out') + 1]
            calls.append(('train', argv[argv.index('--seed') + 1]))
            torch.save({'model': {'w': torch.full((2,), float(len(calls)))}, 'args': SimpleNamespace(seed=len(calls))},
                       os.path.join(out, 'checkpoint.pth'))
            with open(os.path.join(out, 'metrics.json'), 'w') as f:
                json.dump({'no_digit_rule': {'noDigitBelow': 0.5}}, f)

        def recorder(name):
            return SimpleNamespace(main=lambda argv: calls.append((name, argv)))

        with tempfile.TemporaryDirectory() as out:
            schedule = os.path.join(out, 'schedule.json')
            with open(schedule, 'w') as f:
                json.dump({'out': out, 'phases': [{'args': ['--seed', '1'], 'keep_as': 'first'},
                                                  {'args': ['--seed', '2'], 'resume': True},
                                                  {'average_with': ['first']}]}, f)
            fakes = {n: recorder(n) for n in ('evaluate', 'evaluate_generalization', 'export')}
            with mock.patch.object(train, 'main', fake_train), mock.patch.dict(sys.modules, fakes), \
                    mock.patch('builtins.print'):
                run_schedule.main([schedule])
            ck = torch.load(os.path.join(out, 'checkpoint.pth'))
            self.assertEqual(ck['model']['w'].tolist(), [1.5, 1.5])  # mean of phase 1 (kept) and phase 2
            self.assertEqual(torch.load(os.path.join(out, 'kept', 'first.pth'))['model']['w'].tolist(), [1.0, 1.0])
            # the last phase's threshold is set aside, so evaluate_generalization chooses the mean's on val
            self.assertFalse(os.path.exists(os.path.join(out, 'metrics.json')))
            self.assertTrue(os.path.exists(os.path.join(out, 'metrics.before-averaging.json')))
            self.assertEqual([c[0] for c in calls], ['train', 'train', 'evaluate', 'evaluate_generalization', 'export'])
            self.assertEqual(calls[2][1], ['--run', out, '--split', 'val'])

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
