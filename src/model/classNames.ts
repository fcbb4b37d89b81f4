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

/** The index of the "no digit" class, or -1. */
export function noDigitIndex(names: readonly string[]): number {
  return names.findIndex((l) => NO_DIGIT.test(l));
}
