/** Logits → probabilities → the top few classes, with their names, and how far to trust them. */
import { NO_DIGIT } from '../../model/classNames.ts';
import type { LabelSet } from './labels.ts';

/**
 * Below this top-1 probability a prediction is shown as uncertain. A fixed 0.5: under it the top
 * class is less likely than all the others together. The shipped model's evaluation
 * (training/README) has no calibration curve to choose a better one from; what it does show is
 * that frames with no digit rarely get a confident answer (≥ 0.9 on 2–4 % of them).
 */
export const UNCERTAIN_BELOW = 0.5;

/**
 * What the list's top says: uncertain (below `UNCERTAIN_BELOW`), or "no digit": the model's "no
 * digit" class is on top, or (`noDigitBelow`, from the model file, for models with that class) the
 * top class is below the threshold chosen on the validation split. `noDigitBelow` in the result is
 * that threshold when it is what made the answer "no digit".
 */
export function verdict(predictions: readonly Prediction[], noDigitBelow?: number): { uncertain: boolean; noDigit: boolean; noDigitBelow?: number } {
  const top = predictions[0];
  if (!top) return { uncertain: false, noDigit: false };
  if (NO_DIGIT.test(top.fullLabel)) return { uncertain: false, noDigit: true };
  if (noDigitBelow !== undefined && top.probability < noDigitBelow) return { uncertain: false, noDigit: true, noDigitBelow };
  return { uncertain: top.probability < UNCERTAIN_BELOW, noDigit: false };
}

/** Softmax in float64, shifted by the maximum so large logits do not overflow. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  const out = new Float64Array(logits.length);
  if (logits.length === 0) return out;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

export interface Prediction {
  classIndex: number;
  /** Short name (first synonym), e.g. "tench". */
  label: string;
  /** Full label text, e.g. "tench, Tinca tinca". */
  fullLabel: string;
  probability: number;
}

/** The `k` most probable classes, most probable first; ties keep the lower class index first. */
export function topK(probabilities: ArrayLike<number>, k: number, labels: LabelSet): Prediction[] {
  const order = Array.from({ length: probabilities.length }, (_, i) => i);
  order.sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return order.slice(0, Math.max(0, k)).map((i) => ({
    classIndex: i,
    label: labels.shortName(i),
    fullLabel: labels.name(i),
    probability: probabilities[i],
  }));
}

/** "97.3 %", "0.4 %", "<0.1 %". */
export function formatProbability(p: number): string {
  if (p > 0 && p < 0.001) return '<0.1 %';
  return `${(p * 100).toFixed(1)} %`;
}
