"""The evaluation's detection metrics (train.py): greedy matching and VOC all-point AP.

Run from the project root:  python3 -m unittest discover -s training/tests -v
"""
import os
import sys
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training'))

import train  # noqa: E402


def det(x0, y0, x1, y1, c, score):
    return {'x0': x0, 'y0': y0, 'x1': x1, 'y1': y1, 'class': c, 'score': score}


class MatchingTest(unittest.TestCase):
    gt_b = [(0, 0, 10, 10), (20, 20, 30, 30)]
    gt_l = [1, 2]
    dets = [det(0, 0, 10, 10, 2, 0.9),     # right place, wrong class
            det(20, 20, 30, 31, 2, 0.8),   # right place and class (IoU 100/110)
            det(50, 50, 60, 60, 2, 0.7),   # nowhere near a digit
            det(21, 20, 31, 30, 2, 0.6)]   # duplicate of the second: its digit is taken

    def test_class_aware(self):
        self.assertEqual(train.match_detections(self.dets, self.gt_b, self.gt_l), [0, 1, 0, 0])

    def test_class_agnostic(self):
        self.assertEqual(train.match_detections(self.dets, self.gt_b, self.gt_l, class_aware=False), [1, 1, 0, 0])

    def test_iou_below_half_does_not_match(self):
        shifted = [det(5, 0, 15, 10, 1, 0.9)]  # IoU 50/150
        self.assertEqual(train.match_detections(shifted, self.gt_b, self.gt_l), [0])


class AveragePrecisionTest(unittest.TestCase):
    def test_all_point_interpolation(self):
        # Ranked: hit, miss, hit of 2 digits: precision 1 up to recall 0.5, 2/3 up to recall 1.
        self.assertAlmostEqual(train.average_precision([0.9, 0.8, 0.7], [1, 0, 1], 2), 0.5 + 0.5 * 2 / 3)
        # Order is by score, not by position in the list.
        self.assertAlmostEqual(train.average_precision([0.7, 0.8, 0.9], [1, 0, 1], 2), 0.5 + 0.5 * 2 / 3)

    def test_missed_digits_and_no_digits(self):
        self.assertAlmostEqual(train.average_precision([0.9], [1], 4), 0.25)
        self.assertEqual(train.average_precision([], [], 3), 0.0)
        self.assertIsNone(train.average_precision([0.5], [0], 0))


if __name__ == '__main__':
    unittest.main()
