/**
 * The CLI's model input: a `.npy` used as it is (`[1,C,H,W]` or `[C,H,W]` float), or a PNG/JPEG
 * preprocessed, in this order of precedence: with `--size`, resized straight to that size; as the
 * model file declares for the task (its centre square resized to the declared size, see
 * src/model/inputSpec.ts); for detection and segmentation without a declaration, at its own size;
 * else as the official evaluation does (shorter side to 256 bicubic, center-crop 224, normalize).
 */
import { readFile } from 'node:fs/promises';
import { readNpy } from '../io/npy.ts';
import type { ModelConfig } from '../model/config.ts';
import type { TaskInput } from '../model/inputSpec.ts';
import { decodeImage } from '../preprocess/decodeImageNode.ts';
import { centreSquarePreprocess, normalizeToChw, officialPreprocess, resizePreprocess } from '../preprocess/image.ts';
import { CliError } from './cliError.ts';

export interface ModelInput {
  /** `[C, H, W]` normalized input. */
  data: Float32Array;
  height: number;
  width: number;
}

export interface LoadInputOptions {
  /**
   * Without `size`, use an image at its own size (normalized only; height and width must be
   * multiples of 16) instead of the classification crop: detection and segmentation work on the
   * whole frame, and their boxes and masks are then in the image's pixels.
   */
  nativeSize?: boolean;
  /** The input the model file declares for the task; wins over `nativeSize` and the official crop. */
  declared?: TaskInput;
}

export async function loadInput(path: string, config: ModelConfig, size?: [number, number], options: LoadInputOptions = {}): Promise<ModelInput> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (path.toLowerCase().endsWith('.npy')) return npyInput(bytes, path, config, size);
  const image = decodeImage(bytes, path);
  if (size) return resizePreprocess(image, size[0], size[1], config.mean, config.std);
  if (options.declared) return centreSquarePreprocess(image, options.declared.height, options.declared.width, config.mean, config.std);
  if (options.nativeSize) {
    if (image.height % 16 !== 0 || image.width % 16 !== 0) {
      throw new CliError(`${path} is ${image.height}x${image.width}; detection and segmentation use the image at its own size, which must be a multiple of 16 (or give --size HxW to resize it)`);
    }
    return normalizeToChw(image, config.mean, config.std);
  }
  return officialPreprocess(image, config.mean, config.std);
}

function npyInput(bytes: Uint8Array, path: string, config: ModelConfig, size?: [number, number]): ModelInput {
  const array = readNpy(bytes);
  const shape = array.shape.length === 4 && array.shape[0] === 1 ? array.shape.slice(1) : array.shape;
  if (shape.length !== 3 || shape[0] !== config.inChannels) {
    throw new CliError(`${path}: expected an array of shape [1,${config.inChannels},H,W] or [${config.inChannels},H,W], got [${array.shape}]`);
  }
  if (array.dtype !== 'float32' && array.dtype !== 'float64') throw new CliError(`${path}: expected float32 values, got ${array.dtype}`);
  const [, height, width] = shape;
  if (height % 16 !== 0 || width % 16 !== 0) throw new CliError(`${path}: input ${height}x${width} must have height and width divisible by 16`);
  if (size && (size[0] !== height || size[1] !== width)) {
    throw new CliError(`${path}: a .npy input is used as it is, but it is ${height}x${width} and --size asks for ${size[0]}x${size[1]}`);
  }
  return { data: Float32Array.from(array.data as Float32Array | Float64Array), height, width };
}
