/**
 * One way for the CLI and the app to get a frame's boxes and mask from any backend: the results
 * the backend decoded itself (the WebGPU runtime, on the GPU) or, failing that, the CPU decoding of
 * the raw head maps it returned.
 */
import type { ModelGraph } from '../model/graph.ts';
import type { FrameResult, TaskResults } from '../runtime/types.ts';
import { decodeDetections } from './detection.ts';
import { decodeSegmentation } from './segmentation.ts';

export function taskResults(result: FrameResult, graph: ModelGraph): TaskResults {
  const heads = graph.config.heads;
  const H = graph.inputHeight, W = graph.inputWidth;
  const out: TaskResults = {};
  const heat = result.outputs?.get('det_heatmap');
  const reg = result.outputs?.get('det_boxreg');
  if (result.tasks?.detections) out.detections = result.tasks.detections;
  else if (heads?.detect && heat && reg) {
    out.detections = decodeDetections(heat, reg, H, W, { ...heads.detect.decode, classNames: heads.detect.classNames });
  }
  const seg = result.outputs?.get('seg_logits');
  if (result.tasks?.mask) out.mask = result.tasks.mask;
  else if (heads?.segment && seg) out.mask = decodeSegmentation(seg, H, W, heads.segment.stride);
  return out;
}
