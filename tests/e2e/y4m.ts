/**
 * A YUV4MPEG2 clip (4:2:0, full-range BT.601 as `C420jpeg`) for Chromium's fake webcam
 * (`--use-file-for-fake-video-capture`), written from RGB pictures.
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';

export interface Rgb {
  width: number;
  height: number;
  /** RGB bytes, row-major. */
  data: Uint8Array;
}

export function readPngRgb(path: string): Rgb {
  const png = PNG.sync.read(readFileSync(path));
  const data = new Uint8Array(png.width * png.height * 3);
  for (let i = 0, j = 0; i < png.data.length; i += 4, j += 3) {
    data[j] = png.data[i];
    data[j + 1] = png.data[i + 1];
    data[j + 2] = png.data[i + 2];
  }
  return { width: png.width, height: png.height, data };
}

/** `picture` centred on a grey `width`×`height` frame, shifted right by `dx` pixels (nearest-neighbour scale to the frame height). */
export function frameOf(picture: Rgb, width: number, height: number, dx: number): Rgb {
  const out = new Uint8Array(width * height * 3).fill(128);
  const scale = height / picture.height;
  const pw = Math.round(picture.width * scale);
  const x0 = Math.round((width - pw) / 2) + dx;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(picture.height - 1, Math.floor(y / scale));
    for (let x = 0; x < pw; x++) {
      const ox = x0 + x;
      if (ox < 0 || ox >= width) continue;
      const sx = Math.min(picture.width - 1, Math.floor(x / scale));
      const s = (sy * picture.width + sx) * 3;
      const d = (y * width + ox) * 3;
      out[d] = picture.data[s];
      out[d + 1] = picture.data[s + 1];
      out[d + 2] = picture.data[s + 2];
    }
  }
  return { width, height, data: out };
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** The y4m bytes of `frames` (all the same even size) at `fps`. */
export function encodeY4m(frames: Rgb[], fps = 15): Buffer {
  const { width: w, height: h } = frames[0];
  if (w % 2 || h % 2) throw new Error('y4m 4:2:0 needs an even width and height');
  const header = Buffer.from(`YUV4MPEG2 W${w} H${h} F${fps}:1 Ip A1:1 C420jpeg\n`, 'ascii');
  const parts: Buffer[] = [header];
  for (const f of frames) {
    if (f.width !== w || f.height !== h) throw new Error('all frames must have the same size');
    const y = Buffer.alloc(w * h);
    const u = Buffer.alloc((w / 2) * (h / 2));
    const v = Buffer.alloc((w / 2) * (h / 2));
    for (let i = 0; i < w * h; i++) {
      const r = f.data[3 * i], g = f.data[3 * i + 1], b = f.data[3 * i + 2];
      y[i] = clamp(0.299 * r + 0.587 * g + 0.114 * b);
    }
    for (let cy = 0; cy < h / 2; cy++) {
      for (let cx = 0; cx < w / 2; cx++) {
        let r = 0, g = 0, b = 0;
        for (const [oy, ox] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          const i = ((2 * cy + oy) * w + 2 * cx + ox) * 3;
          r += f.data[i];
          g += f.data[i + 1];
          b += f.data[i + 2];
        }
        r /= 4;
        g /= 4;
        b /= 4;
        u[cy * (w / 2) + cx] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
        v[cy * (w / 2) + cx] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
      }
    }
    parts.push(Buffer.from('FRAME\n', 'ascii'), y, u, v);
  }
  return Buffer.concat(parts);
}
