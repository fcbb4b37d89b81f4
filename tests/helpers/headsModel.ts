/** Configs with the task heads of training/HEADS.md (the digits model's layout) for tests. */
import { DEFAULT_DETECTION_DECODE, defaultConfig, type HeadsConfig, type ModelConfig } from '../../src/model/config.ts';

export function digitsHeads(dims: ModelConfig['embedDims'], o: { fpn?: number; segClasses?: number; detClasses?: number; seg?: boolean; det?: boolean } = {}): HeadsConfig {
  const fpn = o.fpn ?? 32;
  const segClasses = o.segClasses ?? 11;
  const detClasses = o.detClasses ?? 10;
  return {
    fpn: { channels: fpn, levels: [{ stage: 1, inChannels: dims[0], stride: 4 }, { stage: 2, inChannels: dims[1], stride: 8 }, { stage: 4, inChannels: dims[3], stride: 16 }] },
    segment: o.seg === false ? null : { channels: fpn, numClasses: segClasses, classNames: Array.from({ length: segClasses }, (_, i) => String(i)), stride: 4 },
    detect: o.det === false ? null : { channels: fpn, numClasses: detClasses, classNames: Array.from({ length: detClasses }, (_, i) => String(i)), decode: { ...DEFAULT_DETECTION_DECODE } },
  };
}

/** The digits model's architecture: dims 16/32/64/96, depths 6+2, T = 2, 10 classes, heads. */
export function digitsConfig(o: Parameters<typeof digitsHeads>[1] & { depths?: [number, number]; timeSteps?: number } = {}): ModelConfig {
  const dims: ModelConfig['embedDims'] = [16, 32, 64, 96];
  return defaultConfig({ embedDims: dims, numClasses: 10, depths: o.depths ?? [6, 2], timeSteps: o.timeSteps ?? 2, heads: digitsHeads(dims, o) });
}
