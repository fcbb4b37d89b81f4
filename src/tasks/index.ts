/** Decoding of the task heads' raw outputs (HEADS.md): segmentation masks and detections. */
export { decodeSegmentation, maskHistogram } from './segmentation.ts';
export { decodeDetections, detectionAtCell, greedyNms, iou, type Box, type DecodeDetectionsOptions, type Detection } from './detection.ts';
export { taskResults } from './taskResults.ts';
