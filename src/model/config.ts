/**
 * The hyper-parameters that fix a Meta-SpikeFormer (`Spiking_vit_MetaFormer` in the official code).
 * Everything else — module names, tensor shapes, the op graph — follows from these via `graph.ts`.
 */
export interface ModelConfig {
  /** E0..E3: channels of stages 1–4 (the stem has E0/2). 15M = [64,128,256,360]. */
  embedDims: [number, number, number, number];
  numClasses: number;
  /** Attention heads (8 in every published size; not recoverable from weights). */
  numHeads: number;
  /** Hidden width of the transformer MLP and ConvBlock convs, as a multiple of the stage width (4). */
  mlpRatio: number;
  inChannels: number;
  /** Transformer blocks in stage 3 (`block3.*`, 6 published) and stage 4 (`block4.*`, 2 published). */
  depths: [number, number];
  /** A distillation head `head_kd` is present; the output is (head + head_kd) / 2. */
  kd: boolean;
  /** Time steps T: the image is presented T times; logits are averaged over T. */
  timeSteps: number;
  /** Preprocessing: per-channel mean and std applied to pixel/255. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Name of the label set the classes follow ('imagenet-1k', 'mnist', …) or null if unknown. */
  labels: string | null;
}

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/** The published sizes, by the name the paper uses. */
export const PUBLISHED_EMBED_DIMS: Record<string, [number, number, number, number]> = {
  '15M': [64, 128, 256, 360],
  '31M': [96, 192, 384, 480],
  '55M': [128, 256, 512, 640],
};

export function defaultConfig(partial: Partial<ModelConfig> & Pick<ModelConfig, 'embedDims' | 'numClasses'>): ModelConfig {
  return {
    numHeads: 8,
    mlpRatio: 4,
    inChannels: 3,
    depths: [6, 2],
    kd: false,
    timeSteps: 1,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    labels: partial.numClasses === 1000 ? 'imagenet-1k' : null,
    ...partial,
  };
}

/** The name of a published size these dims match ('55M'), or null. */
export function publishedSizeName(dims: readonly number[]): string | null {
  for (const [name, d] of Object.entries(PUBLISHED_EMBED_DIMS)) if (d.every((v, i) => v === dims[i])) return name;
  return null;
}
