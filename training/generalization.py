"""Evaluation sets unlike the training data, framed the way a webcam sees a sheet of paper.

The training digits are MNIST's writers on synthetic paper, centred and filling half to three
quarters of a 64x64 crop. What a person holds up to a webcam differs: printed digits, other
handwriting, a digit a third of the frame tall, off-centre, tilted, in dim light, blurred by
motion, in coloured ink, on ruled or squared paper. Each set here renders one of those, through
the app's path: a 4:3 webcam frame, its centre square, resized (bilinear) to 64x64.

Digit sources:
- `mnist`: MNIST *test* digits (writers the training split never saw);
- `strokes`: handwriting-like digits drawn from stroke skeletons of our own, with the variants
  people write (a 1 with a flag and a foot, a crossed 7, a closed-top 4, a 9 with a curled tail, a
  6 and 9 with open loops), jittered, slanted and in pen widths from fine to marker;
- `printed`: digits set in fonts, split by family: `TRAIN_FONT_FAMILIES` may be used for training,
  `HELD_OUT_FONT_FAMILIES` never are (`font_files('held-out')`).

Non-digit frames (for a "no digit" answer): blank paper, letters, scribbles, textures, shapes,
hands, faces drawn procedurally, and camera noise.

Every sample is a pure function of (set, split, index): np.random.default_rng([SET_SEED, split,
index]). Splits: 'val' (takes every decision) and 'test' (read once per shipped model). Their
handwritten digits come from disjoint pools (`mnist_pool`): 'val' from MNIST train digits
50,000–59,999, which the webcam training recipe never trains on, 'test' from MNIST test.
`webcam_training_sample` draws training samples from the remaining pool, the training fonts and its
own seeds (`TRAIN_SPLIT`).
"""
from __future__ import annotations

import functools
import glob
import math
import os
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

import data

FRAME_W, FRAME_H = 160, 120        # a 4:3 webcam frame (the app crops its centre square)
OUT = data.CLS_SIZE                # 64: the classifier's input
SPLITS = {'val': 101, 'test': 202}
TRAIN_SPLIT = 303                  # reserved for training samplers built on these generators
SET_SEED = {name: i + 11 for i, name in enumerate([
    'printed-unseen-fonts', 'strokes', 'framing-35', 'framing-small', 'framing-off-centre',
    'framing-rotated', 'framing-perspective', 'framing-low-light', 'framing-motion-blur',
    'framing-coloured-ink', 'framing-ruled-paper', 'non-digit'])}

# Where fonts are looked for: $SPIKEFORMER_FONT_DIRS (colon-separated), else the system's.
FONT_DIRS = os.environ.get('SPIKEFORMER_FONT_DIRS', '/usr/share/fonts').split(':')
# Families by file-name prefix. Held-out families are never used for training.
HELD_OUT_FONT_FAMILIES = ('Liberation', 'C059', 'P052', 'URWGothic', 'NimbusMonoPS', 'Cantarell', 'Lato')
TRAIN_FONT_FAMILIES = ('DejaVu', 'Free', 'Carlito', 'Caladea', 'Roboto', 'OpenSans', 'ComicNeue', 'EBGaramond',
                       'LinLibertine', 'LinBiolinum', 'Inconsolata', 'NimbusSans', 'NimbusRoman', 'URWBookman')
NOT_TEXT = ('DejaVuMathTeXGyre', 'D050000L', 'StandardSymbolsPS', 'fontawesome')

COLOURED_INKS = [(200, 30, 30), (30, 60, 190), (20, 130, 60), (120, 40, 150), (220, 110, 20), (0, 130, 150)]


# ----------------------------------------------------------------------------- fonts

def _family_of(path: str, families) -> Optional[str]:
    base = os.path.basename(path)
    return next((f for f in families if base.startswith(f)), None)


