"""The no-digit rule (no_digit_rule.py): a frame is "no digit" when that class is on top or the top
probability is below a threshold chosen on the validation split; schedules that read the test split
once evaluate every phase on val.

Run from the project root:  python3 -m unittest discover -s training/tests -v
"""
import os
import sys
import unittest

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training'))

import no_digit_rule  # noqa: E402
import run_schedule  # noqa: E402

ND = 10
GOALS = {'a': 0.95, 'b': 0.95}


def frames(labels, top_prob, n_classes=11):
    """One-hot-ish probabilities: `top_prob` on each label, the rest spread evenly."""
    p = np.full((len(labels), n_classes), (1 - top_prob) / (n_classes - 1))
    p[np.arange(len(labels)), labels] = top_prob
    return p


class NoDigitRuleTest(unittest.TestCase):
    def test_answers_no_digit_below_the_threshold_and_when_that_class_is_on_top(self):
        p = np.array([[0.7, 0.1, 0.2], [0.4, 0.35, 0.25], [0.1, 0.1, 0.8]])
        np.testing.assert_array_equal(no_digit_rule.answers(p, 0.5, 2), [0, 2, 2])
        np.testing.assert_array_equal(no_digit_rule.answers(p, 0.0, 2), [0, 0, 2])

    def sets(self):
        digits = np.arange(100) % 10
        return {'a': (frames(digits, 0.9), digits), 'b': (frames(digits, 0.8), digits),
                # non-digit frames that the classifier calls digit 3 with probability 0.6
                'non-digit': (frames(np.full(100, 3), 0.6), np.full(100, ND))}

    def test_the_lowest_threshold_that_meets_every_goal_is_chosen(self):
        t, table = no_digit_rule.choose_threshold(self.sets(), ND, GOALS, 0.05)
        self.assertEqual(t, 0.65)  # 0.6 < t <= 0.8 meets all three goals; the lowest such grid point
        self.assertEqual(len(table), len(no_digit_rule.GRID))
        scored = no_digit_rule.score_sets(self.sets(), t, ND, GOALS)
        self.assertEqual(scored['non-digit']['called_digit'], 0.0)
        self.assertEqual(scored['non-digit']['called_digit_argmax'], 1.0)
        self.assertEqual(scored['b']['accuracy'], 1.0)
        # above 0.8 the 'b' digits become "no digit": the accuracy under the rule says so
        self.assertEqual(no_digit_rule.score_sets(self.sets(), 0.85, ND, GOALS)['b']['accuracy'], 0.0)

    def test_confident_non_digit_frames_keep_the_threshold_at_zero(self):
        s = self.sets()
        s['non-digit'] = (frames(np.full(100, ND), 0.9), np.full(100, ND))
        self.assertEqual(no_digit_rule.choose_threshold(s, ND, GOALS, 0.05)[0], 0.0)

    def test_the_threshold_is_never_chosen_on_test(self):
        s = self.sets()
        with self.assertRaises(ValueError):
            no_digit_rule.evaluate(lambda imgs: imgs, 'test', 100, list(s), ND, GOALS, 0.05,
                                   load=lambda name, split, n: s[name], log=lambda *_: None)
        scored, rule = no_digit_rule.evaluate(lambda imgs: imgs, 'test', 100, list(s), ND, GOALS, 0.05,
                                              load=lambda name, split, n: s[name], threshold=0.65, log=lambda *_: None)
        self.assertEqual(rule['chosen_on'], 'given')
        self.assertEqual(scored['a']['accuracy'], 1.0)


class ReadTestOnceTest(unittest.TestCase):
    def test_phases_evaluate_on_val_and_the_test_split_is_read_at_the_end(self):
        sched = {'out': '/tmp/x', 'read_test_once': True, 'phases': [{'args': ['--seed', '1']}]}
        self.assertEqual(run_schedule.phase_argvs(sched, []), [['--out', '/tmp/x', '--eval-split', 'val', '--seed', '1']])
        self.assertEqual([s for s, _ in run_schedule.test_argvs(sched)], ['evaluate', 'evaluate_generalization'])
        self.assertEqual(run_schedule.test_argvs({**sched, 'read_test_once': False}), [])

    def test_a_phase_may_not_choose_its_own_evaluation_split(self):
        sched = {'out': '/tmp/x', 'read_test_once': True, 'phases': [{'args': ['--eval-split', 'test']}]}
        with self.assertRaises(SystemExit):
            run_schedule.phase_argvs(sched, [])


if __name__ == '__main__':
    unittest.main()
