/**
 * torch.save checkpoints (the zip format, torch >= 1.6): `<top>/data.pkl` is the pickled object
 * with every tensor storage replaced by a persistent id, `<top>/data/<key>` holds each storage's
 * raw little-endian bytes, `<top>/byteorder` (torch >= 2.1) says 'little' or 'big', `<top>/version`
 * the format version. The top folder is named after the file torch first saved to ('archive',
 * 'checkpoint', ...).
 *
 * Reading parses only data.pkl; tensor bytes are read on demand by `loadTensor`, so the records
 * nobody asks for (optimizer moments, usually two thirds of a training checkpoint) are never read.
 */
import { ownBytes, type ByteSource } from '../io/byteSource.ts';
import { detectCheckpointFormat, DETECT_HEAD_BYTES, unsupportedFormatError } from './detect.ts';
import { CheckpointError } from './errors.ts';
import { tensorViewExtent, unpickle, type PickleOptions, type PickleValue, type TensorRef } from './pickle.ts';
import { ITEM_SIZE, type Tensor } from './tensor.ts';
import { openZip, type ZipLimits } from './zip.ts';

export interface PytorchCheckpoint {
  /** The unpickled data.pkl, tensors as `TensorRef`. */
  root: PickleValue;
  /** The zip's top folder (e.g. 'archive' or 'checkpoint'). */
  archiveName: string;
  /** Reads the tensor's storage record and returns its view as a C-contiguous `Tensor`. */
  loadTensor(ref: TensorRef): Promise<Tensor>;
}

export interface PytorchOptions {
  /** Largest data.pkl accepted, in bytes (default 256 MiB). */
  maxPickleBytes?: number;
  /** Largest tensor `loadTensor` returns, in bytes (default 1 GiB). */
  maxTensorBytes?: number;
  pickle?: Omit<PickleOptions, 'name'>;
  zip?: ZipLimits;
}

const DEFAULT_MAX_PICKLE_BYTES = 256 * 1024 * 1024;
const DEFAULT_MAX_TENSOR_BYTES = 2 ** 30;

export async function readPytorchCheckpoint(source: ByteSource, options: PytorchOptions = {}): Promise<PytorchCheckpoint> {
  const name = source.name;
  if (source.size === 0) throw new CheckpointError('not-a-checkpoint', `${name}: the file is empty`);
  const format = detectCheckpointFormat(await source.read(0, Math.min(DETECT_HEAD_BYTES, source.size)));
  if (format !== 'pytorch-zip') {
    throw unsupportedFormatError(name, format) ?? new CheckpointError('not-a-checkpoint', `${name}: a safetensors file, not a torch.save file`);
  }

  const zip = await openZip(source, options.zip);
  const pickles = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pickles.length === 0) throw new CheckpointError('not-a-checkpoint', `${name}: a zip without <folder>/data.pkl, so not a torch.save file`);
  if (pickles.length > 1) throw new CheckpointError('bad-zip', `${name}: the zip has ${pickles.length} data.pkl records; expected one`);
  const pkl = pickles[0];
  const top = pkl.name.slice(0, -'/data.pkl'.length);
  // torch.jit.save writes the same layout plus the module's Python source and its constants.
  if (zip.get(`${top}/constants.pkl`) || zip.entries.some((e) => e.name.startsWith(`${top}/code/`))) {
    throw new CheckpointError('not-a-checkpoint', `${name}: a TorchScript archive (torch.jit.save), not a state_dict; in Python, save model.state_dict() with torch.save and open that file`);
  }

  const byteorder = zip.get(`${top}/byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(await zip.readEntry(byteorder)).trim();
    if (order !== 'little') {
      throw new CheckpointError('bad-tensor', `${name}: tensors are stored in '${order.slice(0, 20)}' byte order; only little-endian is supported (re-save it on a little-endian machine)`);
    }
  }

  const maxPickle = options.maxPickleBytes ?? DEFAULT_MAX_PICKLE_BYTES;
  if (pkl.uncompressedSize > maxPickle) {
    throw new CheckpointError('limit', `${name}: ${pkl.name} is ${pkl.uncompressedSize} bytes; at most ${maxPickle} are accepted`);
  }
  const root = unpickle(await zip.readEntry(pkl), { ...options.pickle, name: `${name}: ${pkl.name}` });
  const maxTensorBytes = options.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES;

  async function loadTensor(ref: TensorRef): Promise<Tensor> {
    const { storage, shape, stride } = ref;
    const { first, end } = tensorViewExtent(ref, name);
    const itemSize = ITEM_SIZE[storage.dtype];
    const bytes = shape.reduce((n, s) => n * BigInt(s), 1n) * BigInt(itemSize);
    if (bytes > BigInt(maxTensorBytes)) {
      throw new CheckpointError('limit', `${name}: a tensor of shape [${shape}] (${storage.dtype}) is ${bytes} bytes; at most ${maxTensorBytes} are loaded`);
    }
    const record = `${top}/data/${storage.key}`;
    const entry = zip.get(record);
    if (!entry) throw new CheckpointError('bad-tensor', `${name}: storage record ${record} is missing`);
    const storageBytes = storage.numel * itemSize;
    if (entry.uncompressedSize !== storageBytes) {
      throw new CheckpointError('bad-tensor', `${name}: storage record ${record} is ${entry.uncompressedSize} bytes but its ${storage.numel} ${storage.dtype} elements need ${storageBytes}`);
    }
    const size = Number(bytes);
    if (size === 0) return { dtype: storage.dtype, shape: shape.slice(), data: new Uint8Array(0) };

    // Only the span of the storage the view touches is read.
    const span = first === 0 && end === storage.numel
      ? await zip.readEntry(entry)
      : await zip.readEntryRange(entry, first * itemSize, (end - first) * itemSize);
    const data = isContiguous(shape, stride)
      ? ownBytes(span.subarray(0, size))
      : gather(span, ref.storageOffset - first, shape, stride, itemSize, size);
    return { dtype: storage.dtype, shape: shape.slice(), data };
  }

  return { root, archiveName: top, loadTensor };
}

/** Whether a view with these strides is C-contiguous (strides of size-1 dims do not matter). */
function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/**
 * Copies a strided view into C order. `start` is the view's first element within `src`
 * (in elements); strides are in elements. Iterates rows of the last dimension with an odometer
 * over the others, so any rank works without recursion.
 */
function gather(src: Uint8Array, start: number, shape: readonly number[], stride: readonly number[], itemSize: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const nd = shape.length;
  const rowLen = shape[nd - 1];
  const rowStride = stride[nd - 1];
  const rowBytes = rowLen * itemSize;
  const rows = size / rowBytes;
  const counter = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  let base = start;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    if (rowStride === 1) {
      out.set(src.subarray(base * itemSize, base * itemSize + rowBytes), o);
      o += rowBytes;
    } else {
      for (let j = 0; j < rowLen; j++) {
        const s = (base + j * rowStride) * itemSize;
        for (let k = 0; k < itemSize; k++) out[o++] = src[s + k];
      }
    }
    for (let d = nd - 2; d >= 0; d--) {
      base += stride[d];
      if (++counter[d] < shape[d]) break;
      base -= stride[d] * shape[d];
      counter[d] = 0;
    }
  }
  return out;
}
