/**
 * Where each of Meta-SpikeFormer's neuron layers sits: the stage (by the official module names),
 * the block, and a short role, so the firing-rate chart can group the 77 layers as the paper does.
 */
export type StageId = 'stage1' | 'stage2' | 'stage3' | 'stage4' | 'head' | 'fpn' | 'seg' | 'det';

export const STAGE_TITLES: Record<StageId, string> = {
  stage1: 'Stage 1 · conv',
  stage2: 'Stage 2 · conv',
  stage3: 'Stage 3 · transformer',
  stage4: 'Stage 4 · transformer',
  head: 'Head',
  fpn: 'FPN',
  seg: 'Segmentation head',
  det: 'Detection head',
};

const STAGE_ORDER: StageId[] = ['stage1', 'stage2', 'stage3', 'stage4', 'head', 'fpn', 'seg', 'det'];

/** The stage of a neuron layer from its official module name. */
export function stageOf(name: string): StageId {
  if (/^(ConvBlock1_|downsample1_)/.test(name)) return 'stage1';
  if (/^(ConvBlock2_|downsample2\.)/.test(name)) return 'stage2';
  if (/^(block3\.|downsample3\.)/.test(name)) return 'stage3';
  if (/^(block4\.|downsample4\.)/.test(name)) return 'stage4';
  if (name.startsWith('fpn.')) return 'fpn';
  if (name.startsWith('seg_head.')) return 'seg';
  if (name.startsWith('det_head.')) return 'det';
  return 'head';
}

/** The block a layer belongs to: `block3.0`, `ConvBlock1_1.0`, `downsample2`, or `head`. */
export function blockOf(name: string): string {
  const m = /^(block\d\.\d+|ConvBlock\d_\d\.0|downsample\d(?:_\d)?|fpn\.(?:lateral|output)\.\d+|seg_head\.scale_heads\.\d+\.\d+|seg_head|det_head\.stem|det_head)/.exec(name);
  return m ? m[1] : 'head';
}

/** What the neuron does, in a few words, for tooltips: "attention q", "MLP fc1", … */
export function roleOf(name: string): string {
  const last = name.slice(blockOf(name).length + 1);
  const roles: Record<string, string> = {
    'encode_lif': 'before downsampling conv',
    'Conv.lif1': 'SepConv input',
    'Conv.lif2': 'SepConv after pw conv',
    'lif1': 'conv 3×3 input',
    'lif2': 'conv 3×3 hidden',
    'attn.head_lif': 'attention input',
    'attn.q_lif': 'attention q',
    'attn.k_lif': 'attention k',
    'attn.v_lif': 'attention v',
    'attn.attn_lif': 'attention output (q·kᵀv)',
    'mlp.fc1_lif': 'MLP input',
    'mlp.fc2_lif': 'MLP hidden',
  };
  if (name === 'lif') return 'head, before the classifier';
  if (/^(fpn|seg_head|det_head)\./.test(name)) {
    const heads: Record<string, string> = { 'seg_head.cls_lif': 'segmentation, before the classifier conv', 'det_head.out_lif': 'detection, before the heatmap/box convs', 'det_head.stem.lif': 'detection stem conv input' };
    return heads[name] ?? `${blockOf(name)} conv input`;
  }
  return roles[last] ?? last;
}

export interface StageGroup<L> {
  stage: StageId;
  title: string;
  /** Index of the group's first layer in the input list. */
  first: number;
  layers: L[];
}

/**
 * Groups layers (in execution order) by stage, keeping their order; stages with no layer are
 * left out. Each layer is kept as given, so callers can group names or records.
 */
export function groupByStage<L>(layers: readonly L[], nameOf: (layer: L) => string): StageGroup<L>[] {
  const groups = new Map<StageId, StageGroup<L>>();
  layers.forEach((layer, i) => {
    const stage = stageOf(nameOf(layer));
    let g = groups.get(stage);
    if (!g) {
      g = { stage, title: STAGE_TITLES[stage], first: i, layers: [] };
      groups.set(stage, g);
    }
    g.layers.push(layer);
  });
  return STAGE_ORDER.filter((s) => groups.has(s)).map((s) => groups.get(s)!);
}

/** Transformer blocks (`block3.0` …) that have attention neurons, in order. */
export function attentionBlocks(layerNames: readonly string[]): string[] {
  const blocks: string[] = [];
  for (const n of layerNames) {
    const m = /^(block\d\.\d+)\.attn\.q_lif$/.exec(n);
    if (m) blocks.push(m[1]);
  }
  return blocks;
}
