"""training/average_checkpoints.py: the mean of float tensors, integer buffers from the last input,
the recorded threshold and metrics dropped, and a clear refusal of checkpoints of different models.

Run from the project root:  python3 -m unittest discover -s training/tests -v
"""
import argparse
import os
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training'))

import torch  # noqa: E402

import average_checkpoints as avg  # noqa: E402


class AverageCheckpointsTest(unittest.TestCase):
    def test_floats_are_averaged_and_integers_taken_from_the_last(self):
        a = {'w': torch.tensor([1.0, 2.0]), 'bn.running_var': torch.tensor([4.0]), 'bn.num_batches_tracked': torch.tensor(3)}
        b = {'w': torch.tensor([3.0, -2.0]), 'bn.running_var': torch.tensor([2.0]), 'bn.num_batches_tracked': torch.tensor(7)}
        m = avg.average_state_dicts([a, b])
        self.assertEqual(m['w'].tolist(), [2.0, 0.0])
        self.assertEqual(m['bn.running_var'].tolist(), [3.0])
        self.assertEqual(m['bn.num_batches_tracked'].item(), 7)
        self.assertEqual(m['bn.num_batches_tracked'].dtype, torch.int64)
        self.assertEqual(a['w'].tolist(), [1.0, 2.0])  # inputs untouched

    def test_checkpoints_of_different_models_are_refused(self):
        a = {'w': torch.zeros(2)}
        with self.assertRaisesRegex(ValueError, 'other keys'):
            avg.average_state_dicts([a, {'v': torch.zeros(2)}])
        with self.assertRaisesRegex(ValueError, r'w: checkpoint 2 has \(3,\)'):
            avg.average_state_dicts([a, {'w': torch.zeros(3)}])
        with self.assertRaisesRegex(ValueError, 'int64'):
            avg.average_state_dicts([a, {'w': torch.zeros(2, dtype=torch.int64)}])

    def test_files_keep_the_last_args_without_its_threshold(self):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i, (x, seed) in enumerate([(0.0, 17), (1.0, 19)]):
                p = os.path.join(d, f'{i}.pth')
                torch.save({'model': {'w': torch.full((2,), x)}, 'epoch': 2, 'metrics': {'acc': 0.9},
                            'args': argparse.Namespace(seed=seed, no_digit_below=0.1)}, p)
                paths.append(p)
            out = os.path.join(d, 'mean', 'mean.pth')
            avg.main([*paths, '--out', out])
            m = torch.load(out)
            self.assertEqual(m['model']['w'].tolist(), [0.5, 0.5])
            self.assertEqual(m['args'].seed, 19)
            self.assertFalse(hasattr(m['args'], 'no_digit_below'))
            self.assertNotIn('metrics', m)
            self.assertEqual(len(m['averaged_from']), 2)


if __name__ == '__main__':
    unittest.main()
