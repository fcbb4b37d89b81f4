/**
 * RGB images and PIL-compatible bicubic resizing. Browser-safe (no Node imports).
 *
 * `resizeBicubic` reproduces Pillow's `Image.resize(size, Image.BICUBIC)` for 8-bit RGB
 * images bit for bit: the same filter (Keys cubic, a = -0.5), the same antialiasing
 * (when downscaling, the filter support grows by the scale factor), the same coefficient
 * normalisation and 22-bit fixed-point rounding, and the same order (horizontal pass
 * into an 8-bit intermediate image, then vertical pass). See Pillow's
 * `src/libImaging/Resample.c` (precompute_coeffs, normalize_coeffs_8bpc,
 * ImagingResampleHorizontal_8bpc / ImagingResampleVertical_8bpc, ImagingResampleInner).
 */

export interface RgbImage {
  width: number;
  height: number;
  /** RGB, 3 bytes per pixel, row-major, top row first: length = width * height * 3. */
  data: Uint8Array;
}

/** Check that `img` is a well-formed RgbImage; throws an Error saying what is wrong. */
export function assertRgbImage(img: RgbImage, what = 'image'): void {
  const { width, height, data } = img;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`${what}: width and height must be positive integers, got ${width}×${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new Error(`${what}: data must be a Uint8Array of width*height*3 = ${width * height * 3} bytes, got ${data?.length}`);
  }
}

// ---------------------------------------------------------------------------------------
// Pillow's resampling

/** Pillow's fixed-point precision for the 8-bit path: 32 - 8 (uint8) - 2 (headroom for negative lobes). */
const PRECISION_BITS = 22;
/** Bicubic support radius in input pixels at scale 1. */
const BICUBIC_SUPPORT = 2;

/** Keys' cubic convolution kernel with a = -0.5, written exactly as Pillow evaluates it. */
function bicubicFilter(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coeffs {
  /** Max taps per output pixel. */
  ksize: number;
  /** Per output pixel: first input index. */
  start: Int32Array;
  /** Per output pixel: number of taps. */
  count: Int32Array;
  /** outSize * ksize fixed-point weights (already normalised and rounded). */
  weights: Int32Array;
}

/**
 * Pillow's precompute_coeffs + normalize_coeffs_8bpc for resampling the input range
 * [in0, in1) of an axis of `inSize` pixels onto `outSize` pixels.
 */
function precomputeCoeffs(inSize: number, in0: number, in1: number, outSize: number): Coeffs {
  const scale = (in1 - in0) / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = BICUBIC_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    // C casts (int) truncate toward zero.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubicFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      const fixed = w * (1 << PRECISION_BITS);
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + fixed) : Math.trunc(0.5 + fixed);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, start, count, weights };
}

/** Pillow's clip8: fixed-point accumulator → uint8 with clamping. */
function clip8(acc: number): number {
  const v = Math.floor(acc / (1 << PRECISION_BITS)); // == acc >> PRECISION_BITS for int32
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

const HALF = 1 << (PRECISION_BITS - 1);

/**
 * Resize an RGB image with Pillow's BICUBIC filter, matching
 * `PIL.Image.fromarray(rgb).resize((outW, outH), Image.BICUBIC)` exactly.
 * Returns a copy when the size is unchanged.
 */
export function resizeBicubic(img: RgbImage, outW: number, outH: number): RgbImage {
  assertRgbImage(img);
  if (!Number.isSafeInteger(outW) || !Number.isSafeInteger(outH) || outW <= 0 || outH <= 0) {
    throw new Error(`resizeBicubic: output size must be positive integers, got ${outW}×${outH}`);
  }
  const { width: inW, height: inH } = img;
  if (inW === outW && inH === outH) return { width: inW, height: inH, data: img.data.slice() };

  const needH = outW !== inW;
  const needV = outH !== inH;
  const horiz = precomputeCoeffs(inW, 0, inW, outW);
  const vert = precomputeCoeffs(inH, 0, inH, outH);

  let src = img.data;
  let srcW = inW;
  // Horizontal pass, only over the input rows the vertical pass will read.
  let rowFirst = 0;
  const vStart = vert.start.slice();
  if (needH) {
    rowFirst = vert.start[0];
    const rowLast = vert.start[outH - 1] + vert.count[outH - 1];
    const rows = rowLast - rowFirst;
    for (let i = 0; i < outH; i++) vStart[i] -= rowFirst;
    const tmp = new Uint8Array(outW * rows * 3);
    const { ksize, start, count, weights } = horiz;
    for (let y = 0; y < rows; y++) {
      const rowIn = (y + rowFirst) * inW * 3;
      const rowOut = y * outW * 3;
      for (let xx = 0; xx < outW; xx++) {
        const kOff = xx * ksize;
        const n = count[xx];
        let p = rowIn + start[xx] * 3;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0; x < n; x++, p += 3) {
          const w = weights[kOff + x];
          s0 += src[p] * w;
          s1 += src[p + 1] * w;
          s2 += src[p + 2] * w;
        }
        const o = rowOut + xx * 3;
        tmp[o] = clip8(s0);
        tmp[o + 1] = clip8(s1);
        tmp[o + 2] = clip8(s2);
      }
    }
    src = tmp;
    srcW = outW;
  }
  if (!needV) return { width: outW, height: outH, data: src === img.data ? src.slice() : src };

  const out = new Uint8Array(srcW * outH * 3);
  const { ksize, count, weights } = vert;
  const stride = srcW * 3;
  for (let yy = 0; yy < outH; yy++) {
    const kOff = yy * ksize;
    const n = count[yy];
    const base = vStart[yy] * stride;
    const rowOut = yy * stride;
    for (let xx = 0; xx < srcW; xx++) {
      let p = base + xx * 3;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let y = 0; y < n; y++, p += stride) {
        const w = weights[kOff + y];
        s0 += src[p] * w;
        s1 += src[p + 1] * w;
        s2 += src[p + 2] * w;
      }
      const o = rowOut + xx * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return { width: srcW, height: outH, data: out };
}

// ---------------------------------------------------------------------------------------
// torchvision-style geometry

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * torchvision `Resize(size)` with an int size: the shorter side becomes `size`, the longer
 * `int(size * long / short)`; bicubic (PIL). Unchanged size returns a copy.
 */
export function resizeShorterSide(img: RgbImage, size: number): RgbImage {
  assertRgbImage(img);
  const { width: w, height: h } = img;
  const [short, long] = w <= h ? [w, h] : [h, w];
  const newShort = size;
  const newLong = Math.trunc((size * long) / short);
  const [newW, newH] = w <= h ? [newShort, newLong] : [newLong, newShort];
  return resizeBicubic(img, newW, newH);
}

/**
 * torchvision `CenterCrop((cropH, cropW))`: offsets `int(round((size - crop) / 2.0))`
 * (Python rounding); where the crop is larger than the image, zero padding as torchvision
 * pads (left/top gets the floor half).
 */
export function centerCrop(img: RgbImage, cropW: number, cropH: number): RgbImage {
  assertRgbImage(img);
  if (!Number.isSafeInteger(cropW) || !Number.isSafeInteger(cropH) || cropW <= 0 || cropH <= 0) {
    throw new Error(`centerCrop: crop size must be positive integers, got ${cropW}×${cropH}`);
  }
  const offset = (size: number, crop: number): number =>
    crop > size ? -Math.floor((crop - size) / 2) : roundHalfEven((size - crop) / 2);
  const left = offset(img.width, cropW);
  const top = offset(img.height, cropH);
  const out = new Uint8Array(cropW * cropH * 3);
  for (let y = 0; y < cropH; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= img.height) continue;
    for (let x = 0; x < cropW; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= img.width) continue;
      const s = (sy * img.width + sx) * 3;
      const d = (y * cropW + x) * 3;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  }
  return { width: cropW, height: cropH, data: out };
}

// ---------------------------------------------------------------------------------------
// Normalisation

export interface PreprocessedImage {
  /** [3, height, width], channel-major (CHW), float32. */
  data: Float32Array;
  height: number;
  width: number;
}

type Triple = readonly [number, number, number] | readonly number[];

/**
 * torchvision `ToTensor()` then `Normalize(mean, std)`: CHW float32, `(v / 255 - mean) / std`
 * computed in float32 exactly as torch does (mean and std rounded to float32 first).
 */
export function normalizeToChw(img: RgbImage, mean: Triple, std: Triple): PreprocessedImage {
  assertRgbImage(img);
  if (mean.length !== 3 || std.length !== 3) throw new Error(`mean and std must have 3 values (RGB), got ${mean.length} and ${std.length}`);
  if (std.some((s) => !(s !== 0 && Number.isFinite(s)))) throw new Error(`std values must be finite and non-zero, got [${std.join(', ')}]`);
  const { width, height, data } = img;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    // Only 256 distinct inputs per channel: tabulate.
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(Math.fround(v / 255) - m) / s);
    const o = c * plane;
    for (let i = 0; i < plane; i++) out[o + i] = lut[data[i * 3 + c]];
  }
  return { data: out, height, width };
}

/**
 * The official Meta-SpikeFormer evaluation transform (timm / torchvision):
 * `Resize(resizeSize, BICUBIC)` on the shorter side, `CenterCrop(cropSize)`, `ToTensor()`,
 * `Normalize(mean, std)`. Defaults 256 / 224 (crop_pct 0.875 at 224).
 */
export function officialPreprocess(
  img: RgbImage,
  mean: Triple,
  std: Triple,
  options: { resizeSize?: number; cropSize?: number } = {},
): PreprocessedImage {
  const resizeSize = options.resizeSize ?? 256;
  const cropSize = options.cropSize ?? 224;
  const resized = resizeShorterSide(img, resizeSize);
  return normalizeToChw(centerCrop(resized, cropSize, cropSize), mean, std);
}

/** Resize straight to `height`×`width` (PIL bicubic, aspect ratio not kept), then normalise. */
export function resizePreprocess(img: RgbImage, height: number, width: number, mean: Triple, std: Triple): PreprocessedImage {
  return normalizeToChw(resizeBicubic(img, width, height), mean, std);
}

/**
 * The largest centred square of the image (offsets as `centerCrop`), resized to
 * `height`×`width` (PIL bicubic), then normalised: how a model file's declared input
 * (`crop: 'centre-square'`, see src/model/inputSpec.ts) is cut from a photo or a frame.
 */
export function centreSquarePreprocess(img: RgbImage, height: number, width: number, mean: Triple, std: Triple): PreprocessedImage {
  const side = Math.min(img.width, img.height);
  return normalizeToChw(resizeBicubic(centerCrop(img, side, side), width, height), mean, std);
}
