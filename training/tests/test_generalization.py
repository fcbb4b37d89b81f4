"""The evaluation sets unlike the training data (training/generalization.py): deterministic per
split, splits and font families kept apart, glyphs placed at the size a framing asks for, every
stroke digit drawable, and the scoring of accuracy and of non-digit frames.

Run from the project root:  python3 -m unittest discover -s training/tests -v
"""
import os
import sys
import unittest

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training'))

import generalization as g  # noqa: E402


class GeneralizationSetsTest(unittest.TestCase):
    def test_samples_are_a_function_of_set_split_and_index(self):
        a, la = g.eval_set('framing-rotated', 'val', 3)
        b, lb = g.eval_set('framing-rotated', 'val', 3)
        c, _ = g.eval_set('framing-rotated', 'test', 3)
        self.assertTrue(np.array_equal(a, b) and np.array_equal(la, lb))
        self.assertFalse(np.array_equal(a, c))
        self.assertEqual(a.shape, (3, g.OUT, g.OUT, 3))
        self.assertEqual(a.dtype, np.uint8)
        self.assertTrue(((la >= 0) & (la <= 9)).all())
        self.assertNotIn(g.TRAIN_SPLIT, g.SPLITS.values())

    def test_font_families_are_split(self):
        held, train = g.font_files('held-out'), g.font_files('train')
        self.assertGreater(len(held), 0, 'no held-out font (fonts-liberation) on this machine')
        self.assertGreater(len(train), 0, 'no training font (fonts-dejavu-core) on this machine')
        self.assertFalse(set(held) & set(train))
        for f in train:
            self.assertIsNone(g._family_of(f, g.HELD_OUT_FONT_FAMILIES), f)
        _, labels = g.eval_set('printed-unseen-fonts', 'val', 20)
        self.assertEqual(set(labels.tolist()) - set(range(10)), set())

    def test_a_glyph_is_placed_at_the_height_asked(self):
        alpha = np.zeros((40, 20), np.float32)
        alpha[:, 8:12] = 1  # a 40 px bar
        placed = g._place(alpha, g.FRAME_W, g.FRAME_H, 80, 60, 42.0, 0.0)
        ys = np.nonzero(placed.max(1) > 0.5)[0]
        self.assertLessEqual(abs((ys.max() - ys.min() + 1) - 42), 2)
        self.assertLessEqual(abs((ys.max() + ys.min()) / 2 - 60), 1.5)

    def test_every_stroke_digit_variant_draws(self):
        rng = np.random.default_rng(0)
        for d, variants in g.STROKE_DIGITS.items():
            for _ in range(3 * len(variants)):
                a = g.stroke_alpha(rng, d)
                self.assertGreater(a.shape[0], 40)
                self.assertGreater(a.mean(), 0.05)

    def test_small_framing_share_draws_small_digits(self):
        def ink(share):  # mean share of pixels darker than 60% of the frame's median
            fractions = []
            for i in range(40):
                img, _ = g.webcam_training_sample(i, seed=5, no_digit_share=0, small_share=share)
                x = img.astype(np.float64).mean(-1)
                fractions.append((x < 0.6 * np.median(x)).mean())
            return float(np.mean(fractions))
        self.assertLess(ink(1.0), 0.6 * ink(0.0))
        a, la = g.webcam_training_sample(7, seed=5, no_digit_share=0.2)
        b, lb = g.webcam_training_sample(7, seed=5, no_digit_share=0.2, small_share=0.0)
        self.assertTrue(np.array_equal(a, b) and la == lb)

    def test_non_digit_frames_have_no_label(self):
        _, labels = g.eval_set('non-digit', 'val', 16)
        self.assertTrue((labels == -1).all())

    def test_scoring(self):
        def always(k, classes=11):
            def classify(imgs):
                p = np.zeros((len(imgs), classes))
                p[:, k] = 1.0
                return p
            return classify
        _, labels = g.eval_set('framing-35', 'val', 30)
        r = g.evaluate_sets(always(3), 'val', 30, sets=['framing-35', 'non-digit'], log=lambda *_: None)
        self.assertAlmostEqual(r['framing-35']['accuracy'], float((labels == 3).mean()))
        self.assertEqual(r['framing-35']['goal'], 0.95)
        self.assertEqual(r['non-digit']['called_digit'], 1.0)  # no "no digit" class: every frame is a digit
        r = g.evaluate_sets(always(10), 'val', 30, sets=['non-digit'], no_digit_class=10, log=lambda *_: None)
        self.assertEqual(r['non-digit']['called_digit'], 0.0)


if __name__ == '__main__':
    unittest.main()
