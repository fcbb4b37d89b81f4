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
  /**
   * Dense-prediction heads on the same backbone (spiking FPN, segmentation, detection;
   * `training/HEADS.md`), read off the `fpn.*`, `seg_head.*` and `det_head.*` tensors. Absent
   * (or null) for a classification-only checkpoint.
   */
  heads?: HeadsConfig | null;
}

// The tasks (names, choices, which heads a config has) are owned by `tasks.ts`; re-exported here
// for the modules that read them with the config.
export { availableTasks, configForTasks, type Task } from './tasks.ts';

/** One FPN level: which backbone stage's output feeds it. */
export interface FpnLevel {
  /**
   * Backbone stage 1..4 whose last block output is tapped (stage 1: `ConvBlock1_2.*`, stride 4;
   * 2: `ConvBlock2_2.*`, stride 8; 3: `block3.*`, stride 16; 4: `block4.*`, stride 16).
   */
  stage: 1 | 2 | 3 | 4;
  /** Channels of that stage (E0..E3). */
  inChannels: number;
  /** Stride of the level in input pixels (4, 8, 16). */
  stride: number;
}

export interface FpnConfig {
  /** Output channels of every lateral and output conv. */
  channels: number;
  /** Levels from fine to coarse; each level's stride is twice the previous one's. */
  levels: FpnLevel[];
}

export interface SegmentHeadConfig {
  /** Channels of the scale-head stages. */
  channels: number;
  numClasses: number;
  /** One name per class (`background`, `0`, …); `String(i)` when the file has none. */
  classNames: string[];
  /** Stride of `seg_logits` (that of FPN level 0, 4); the mask is upsampled by it. */
  stride: number;
}

/** Decoding of the detection maps (HEADS.md, `decode_detections`). */
export interface DetectionDecodeParams {
  /** Cells of `det_heatmap`, in input pixels (FPN level 0's stride, 4). */
  stride: number;
  /** A candidate needs heat logit ≥ this (= ln(p/(1−p)) of the score threshold p). */
  logitThreshold: number;
  preNmsTopK: number;
  /** Greedy class-agnostic NMS drops a box whose IoU with a kept box is > this. */
  nmsIou: number;
  maxDetections: number;
}

export interface DetectHeadConfig {
  /** Channels of the stem conv. */
  channels: number;
  numClasses: number;
  classNames: string[];
  decode: DetectionDecodeParams;
}

export interface HeadsConfig {
  fpn: FpnConfig;
  segment: SegmentHeadConfig | null;
  detect: DetectHeadConfig | null;
}

/** HEADS.md's decoding constants (also what a file without `spikeformer.tasks` gets). */
export const DEFAULT_DETECTION_DECODE: DetectionDecodeParams = {
  stride: 4,
  logitThreshold: -0.8472978603872037, // ln(0.3 / 0.7): score ≥ 0.3
  preNmsTopK: 50,
  nmsIou: 0.5,
  maxDetections: 20,
};

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
