/**
 * The shader registry: every WGSL program of the runtime (in `shaders/`), the snippets they
 * include, and each program's interface (`ProgramInterface`: uniform struct, bindings, entry
 * points), read once from its source after the includes are expanded. Pure TypeScript, no GPU.
 *
 * A shader pulls in a snippet with a line `//@include NAME` (each snippet once per program; a
 * snippet may include others) and is specialized by replacing every `{{NAME}}` with a plan step's
 * constant.
 */
import lifSrc from '../../../shaders/lif.wgsl?raw';
import spikeConvSrc from '../../../shaders/spike_conv.wgsl?raw';
import spikeDwconvSrc from '../../../shaders/spike_dwconv.wgsl?raw';
import denseConvSrc from '../../../shaders/dense_conv.wgsl?raw';
import denseDwconvSrc from '../../../shaders/dense_dwconv.wgsl?raw';
import attentionSrc from '../../../shaders/attention.wgsl?raw';
import addSrc from '../../../shaders/add.wgsl?raw';
import headSrc from '../../../shaders/head.wgsl?raw';
import upsampleSrc from '../../../shaders/upsample.wgsl?raw';
import segmentationMaskSrc from '../../../shaders/segmentation_mask.wgsl?raw';
import detectionDecodeSrc from '../../../shaders/detection_decode.wgsl?raw';
import preprocessSrc from '../../../shaders/preprocess.wgsl?raw';
import threadSrc from '../../../shaders/thread.wgsl?raw';
import affineSrc from '../../../shaders/affine.wgsl?raw';
import convEpilogueSrc from '../../../shaders/conv_epilogue.wgsl?raw';
import convLifSrc from '../../../shaders/conv_lif.wgsl?raw';
import convTileSrc from '../../../shaders/conv_tile.wgsl?raw';
import convBlockSrc from '../../../shaders/conv_block.wgsl?raw';
import convColumnsSrc from '../../../shaders/conv_columns.wgsl?raw';
import wordAccumulatorsSrc from '../../../shaders/word_accumulators.wgsl?raw';
import { ProgramInterface } from './programInterface.ts';

const SHADER_SOURCES = {
  lif: lifSrc,
  spike_conv: spikeConvSrc,
  spike_dwconv: spikeDwconvSrc,
  dense_conv: denseConvSrc,
  dense_dwconv: denseDwconvSrc,
  attention: attentionSrc,
  add: addSrc,
  head: headSrc,
  upsample: upsampleSrc,
  segmentation_mask: segmentationMaskSrc,
  detection_decode: detectionDecodeSrc,
  preprocess: preprocessSrc,
};

export type ShaderName = keyof typeof SHADER_SOURCES;

export const SHADER_NAMES = Object.keys(SHADER_SOURCES) as ShaderName[];

/** WGSL snippets a shader pulls in with a line `//@include NAME`. */
const SHADER_INCLUDES: Record<string, string> = { thread: threadSrc, affine: affineSrc, conv_epilogue: convEpilogueSrc, conv_columns: convColumnsSrc, conv_lif: convLifSrc, conv_tile: convTileSrc, conv_block: convBlockSrc, word_accumulators: wordAccumulatorsSrc };

/** One compute program: a shader, its entry point and its `{{NAME}}` constants. */
export interface ProgramKey {
  shader: ShaderName;
  entry: string;
  /** `{{NAME}}` substitutions in the shader source. */
  defines: Record<string, number>;
}

function expandIncludes(source: string, included: Set<string>): string {
  return source.replace(/^\/\/@include (\w+)[ \t]*$/gm, (_, name: string) => {
    const snippet = SHADER_INCLUDES[name];
    if (snippet === undefined) throw new Error(`shader include ${name} does not exist`);
    if (included.has(name)) return '';
    included.add(name);
    return expandIncludes(snippet, included);
  });
}

const expanded = new Map<ShaderName, string>();
const interfaces = new Map<ShaderName, ProgramInterface>();

/** The shader's WGSL with its includes expanded (`{{NAME}}` constants still in place). */
export function shaderSource(shader: ShaderName): string {
  let code = expanded.get(shader);
  if (code === undefined) {
    const source = SHADER_SOURCES[shader];
    if (source === undefined) throw new Error(`no shader ${shader}`);
    code = expandIncludes(source, new Set());
    expanded.set(shader, code);
  }
  return code;
}

/** The interface of a shader (parsed on first use). */
export function programInterface(shader: ShaderName): ProgramInterface {
  let iface = interfaces.get(shader);
  if (!iface) {
    iface = new ProgramInterface(shader, shaderSource(shader));
    interfaces.set(shader, iface);
  }
  return iface;
}

/** The WGSL of a program: its shader, includes expanded, every `{{NAME}}` replaced by the constant. */
export function specializeShader(key: ProgramKey): string {
  return shaderSource(key.shader).replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in key.defines)) throw new Error(`shader constant ${name} of ${key.shader}.wgsl is not defined`);
    return String(key.defines[name]);
  });
}

export function programId(key: ProgramKey): string {
  const d = Object.keys(key.defines).sort().map((k) => `${k}=${key.defines[k]}`).join(',');
  return `${key.shader}:${key.entry}:${d}`;
}
