"""The "no digit" answer of a model trained with the 'no digit' class: the model answers "no digit"
when that class is on top *or* when its top class is below a probability threshold `noDigitBelow`.
The threshold is chosen on the validation split (never on test) and travels in the model file
(`spikeformer.tasks` → `classify.noDigitBelow`), so the app and the CLI answer as measured here.

The rule, for softmax probabilities p of one frame and no-digit class index N:
    answer = N                  if argmax p == N or max p < threshold
    answer = argmax p           otherwise
A digit frame counts as right only when the answer is its digit; a non-digit frame is "called a
digit" when the answer is not N.

The threshold is the one on GRID that ranks best by run_sweep.rank_key's rule restricted to the
classification goals: most goals met (each evaluation set's accuracy goal and the non-digit share
≤ 5%), then the largest worst margin, then the highest mean accuracy; ties go to the lower threshold.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

import numpy as np

RULE = ('the threshold on GRID that meets the most classification goals (each evaluation set\'s accuracy '
        'goal, non-digit frames called a digit <= 5%), then has the largest worst margin, then the highest '
        'mean accuracy; ties go to the lower threshold; chosen on the validation split')
GRID = tuple(round(0.05 * i, 2) for i in range(0, 20))  # 0.00 (argmax only) … 0.95
NON_DIGIT_SET = 'non-digit'


def answers(probs: np.ndarray, threshold: float, no_digit: int) -> np.ndarray:
    """The rule's answer per row of `probs` [n, classes]."""
    top = probs.argmax(1)
    return np.where(probs.max(1) < threshold, no_digit, top)


def score_sets(set_probs: Dict[str, Tuple[np.ndarray, np.ndarray]], threshold: float, no_digit: int,
               goals: Dict[str, float]) -> Dict[str, dict]:
    """Per set, under the rule: 'accuracy' (digit sets) or 'called_digit' (the non-digit set), next
    to the plain-argmax figure ('accuracy_argmax' / 'called_digit_argmax')."""
    out = {}
    for name, (probs, labels) in set_probs.items():
        ans, top = answers(probs, threshold, no_digit), probs.argmax(1)
        if name == NON_DIGIT_SET:
            out[name] = {'called_digit': float((ans != no_digit).mean()),
                         'called_digit_argmax': float((top != no_digit).mean()),
                         'called_digit_confidently': float(((top != no_digit) & (probs.max(1) >= 0.9)).mean()),
                         'n': int(len(probs))}
        else:
            out[name] = {'accuracy': float((ans == labels).mean()), 'accuracy_argmax': float((top == labels).mean()),
                         'n': int(len(probs)), **({'goal': goals[name]} if name in goals else {})}
    return out


def rank(scored: Dict[str, dict], goals: Dict[str, float], non_digit_goal: float) -> tuple:
    """(goals met, worst margin, mean accuracy over the goal sets): higher is better."""
    margins = [scored[s]['accuracy'] - g for s, g in goals.items() if s in scored]
    if NON_DIGIT_SET in scored:
        margins.append(non_digit_goal - scored[NON_DIGIT_SET]['called_digit'])
    accs = [scored[s]['accuracy'] for s in goals if s in scored]
    return (sum(m >= 0 for m in margins), min(margins), sum(accs) / max(1, len(accs)))


def choose_threshold(set_probs: Dict[str, Tuple[np.ndarray, np.ndarray]], no_digit: int, goals: Dict[str, float],
                     non_digit_goal: float, grid=GRID) -> Tuple[float, list]:
    """The best threshold on `grid` (see the module's docstring) and the table it was chosen from."""
    table, best = [], None
    for t in grid:
        scored = score_sets(set_probs, t, no_digit, goals)
        key = rank(scored, goals, non_digit_goal)
        table.append({'threshold': t, 'goals_met': key[0], 'worst_margin': round(key[1], 4),
                      'mean_accuracy': round(key[2], 4),
                      'non_digit_called_digit': scored.get(NON_DIGIT_SET, {}).get('called_digit')})
        if best is None or key > best[1]:  # strictly better only: ties keep the lower threshold
            best = (t, key)
    return best[0], table


def evaluate(classify: Callable[[np.ndarray], np.ndarray], split: str, n: int, sets, no_digit: int,
             goals: Dict[str, float], non_digit_goal: float, load: Callable, threshold: Optional[float] = None,
             log=print) -> Tuple[Dict[str, dict], dict]:
    """Scores every evaluation set under the rule. With `threshold` None it is chosen here, which only
    the validation split may do. Returns (per-set results, the rule: threshold, how it was chosen)."""
    set_probs = {}
    for s in sets:
        imgs, labels = load(s, split, n)
        set_probs[s] = (classify(imgs), labels)
    if threshold is None:
        if split != 'val':
            raise ValueError(f'the no-digit threshold is chosen on the validation split, not on {split!r}')
        threshold, table = choose_threshold(set_probs, no_digit, goals, non_digit_goal)
        rule = {'noDigitBelow': threshold, 'chosen_on': 'val', 'grid': table,
                'rule': RULE}
    else:
        rule = {'noDigitBelow': threshold, 'chosen_on': 'given'}
    scored = score_sets(set_probs, threshold, no_digit, goals)
    for s, r in scored.items():
        if s == NON_DIGIT_SET:
            log(f'{split} {s}: called a digit {r["called_digit"]:.1%} with the no-digit rule (threshold {threshold:g}), '
                f'{r["called_digit_argmax"]:.1%} by argmax')
        else:
            log(f'{split} {s}: {r["accuracy"]:.1%} with the no-digit rule, {r["accuracy_argmax"]:.1%} by argmax'
                + (f' (goal {goals[s]:.0%})' if s in goals else ''))
    return scored, rule
