"""Reference decoding of the raw head outputs (training/HEADS.md is the specification).

Written with plain float64 arithmetic in a fixed order so that a JavaScript implementation
(Numbers are IEEE float64) reproduces it bit for bit from the same float32 raw maps.
"""
from __future__ import annotations

import math
from typing import Dict, List

import numpy as np

DET_STRIDE = 4
DET_SCORE_THRESHOLD = 0.3
# logit(0.3) = ln(0.3 / 0.7), as a float64 literal; candidates need heat_logit >= this.
DET_LOGIT_THRESHOLD = -0.8472978603872037
DET_PRE_NMS_TOP_K = 50
DET_NMS_IOU = 0.5
DET_MAX_DETECTIONS = 20
SEG_STRIDE = 4
# Evaluation (mAP) decodes with a low score threshold and more boxes, as detection benchmarks do,
# so that the precision/recall curve reaches low scores; the app shows boxes with score >= 0.3.
EVAL_SCORE_THRESHOLD = 0.05
EVAL_LOGIT_THRESHOLD = math.log(EVAL_SCORE_THRESHOLD / (1 - EVAL_SCORE_THRESHOLD))
EVAL_PRE_NMS_TOP_K = 100
EVAL_MAX_DETECTIONS = 100


def decode_detections(heat: np.ndarray, reg: np.ndarray, image_h: int, image_w: int,
                      logit_threshold: float = DET_LOGIT_THRESHOLD, pre_nms_top_k: int = DET_PRE_NMS_TOP_K,
                      max_detections: int = DET_MAX_DETECTIONS) -> List[Dict]:
    """heat: float32 [10, h, w] centre-heatmap logits; reg: float32 [4, h, w] (l, t, r, b) in
    stride units. Returns detections (dicts with class, score, logit, x0, y0, x1, y1, cell) in
    output order. The defaults are HEADS.md's (what the app and the fixtures use)."""
    assert abs(math.log(DET_SCORE_THRESHOLD / (1 - DET_SCORE_THRESHOLD)) - DET_LOGIT_THRESHOLD) < 1e-15
    C, h, w = heat.shape
    cands = []
    for c in range(C):
        for y in range(h):
            for x in range(w):
                v = float(heat[c, y, x])
                if v < logit_threshold:
                    continue
                peak = True
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        yy, xx = y + dy, x + dx
                        if 0 <= yy < h and 0 <= xx < w and float(heat[c, yy, xx]) > v:
                            peak = False
                if peak:
                    cands.append((v, c, y, x))
    cands.sort(key=lambda k: (-k[0], k[1], k[2], k[3]))
    cands = cands[:pre_nms_top_k]
    boxes = []
    for v, c, y, x in cands:
        cx = (x + 0.5) * DET_STRIDE
        cy = (y + 0.5) * DET_STRIDE
        l, t, r, b = (max(0.0, float(reg[k, y, x])) * DET_STRIDE for k in range(4))
        x0 = max(0.0, cx - l)
        y0 = max(0.0, cy - t)
        x1 = min(float(image_w), cx + r)
        y1 = min(float(image_h), cy + b)
        boxes.append((v, c, y, x, x0, y0, x1, y1))
    kept = []
    for cand in boxes:
        if all(iou(cand[4:], k[4:]) <= DET_NMS_IOU for k in kept):
            kept.append(cand)
            if len(kept) == max_detections:
                break
    return [{'class': c, 'label': str(c), 'score': 1.0 / (1.0 + math.exp(-v)), 'logit': v,
             'x0': x0, 'y0': y0, 'x1': x1, 'y1': y1, 'cell': [y, x]}
            for v, c, y, x, x0, y0, x1, y1 in kept]


def iou(a, b) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0.0 or ih <= 0.0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0.0 else 0.0


def _bilinear_axis(n_out: int, n_in: int, factor: int):
    """PyTorch bilinear, align_corners=False, scale `factor`: (i0, i1, w0, w1) per output index."""
    out = []
    for o in range(n_out):
        src = (o + 0.5) / factor - 0.5
        if src < 0.0:
            src = 0.0
        i0 = int(math.floor(src))
        i1 = min(i0 + 1, n_in - 1)
        w1 = src - i0
        out.append((i0, i1, 1.0 - w1, w1))
    return out


def upsample_logits(logits: np.ndarray, factor: int = SEG_STRIDE) -> np.ndarray:
    """float32 [C, h, w] → float64 [C, h·f, w·f]:
    v = wy0·(wx0·L[i0,j0] + wx1·L[i0,j1]) + wy1·(wx0·L[i1,j0] + wx1·L[i1,j1])."""
    C, h, w = logits.shape
    L = logits.astype(np.float64)
    ay = _bilinear_axis(h * factor, h, factor)
    ax = _bilinear_axis(w * factor, w, factor)
    i0 = np.array([a[0] for a in ay]); i1 = np.array([a[1] for a in ay])
    wy0 = np.array([a[2] for a in ay])[:, None]; wy1 = np.array([a[3] for a in ay])[:, None]
    j0 = np.array([a[0] for a in ax]); j1 = np.array([a[1] for a in ax])
    wx0 = np.array([a[2] for a in ax])[None, :]; wx1 = np.array([a[3] for a in ax])[None, :]
    out = np.empty((C, h * factor, w * factor), np.float64)
    for c in range(C):
        top = wx0 * L[c][i0][:, j0] + wx1 * L[c][i0][:, j1]
        bot = wx0 * L[c][i1][:, j0] + wx1 * L[c][i1][:, j1]
        out[c] = wy0 * top + wy1 * bot
    return out


def decode_mask(seg_logits: np.ndarray) -> np.ndarray:
    """float32 [11, H/4, W/4] → uint8 [H, W] class indices: argmax over classes of the ×4 bilinear
    upsampled logits; ties go to the lowest class index."""
    return np.argmax(upsample_logits(seg_logits), axis=0).astype(np.uint8)
