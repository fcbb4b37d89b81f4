/**
 * The classifier's class names as the model file gives them: `spikeformer.tasks` metadata,
 * `classify.classNames` (written by `training/export.py`). Shared by the CLI (`infer --input
 * <folder>`) and the app (its prediction list, its "no digit" line).
 */
import { TASKS_METADATA_KEY, type LoadedModel } from './loadModel.ts';

/** A class that means "there is no digit here" (`no digit`, `no_digit`, `nodigit`, …). */
export const NO_DIGIT = /^no[ _-]?digit$/i;

/** The file's classify class names when there are exactly `numClasses` strings, else null. */
export function classifyClassNames(metadata: Record<string, string>, numClasses: number): string[] | null {
  try {
    const names: unknown = JSON.parse(metadata[TASKS_METADATA_KEY] ?? 'null')?.classify?.classNames;
    if (Array.isArray(names) && names.length === numClasses && names.every((x) => typeof x === 'string')) return names as string[];
  } catch { /* no usable names */ }
  return null;
}

/** The classifier's class names: the file's `spikeformer.tasks` `classify.classNames`, else the indices. */
export function classifyLabels(model: Pick<LoadedModel, 'config' | 'checkpoint'>): string[] {
  const n = model.config.numClasses;
  return classifyClassNames(model.checkpoint.metadata, n) ?? Array.from({ length: n }, (_, i) => String(i));
}

/**
 * The probability under which the model's top class counts as "no digit" (`spikeformer.tasks`
 * `classify.noDigitBelow`, chosen on the validation split by training/no_digit_rule.py), if the file
 * gives one in [0, 1].
 */
export function noDigitThreshold(metadata: Record<string, string>): number | undefined {
  try {
    const t: unknown = JSON.parse(metadata[TASKS_METADATA_KEY] ?? 'null')?.classify?.noDigitBelow;
    if (typeof t === 'number' && t >= 0 && t <= 1) return t;
  } catch { /* none */ }
  return undefined;
}

/** What the file says about its classifier's answers: class names and the no-digit threshold, where given. */
export function classifyAnswerInfo(metadata: Record<string, string>, numClasses: number): { classNames?: string[]; noDigitBelow?: number } {
  const classNames = classifyClassNames(metadata, numClasses) ?? undefined;
  const noDigitBelow = classNames && noDigitIndex(classNames) >= 0 ? noDigitThreshold(metadata) : undefined;
  return { ...(classNames && { classNames }), ...(noDigitBelow !== undefined && { noDigitBelow }) };
}

/**
 * The model's answer for one frame: its top class, or "no digit" when the model has that class and
 * either it is on top or the top class is below `noDigitBelow` (training/no_digit_rule.py's rule).
 */
export function classifyAnswer(probs: ArrayLike<number>, names: readonly string[], noDigitBelow?: number): { index: number; noDigit: boolean } {
  let top = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[top]) top = i;
  const nd = noDigitIndex(names);
  if (nd < 0) return { index: top, noDigit: false };
  return top === nd || (noDigitBelow !== undefined && probs[top] < noDigitBelow) ? { index: nd, noDigit: true } : { index: top, noDigit: false };
}

/** The index of the "no digit" class, or -1. */
export function noDigitIndex(names: readonly string[]): number {
  return names.findIndex((l) => NO_DIGIT.test(l));
}