@functools.lru_cache(maxsize=None)
def font_files(which: str) -> List[str]:
    """Font files of the 'train' or 'held-out' families present on this machine that render every
    digit as a distinct glyph; sorted by file name, so the list is the same on every machine with the
    same font files, wherever they are installed."""
    families = HELD_OUT_FONT_FAMILIES if which == 'held-out' else TRAIN_FONT_FAMILIES
    files = []
    for d in FONT_DIRS:
        for ext in ('ttf', 'otf'):
            files += glob.glob(os.path.join(d, '**', f'*.{ext}'), recursive=True)
    out = []
    for f in sorted(set(files), key=lambda f: (os.path.basename(f), f)):
        if any(os.path.basename(f).startswith(p) for p in NOT_TEXT) or not _family_of(f, families):
            continue
        if _renders_digits(f):
            out.append(f)
    return out


def _renders_digits(path: str) -> bool:
    try:
        font = ImageFont.truetype(path, 48)
    except OSError:
        return False
    masks = []
    for ch in '0123456789':
        m = font.getmask(ch)
        if m.getbbox() is None:
            return False
        masks.append(bytes(m))
    return len(set(masks)) == 10  # no .notdef boxes standing in for digits


def glyph_alpha(font_path: str, text: str, size: int = 96) -> np.ndarray:
    """The glyphs of `text` as an alpha map (float32 in [0,1]) cropped to their ink."""
    font = ImageFont.truetype(font_path, size)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new('L', (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(img).text((4 - left, 4 - top), text, fill=255, font=font)
    box = img.getbbox()
    return np.asarray(img.crop(box), np.float32) / 255


# ----------------------------------------------------------------------------- handwriting-like strokes

# Skeletons in a unit box (x right, y down), as polylines; several variants per digit.
STROKE_DIGITS: Dict[int, List[List[List[Tuple[float, float]]]]] = {
    0: [[[(0.5, 0.0), (0.15, 0.15), (0.05, 0.5), (0.15, 0.85), (0.5, 1.0), (0.85, 0.85), (0.95, 0.5), (0.85, 0.15), (0.5, 0.0)]]],
    1: [[[(0.5, 0.0), (0.5, 1.0)]],
        [[(0.25, 0.25), (0.55, 0.0), (0.55, 1.0)]],                                   # with a flag
        [[(0.2, 0.3), (0.55, 0.0), (0.55, 1.0)], [(0.3, 1.0), (0.8, 1.0)]]],           # flag and foot
    2: [[[(0.1, 0.2), (0.35, 0.0), (0.7, 0.0), (0.9, 0.2), (0.85, 0.45), (0.1, 1.0), (0.95, 1.0)]]],
    3: [[[(0.1, 0.1), (0.5, 0.0), (0.85, 0.15), (0.8, 0.4), (0.45, 0.5), (0.85, 0.6), (0.9, 0.85), (0.5, 1.0), (0.1, 0.9)]],
        [[(0.1, 0.0), (0.9, 0.0), (0.45, 0.4), (0.85, 0.6), (0.85, 0.85), (0.5, 1.0), (0.1, 0.9)]]],    # flat top
    4: [[[(0.7, 1.0), (0.7, 0.0), (0.05, 0.7), (0.95, 0.7)]],                          # closed top
        [[(0.3, 0.0), (0.1, 0.6), (0.95, 0.6)], [(0.7, 0.25), (0.7, 1.0)]]],           # open top
    5: [[[(0.9, 0.0), (0.2, 0.0), (0.15, 0.45), (0.55, 0.38), (0.9, 0.6), (0.85, 0.9), (0.5, 1.0), (0.1, 0.9)]]],
    6: [[[(0.8, 0.05), (0.4, 0.2), (0.12, 0.6), (0.25, 0.95), (0.6, 1.0), (0.88, 0.75), (0.7, 0.5), (0.3, 0.55), (0.14, 0.7)]],
        [[(0.75, 0.0), (0.2, 0.5), (0.2, 0.85), (0.5, 1.0), (0.8, 0.85), (0.75, 0.6), (0.45, 0.55), (0.2, 0.7)]]],
    7: [[[(0.05, 0.0), (0.95, 0.0), (0.35, 1.0)]],
        [[(0.05, 0.0), (0.95, 0.0), (0.35, 1.0)], [(0.3, 0.5), (0.8, 0.5)]],           # crossed
        [[(0.05, 0.15), (0.1, 0.0), (0.95, 0.0), (0.4, 1.0)]]],                          # with a hook
    8: [[[(0.5, 0.5), (0.15, 0.3), (0.3, 0.0), (0.7, 0.0), (0.85, 0.3), (0.5, 0.5), (0.1, 0.75), (0.3, 1.0), (0.7, 1.0), (0.9, 0.75), (0.5, 0.5)]]],
    9: [[[(0.85, 0.35), (0.6, 0.5), (0.25, 0.45), (0.15, 0.2), (0.45, 0.0), (0.8, 0.1), (0.85, 0.35), (0.8, 1.0)]],
        [[(0.85, 0.3), (0.55, 0.5), (0.2, 0.4), (0.2, 0.1), (0.5, 0.0), (0.85, 0.15), (0.8, 0.6), (0.6, 0.95), (0.3, 0.9)]],  # curled tail
        [[(0.85, 0.3), (0.5, 0.45), (0.2, 0.3), (0.35, 0.02), (0.75, 0.05), (0.85, 0.3), (0.55, 1.0)]]],                        # slanted stem
}


def stroke_alpha(rng: np.random.Generator, digit: int, height: int = 96) -> np.ndarray:
    """A handwriting-like digit: a skeleton variant, its points jittered, slanted, drawn as a
    smoothed polyline in a pen width from fine to marker; alpha cropped to the ink."""
    variants = STROKE_DIGITS[digit]
    strokes = variants[int(rng.integers(len(variants)))]
    width_frac = rng.uniform(0.5, 0.8)
    slant = rng.uniform(-0.25, 0.15)
    pen = max(2, int(round(height * rng.uniform(0.05, 0.16))))
    pad = pen + 4
    w = int(height * width_frac) + 2 * pad
    img = Image.new('L', (w + int(abs(slant) * height), height + 2 * pad), 0)
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        pts = []
        for x, y in stroke:
            x = x + rng.normal(0, 0.035)
            y = y + rng.normal(0, 0.03)
            px = pad + x * height * width_frac + (1 - y) * slant * height + (abs(slant) * height if slant < 0 else 0)
            pts.append((px, pad + y * height))
        if len(pts) > 2:  # a little smoothing: midpoints of the segments
            pts = [pts[0]] + [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in zip(pts, pts[1:])] + [pts[-1]]
        draw.line(pts, fill=255, width=pen, joint='curve')
        for p in (pts[0], pts[-1]):
            draw.ellipse([p[0] - pen / 2, p[1] - pen / 2, p[0] + pen / 2, p[1] + pen / 2], fill=255)
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    return np.asarray(img.crop(img.getbbox()), np.float32) / 255


# ----------------------------------------------------------------------------- the webcam path

def _place(alpha: np.ndarray, frame_w: int, frame_h: int, cx: float, cy: float, height: float,
           angle: float, shear: float = 0.0) -> np.ndarray:
    """Alpha of the glyph placed in the frame: its ink box centred at (cx, cy), `height` pixels
    tall, rotated by `angle` (radians) and sheared."""
    src_h, src_w = alpha.shape
    scale = height / src_h
    ca, sa = math.cos(angle), math.sin(angle)
    a = np.array([[ca, -sa], [sa, ca]]) @ np.array([[1, shear], [0, 1]]) * scale
    ai = np.linalg.inv(a)
    t = np.array([src_w / 2, src_h / 2]) - ai @ np.array([cx, cy])
    im = Image.fromarray((alpha * 255).astype(np.uint8))
    out = im.transform((frame_w, frame_h), Image.AFFINE, (ai[0, 0], ai[0, 1], t[0], ai[1, 0], ai[1, 1], t[1]),
                       resample=Image.BILINEAR)
    return np.asarray(out, np.float32) / 255


def motion_blur(img: np.ndarray, rng: np.random.Generator, length: int) -> np.ndarray:
    angle = rng.uniform(0, math.pi)
    dx, dy = math.cos(angle), math.sin(angle)
    acc = np.zeros_like(img)
    for k in range(length):
        s = k - (length - 1) / 2
        acc += np.roll(np.roll(img, int(round(s * dy)), axis=0), int(round(s * dx)), axis=1)
    return acc / length


def centre_square(frame: np.ndarray, out: int = OUT) -> np.ndarray:
    """The app's crop: the centred square of the frame, resized (bilinear) to out×out; uint8 RGB."""
    h, w, _ = frame.shape
    s = min(h, w)
    x0, y0 = (w - s) // 2, (h - s) // 2
    pil = Image.fromarray(np.clip(frame[y0:y0 + s, x0:x0 + s], 0, 255).astype(np.uint8))
    return np.asarray(pil.resize((out, out), Image.BILINEAR), np.uint8)


FRAMINGS = ('centred', 'framing-35', 'framing-small', 'framing-off-centre', 'framing-rotated', 'framing-perspective',
            'framing-low-light', 'framing-motion-blur', 'framing-coloured-ink', 'framing-ruled-paper')


def webcam_frame(rng: np.random.Generator, alpha: Optional[np.ndarray], framing: str) -> np.ndarray:
    """A webcam frame (FRAME_H×FRAME_W RGB, float) of paper with the glyph `alpha` on it (None: no
    glyph), under one framing; then `centre_square` gives the model's input."""
    size_h = FRAME_H
    dark_paper = framing == 'centred' and rng.random() < 0.1
    paper = data._paper(rng, max(FRAME_W, FRAME_H), dark_paper)[:FRAME_H, :FRAME_W]
    if framing == 'framing-ruled-paper':
        paper = _ruled(rng, paper)
    img = paper
    if alpha is not None:
        frac = {'framing-35': (0.35, 0.35), 'framing-small': (0.25, 0.40)}.get(framing, (0.45, 0.7))
        height = rng.uniform(*frac) * size_h
        off = 0.25 if framing == 'framing-off-centre' else 0.04
        cx = FRAME_W / 2 + rng.uniform(-off, off) * size_h
        cy = FRAME_H / 2 + rng.uniform(-off, off) * size_h
        if framing == 'framing-off-centre':  # keep the whole digit inside the centre square
            half = height * 0.6
            lo, hi = (FRAME_W - size_h) / 2 + half, (FRAME_W + size_h) / 2 - half
            cx = float(np.clip(cx, lo, hi))
            cy = float(np.clip(cy, half, FRAME_H - half))
        angle = math.radians(rng.uniform(-20, 20) if framing == 'framing-rotated' else rng.uniform(-6, 6))
        a = _place(alpha, FRAME_W, FRAME_H, cx, cy, height, angle, rng.uniform(-0.1, 0.1))
        if framing == 'framing-coloured-ink':
            ink = data._jitter_colour(rng, COLOURED_INKS[int(rng.integers(len(COLOURED_INKS)))], 20)
        else:
            ink = data._jitter_colour(rng, (235, 235, 230) if dark_paper else (25, 25, 30), 15)
        a = a * rng.uniform(0.8, 1.0)
        img = img * (1 - a[..., None]) + ink * a[..., None]
    img = img * data._lighting(rng, max(FRAME_W, FRAME_H))[:FRAME_H, :FRAME_W]
    if framing == 'framing-perspective':
        img = _perspective(rng, img, 0.12)
    elif rng.random() < 0.5:
        img = _perspective(rng, img, 0.04)
    if framing == 'framing-low-light':
        img = img * rng.uniform(0.18, 0.35) + rng.normal(0, rng.uniform(3, 8), img.shape)
    if framing == 'framing-motion-blur':
        img = motion_blur(img, rng, int(rng.integers(5, 10)))
    img = img + rng.normal(0, rng.uniform(0.5, 3), img.shape)
    return img


def _ruled(rng, paper):
    pil = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    col = tuple(int(v) for v in data._jitter_colour(rng, (150, 180, 220), 25))
    step = rng.uniform(9, 16)
    for y in np.arange(rng.uniform(0, step), FRAME_H, step):
        draw.line([(0, y), (FRAME_W, y)], fill=col, width=1)
    if rng.random() < 0.5:  # squared
        for x in np.arange(rng.uniform(0, step), FRAME_W, step):
            draw.line([(x, 0), (x, FRAME_H)], fill=col, width=1)
    return np.asarray(pil, np.float32)


def _perspective(rng, img, amount):
    h, w, _ = img.shape
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(x + rng.uniform(-amount, amount) * w, y + rng.uniform(-amount, amount) * h) for x, y in corners]
    coeffs = data._perspective_coeffs(corners, dst)
    desk = tuple(int(v) for v in data._jitter_colour(rng, data.DESKS[int(rng.integers(len(data.DESKS)))], 15))
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    return np.asarray(pil.transform((w, h), Image.PERSPECTIVE, coeffs, resample=Image.BILINEAR, fillcolor=desk), np.float32)


# ----------------------------------------------------------------------------- digit sources

VAL_MNIST_FROM = data.VAL_MNIST_FROM  # MNIST train digits from here on form the validation pool


def mnist_pool(split: str) -> Tuple[np.ndarray, np.ndarray]:
    """The MNIST digits a split draws from: 'train' MNIST train [0, 50000), 'val' MNIST train
    [50000, 60000), 'test' MNIST test."""
    if split == 'test':
        return data.load_mnist('test')
    images, labels = data.load_mnist('train')
    cut = slice(VAL_MNIST_FROM, None) if split == 'val' else slice(0, VAL_MNIST_FROM)
    return images[cut], labels[cut]


def _mnist_alpha(rng, pool) -> Tuple[np.ndarray, int]:
    images, labels = pool
    k = int(rng.integers(len(images)))
    a = images[k].astype(np.float32) / 255
    ys, xs = np.nonzero(a > 0.1)
    return a[ys.min():ys.max() + 1, xs.min():xs.max() + 1], int(labels[k])


def handwriting_alpha(rng, split: str) -> Tuple[np.ndarray, int]:
    """Half MNIST digits of the split's pool, half our stroke digits."""
    if rng.random() < 0.5:
        return _mnist_alpha(rng, mnist_pool(split))
    d = int(rng.integers(10))
    return stroke_alpha(rng, d), d


def printed_alpha(rng, which: str = 'held-out') -> Tuple[np.ndarray, int]:
    fonts = font_files(which)
    if not fonts:
        raise RuntimeError(f'no {which} fonts found under {FONT_DIRS}; install the Debian packages listed in training/README.md')
    d = int(rng.integers(10))
    return glyph_alpha(fonts[int(rng.integers(len(fonts)))], str(d)), d


# ----------------------------------------------------------------------------- non-digit frames

LETTERS = 'ACEFHKMNPRTUVWXYabcdefhkmnprtuvwxy'  # letters that no one takes for a digit


def non_digit_alpha(rng) -> Optional[np.ndarray]:
    """Something on the paper that is not a digit, or None (blank paper / camera noise)."""
    kind = int(rng.integers(8))
    if kind == 0:
        return None
    if kind == 1:  # letters, printed or one to three of them
        fonts = font_files('train') or font_files('held-out')
        text = ''.join(LETTERS[int(rng.integers(len(LETTERS)))] for _ in range(int(rng.integers(1, 4))))
        return glyph_alpha(fonts[int(rng.integers(len(fonts)))], text)
    size = 96
    pil = Image.new('L', (size, size), 0)
    draw = ImageDraw.Draw(pil)
    w = int(rng.integers(3, 10))
    if kind == 2:  # scribbles
        return np.maximum(data._strokes(rng, size, int(rng.integers(3, 9))), 0)
    if kind == 3:  # shapes
        for _ in range(int(rng.integers(1, 3))):
            x0, y0 = rng.uniform(5, 40, 2)
            x1, y1 = x0 + rng.uniform(30, 50), y0 + rng.uniform(30, 50)
            shape = int(rng.integers(4))
            if shape == 0:
                draw.rectangle([x0, y0, x1, y1], outline=255, width=w)
            elif shape == 1:
                draw.polygon([(x0, y1), ((x0 + x1) / 2, y0), (x1, y1)], outline=255, width=w)
            elif shape == 2:
                pts = [(48 + 40 * math.cos(t) * (0.45 if i % 2 else 1), 48 + 40 * math.sin(t) * (0.45 if i % 2 else 1))
                       for i, t in enumerate(np.linspace(-math.pi / 2, 1.5 * math.pi, 11))]
                draw.line(pts, fill=255, width=w)
            else:
                draw.line([(x0, y0), (x1, y1)], fill=255, width=w)
                draw.line([(x0, y1), (x1, y0)], fill=255, width=w)
    elif kind == 4:  # textures: stripes, checks, dots
        t = int(rng.integers(3))
        step = int(rng.integers(6, 16))
        for i in range(0, size, step):
            if t == 0:
                draw.line([(i, 0), (i, size)], fill=255, width=max(1, step // 3))
            elif t == 1:
                for j in range(0, size, step):
                    if (i // step + j // step) % 2:
                        draw.rectangle([i, j, i + step - 1, j + step - 1], fill=255)
            else:
                for j in range(0, size, step):
                    draw.ellipse([i, j, i + step / 3, j + step / 3], fill=255)
    elif kind == 5:  # a hand: palm and fingers
        draw.ellipse([25, 45, 75, 95], fill=255)
        for i, ang in enumerate(np.linspace(-0.6, 0.6, 4)):
            x = 50 + 30 * math.sin(ang)
            draw.line([(50, 70), (x + 18 * math.sin(ang), 12 + i % 2 * 6)], fill=255, width=11)
        draw.line([(30, 75), (8, 50)], fill=255, width=11)
    elif kind == 6:  # a face
        draw.ellipse([15, 8, 81, 90], outline=255, width=w)
        for ex in (35, 61):
            draw.ellipse([ex - 5, 35, ex + 5, 45], fill=255)
        draw.arc([32, 50, 64, 74], 20, 160, fill=255, width=max(2, w // 2))
    else:  # random blobs
        for _ in range(int(rng.integers(2, 6))):
            c = rng.uniform(10, 86, 2)
            r = rng.uniform(4, 20)
            draw.ellipse([c[0] - r, c[1] - r, c[0] + r, c[1] + r], fill=255)
    img = pil.filter(ImageFilter.GaussianBlur(0.6))
    box = img.getbbox()
    return np.asarray(img.crop(box) if box else img, np.float32) / 255


# ----------------------------------------------------------------------------- the sets

def _sample(set_name: str, split: str, rng) -> Tuple[np.ndarray, int]:
    """One sample of a set: uint8 [OUT,OUT,3] and its label (-1 for a non-digit frame)."""
    if set_name == 'printed-unseen-fonts':
        alpha, label = printed_alpha(rng, 'held-out')
        framing = 'centred'
    elif set_name == 'strokes':
        d = int(rng.integers(10))
        alpha, label, framing = stroke_alpha(rng, d), d, 'centred'
    elif set_name == 'non-digit':
        alpha, label = non_digit_alpha(rng), -1
        framing = FRAMINGS[int(rng.integers(len(FRAMINGS)))]
    else:
        alpha, label = handwriting_alpha(rng, split)
        framing = set_name
    return centre_square(webcam_frame(rng, alpha, framing)), label


def eval_set(set_name: str, split: str, n: int) -> Tuple[np.ndarray, np.ndarray]:
    """n samples of a set: images uint8 [n,OUT,OUT,3], labels int64 [n] (-1: no digit)."""
    samples = data.map_samples(functools.partial(_indexed_sample, set_name, split), n)
    imgs = np.zeros((n, OUT, OUT, 3), np.uint8)
    labels = np.zeros(n, np.int64)
    for i, (img, label) in enumerate(samples):
        imgs[i], labels[i] = img, label
    return imgs, labels


def _indexed_sample(set_name: str, split: str, i: int) -> Tuple[np.ndarray, int]:
    return _sample(set_name, split, np.random.default_rng([SET_SEED[set_name], SPLITS[split], i]))


SETS = list(SET_SEED)
GOALS = {'printed-unseen-fonts': 0.99, 'framing-35': 0.95, **{s: 0.95 for s in FRAMINGS if s.startswith('framing-')}}


def evaluate_sets(classify: Callable[[np.ndarray], np.ndarray], split: str, n: int,
                  sets=SETS, no_digit_class: Optional[int] = None, log=print,
                  load: Optional[Callable[[str, str, int], Tuple[np.ndarray, np.ndarray]]] = None) -> Dict[str, dict]:
    """Accuracy of `classify` (uint8 images → probabilities [n, classes]) on each set. For the
    non-digit set: the share of frames called a digit (top-1 not the no-digit class; a model
    without that class calls every frame a digit), and the share called one with ≥ 0.9. `load`
    (default eval_set) gives a set's images and labels, e.g. from a cache."""
    out = {}
    for s in sets:
        imgs, labels = (load or eval_set)(s, split, n)
        probs = classify(imgs)
        top1 = probs.argmax(1)
        if s == 'non-digit':
            called = top1 != no_digit_class if no_digit_class is not None else np.ones(len(top1), bool)
            out[s] = {'called_digit': float(called.mean()),
                      'called_digit_confidently': float((called & (probs.max(1) >= 0.9)).mean()), 'n': n}
            log(f'{split} {s}: called a digit {out[s]["called_digit"]:.1%} (≥0.9: {out[s]["called_digit_confidently"]:.1%})')
        else:
            acc = float((top1 == labels).mean())
            out[s] = {'accuracy': acc, 'n': n, **({'goal': GOALS[s]} if s in GOALS else {})}
            log(f'{split} {s}: {acc:.1%}' + (f' (goal {GOALS[s]:.0%})' if s in GOALS else ''))
    return out


# ----------------------------------------------------------------------------- training samples

NO_DIGIT = 10  # the class index of "no digit" in a model trained with it


SMALL_FRAMINGS = ('framing-small', 'framing-35')


def webcam_training_sample(index: int, seed: int, no_digit_share: float = 0.1, printed_share: float = 0.2,
                           stroke_share: float = 0.15, small_share: float = 0.0) -> Tuple[np.ndarray, int]:
    """A training sample of the webcam recipe: a frame under a random framing (or centred), of an
    MNIST train digit outside the validation pool, a stroke digit or a digit in a training font;
    with probability `no_digit_share` a non-digit frame labelled NO_DIGIT. With probability
    `small_share` the framing is one of SMALL_FRAMINGS (the digit 25-40% of the frame) before the
    usual draw; at 0 no extra number is drawn, so earlier recipes' samples stay as they were. Seeds
    never meet the evaluation sets' (`TRAIN_SPLIT`)."""
    rng = np.random.default_rng([seed, TRAIN_SPLIT, index])
    if small_share > 0 and rng.random() < small_share:
        framing = SMALL_FRAMINGS[int(rng.integers(len(SMALL_FRAMINGS)))]
    else:
        framing = FRAMINGS[int(rng.integers(len(FRAMINGS)))] if rng.random() < 0.7 else 'centred'
    r = rng.random()
    if r < no_digit_share:
        return centre_square(webcam_frame(rng, non_digit_alpha(rng), framing)), NO_DIGIT
    r -= no_digit_share
    if r < printed_share:
        alpha, label = printed_alpha(rng, 'train')
    elif r < printed_share + stroke_share:
        label = int(rng.integers(10))
        alpha = stroke_alpha(rng, label)
    else:
        alpha, label = _mnist_alpha(rng, mnist_pool('train'))
    return centre_square(webcam_frame(rng, alpha, framing)), label
