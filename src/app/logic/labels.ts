/**
 * Class names for a model's outputs, from the label set its config names.
 *
 * ImageNet-1k names: `../labels/imagenet.json`, extracted at dev time from the npm package
 * `@tensorflow-models/mobilenet` (Apache-2.0, Copyright 2019 Google LLC) by
 * `../labels/extractImagenet.mjs`.
 */
import imagenetNames from '../labels/imagenet.json';

export interface LabelSet {
  /** What the names are, for the UI ("MNIST digits", "ImageNet-1k", "class numbers"). */
  description: string;
  /** True when the classes have real names (not "class N"). */
  named: boolean;
  name(index: number): string;
  /** The first synonym of the name ("tench" of "tench, Tinca tinca"). */
  shortName(index: number): string;
}

const DIGIT_LABEL_SETS = new Set(['mnist-digits', 'mnist', 'digits']);
const IMAGENET_LABEL_SETS = new Set(['imagenet-1k', 'imagenet', 'imagenet1k']);

function fromNames(description: string, names: readonly string[], classes: number): LabelSet {
  const name = (i: number) => (i >= 0 && i < names.length && i < classes ? names[i] : `class ${i}`);
  return {
    description,
    named: true,
    name,
    shortName: (i) => name(i).split(',')[0].trim(),
  };
}

function numbered(classes: number, why: string): LabelSet {
  void classes;
  return { description: why, named: false, name: (i) => `class ${i}`, shortName: (i) => `class ${i}` };
}

/**
 * The label set for a model: the class names the file gives (`spikeformer.tasks`), where they say
 * more than its label set; else digit names for `mnist-digits` (10 classes), ImageNet-1k names for
 * `imagenet-1k` or any unnamed 1000-class model, else "class N".
 */
export function labelSetFor(labels: string | null, numClasses: number, classNames?: readonly string[]): LabelSet {
  const named = namedSet(labels, numClasses);
  if (classNames?.length === numClasses && !(named.named && classNames.every((n, i) => named.name(i) === n))) {
    return fromNames("the model file's class names", classNames, numClasses);
  }
  return named;
}

function namedSet(labels: string | null, numClasses: number): LabelSet {
  const key = labels?.toLowerCase() ?? null;
  if (key && DIGIT_LABEL_SETS.has(key) && numClasses === 10) {
    return fromNames('MNIST digits', Array.from({ length: 10 }, (_, i) => String(i)), numClasses);
  }
  if ((key && IMAGENET_LABEL_SETS.has(key)) || (key === null && numClasses === 1000)) {
    if (numClasses === (imagenetNames as string[]).length) return fromNames('ImageNet-1k', imagenetNames as string[], numClasses);
  }
  if (key) return numbered(numClasses, `class numbers (no names shipped for the label set "${labels}")`);
  return numbered(numClasses, 'class numbers (the checkpoint names no label set)');
}
