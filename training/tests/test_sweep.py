"""The GPU-sweep machinery: run_sweep.py builds each candidate's train.py call and ranks finished runs
by the validation goals; data sets come out the same on any number of processes; scenes draw
printed digits from the split's own font families; glyphs become MNIST-style digits; the
gradient clean-up that never waits for the device keeps the old rule.

Run from the project root:  python3 -m unittest discover -s training/tests -v
"""
import json
import os
import sys
import unittest

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training'))

import data  # noqa: E402
import generalization  # noqa: E402
import run_sweep  # noqa: E402


def fake_metrics(acc: float, non_digit: float, m_ap: float, miou: float) -> dict:
    g = {s: {'accuracy': acc} for s in run_sweep.CLASSIFY_GOALS}
    g['non-digit'] = {'called_digit': non_digit}
    return {'generalization': {'val': g},
            'val': {'detection': {'mAP@0.5': m_ap}, 'segmentation': {'mIoU': miou}, 'classification': {'accuracy': acc}},
            'stage2': {'iterations': 1}}


class SweepTest(unittest.TestCase):
    def test_candidates_get_the_common_options_then_their_own(self):
        sweep = {'common': ['--eval-split', 'val', '--cls-train', '10'],
                 'candidates': [{'name': 'a', 'args': ['--seed', '1']}, {'name': 'b'}]}
        argvs = run_sweep.candidate_argvs(sweep, '/tmp/x')
        self.assertEqual(argvs['a'], ['--eval-split', 'val', '--cls-train', '10', '--seed', '1',
                                      '--out', '/tmp/x/a', '--no-export'])
        self.assertEqual(argvs['b'], ['--eval-split', 'val', '--cls-train', '10', '--out', '/tmp/x/b', '--no-export'])

    def test_malformed_sweeps_are_refused(self):
        ok = ['--eval-split', 'val']
        for sweep in ({'common': [], 'candidates': [{'name': 'a'}]},                       # decides on test
                      {'common': ['--eval-split', 'test'], 'candidates': [{'name': 'a'}]},
                      {'common': ok, 'candidates': [{'name': 'a'}, {'name': 'a'}]},       # same name twice
                      {'common': ok, 'candidates': [{'args': []}]},                        # no name
                      {'common': ok, 'candidates': [{'name': 'a', 'minutes': 3}]}):        # unknown key
            with self.assertRaises(SystemExit, msg=json.dumps(sweep)):
                run_sweep.candidate_argvs(sweep, '/tmp/x')

    def test_the_committed_sweep_parses_as_train_options(self):
        import train
        with open(os.path.join(ROOT, 'training', 'schedules', 'gpu-sweep.json')) as f:
            for argv in run_sweep.candidate_argvs(json.load(f), '/tmp/x').values():
                train.parse_args(argv)  # exits on an unknown option

    def test_ranking_counts_goals_then_the_worst_margin(self):
        good = fake_metrics(0.99, 0.04, 0.85, 0.70)         # every goal but printed (0.99 = goal: met)
        close = fake_metrics(0.94, 0.04, 0.85, 0.70)        # classification 1 point short everywhere
        far = fake_metrics(0.94, 0.30, 0.85, 0.70)          # and non-digit far off
        self.assertEqual(run_sweep.rank_key(good)[0], 13)
        self.assertEqual(run_sweep.rank_key(close)[0], 3)
        self.assertAlmostEqual(run_sweep.rank_key(close)[1], -0.05)
        self.assertAlmostEqual(run_sweep.rank_key(far)[1], -0.25)
        self.assertGreater(run_sweep.rank_key(good), run_sweep.rank_key(close))
        self.assertGreater(run_sweep.rank_key(close), run_sweep.rank_key(far))


class GenerationTest(unittest.TestCase):
    def test_samples_do_not_depend_on_the_number_of_processes(self):
        one = data.map_samples(lambda i: data.scene_sample('val', i), 6, workers=1)
        import functools
        two = data.map_samples(functools.partial(data.scene_sample, 'val'), 6, workers=2)
        for a, b in zip(one, two):
            for k in ('image', 'mask', 'boxes', 'labels'):
                np.testing.assert_array_equal(a[k], b[k])

    def test_scene_digits_use_the_splits_font_families(self):
        seen = []
        real = generalization.printed_alpha

        def spy(rng, which='held-out'):
            seen.append(which)
            return real(rng, which)
        generalization.printed_alpha = spy
        try:
            images, labels = data.load_mnist('train')
            for split in ('train', 'val', 'test'):
                seen.clear()
                for i in range(60):
                    digit, label = data._scene_digit(np.random.default_rng([9, i]), split, images, labels)
                    self.assertEqual(digit.shape, (28, 28))
                    self.assertEqual(digit.dtype, np.uint8)
                    self.assertIn(label, range(10))
                    self.assertGreater(int(digit.max()), 100)
                self.assertTrue(seen, f'{split}: no printed digit in 60 draws')
                self.assertEqual(set(seen), {'train' if split == 'train' else 'held-out'})
        finally:
            generalization.printed_alpha = real

    def test_a_glyph_becomes_an_mnist_style_digit(self):
        alpha = np.zeros((90, 40), np.float32)
        alpha[:, 10:30] = 1                                  # a tall bar, like a printed 1
        d = data.as_mnist_digit(alpha)
        rows = np.nonzero(d.max(1) > 0)[0]
        cols = np.nonzero(d.max(0) > 0)[0]
        self.assertEqual(rows[-1] - rows[0] + 1, 20)         # 20 pixels tall, as MNIST's ink box
        self.assertLessEqual(abs((rows[0] + rows[-1]) / 2 - 13.5), 0.5)
        self.assertLessEqual(abs((cols[0] + cols[-1]) / 2 - 13.5), 1.0)
        wide = data.as_mnist_digit(np.ones((10, 100), np.float32))
        self.assertLessEqual(int((wide.max(0) > 0).sum()), 26)  # never wider than 26


class SanitizeGradsTest(unittest.TestCase):
    def test_clips_each_tensor_and_zeroes_non_finite_entries(self):
        import train
        m = torch.nn.Linear(3, 2)
        small = torch.tensor([[0.1, -0.2, 0.3], [0.0, 0.05, -0.1]])
        m.weight.grad = small.clone()
        m.bias.grad = torch.tensor([float('nan'), 30.0])
        train.sanitize_grads(m, max_norm=1.0)
        self.assertTrue(torch.equal(m.weight.grad, small))            # norm below 1: untouched, bit for bit
        self.assertEqual(m.bias.grad[0].item(), 0.0)                   # NaN → 0
        self.assertAlmostEqual(m.bias.grad.norm().item(), 1.0, places=6)  # 30 → clipped to norm 1
        m.weight.grad = torch.zeros(2, 3)
        train.sanitize_grads(m)
        self.assertTrue(torch.equal(m.weight.grad, torch.zeros(2, 3)))  # a zero gradient stays zero


if __name__ == '__main__':
    unittest.main()
