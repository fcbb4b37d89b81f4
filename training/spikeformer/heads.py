"""Spiking dense-prediction heads on the Meta-SpikeFormer backbone (see training/HEADS.md).

All heads run per time step on [T, B, C, H, W] features (no averaging over T before the heads);
their outputs are averaged over T at the very end, like the classification head's logits.

- `fpn.*`  SpikingFPN: lateral (LIF → 1×1 conv → BN) on c2 (stride 4), c3 (stride 8), c4
  (stride 16); top-down sum with nearest ×2 upsampling; output (LIF → 3×3 conv → BN) per level.
- `seg_head.*` Semantic-FPN head: per level, stages of (LIF → 3×3 conv → BN [→ bilinear ×2]) up
  to stride 4, summed, LIF → 1×1 classifier conv (11 classes), mean over T. Stride-4 logits.
- `det_head.*` CenterNet-style anchor-free head on the stride-4 FPN level: LIF → 3×3 conv → BN
  → LIF → {1×1 conv → 10 centre-heatmap logits, 1×1 conv → 4 box distances}, mean over T.
"""
from __future__ import annotations

import math
from typing import Dict, List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import MultiStepLIFNode, Spiking_vit_MetaFormer


def _tb(fn, x):
    """Applies a 4-D op to [T,B,C,H,W] by flattening T and B."""
    T, B = x.shape[:2]
    y = fn(x.flatten(0, 1))
    return y.reshape(T, B, *y.shape[1:])


class SpikeConvBN(nn.Module):
    """LIF → Conv2d (no bias) → BatchNorm2d, on [T,B,C,H,W]."""

    def __init__(self, cin: int, cout: int, k: int):
        super().__init__()
        self.lif = MultiStepLIFNode()
        self.conv = nn.Conv2d(cin, cout, k, 1, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        s = self.lif(x)
        return _tb(lambda z: self.bn(self.conv(z)), s)


class SpikingFPN(nn.Module):
    def __init__(self, in_channels: Sequence[int], channels: int):
        super().__init__()
        self.lateral = nn.ModuleList([SpikeConvBN(c, channels, 1) for c in in_channels])
        self.output = nn.ModuleList([SpikeConvBN(channels, channels, 3) for _ in in_channels])

    def forward(self, feats: List[torch.Tensor]) -> List[torch.Tensor]:
        lat = [m(f) for m, f in zip(self.lateral, feats)]  # execution order: level 0, 1, 2
        for i in range(len(lat) - 2, -1, -1):  # top-down: p_i = l_i + nearest×2(p_{i+1})
            up = _tb(lambda z: F.interpolate(z, scale_factor=2, mode='nearest'), lat[i + 1])
            lat[i] = lat[i] + up
        return [m(p) for m, p in zip(self.output, lat)]  # execution order: level 0, 1, 2


def _up2_axis(n: int, device):
    """Bilinear ×2, align_corners=False, along one axis of length n: output o reads
    i0, i1 with weights w0, w1 (src = max(0, (o + 0.5)/2 − 0.5))."""
    o = torch.arange(2 * n, device=device, dtype=torch.float64)
    src = ((o + 0.5) / 2 - 0.5).clamp(min=0)
    i0 = src.floor().long()
    i1 = (i0 + 1).clamp(max=n - 1)
    w1 = (src - i0.double()).float()
    w0 = (1 - (src - i0.double())).float()
    return i0, i1, w0, w1


def bilinear_up2(z: torch.Tensor) -> torch.Tensor:
    """Bilinear ×2 upsampling (align_corners=False) of [N, C, h, w] in float32, written out so
    the arithmetic order is fixed (HEADS.md):
        out = w0y·(w0x·z[i0,j0] + w1x·z[i0,j1]) + w1y·(w0x·z[i1,j0] + w1x·z[i1,j1]).
    Same values as F.interpolate up to the last bit (PyTorch associates differently)."""
    h, w = z.shape[-2:]
    i0, i1, a0, a1 = _up2_axis(h, z.device)
    j0, j1, b0, b1 = _up2_axis(w, z.device)
    r0 = z[..., i0, :]
    r1 = z[..., i1, :]
    top = b0 * r0[..., j0] + b1 * r0[..., j1]
    bot = b0 * r1[..., j0] + b1 * r1[..., j1]
    return a0[:, None] * top + a1[:, None] * bot


class UpStage(SpikeConvBN):
    """LIF → 3×3 conv → BN → bilinear ×2 (align_corners=False) when `up`."""

    def __init__(self, cin: int, cout: int, up: bool):
        super().__init__(cin, cout, 3)
        self.up = up

    def forward(self, x):
        y = super().forward(x)
        if self.up:
            y = _tb(bilinear_up2, y)
        return y


class SemanticFPNHead(nn.Module):
    def __init__(self, in_channels: int, channels: int, num_classes: int, strides: Sequence[int]):
        super().__init__()
        base = min(strides)
        self.scale_heads = nn.ModuleList()
        for s in strides:
            n = max(1, int(math.log2(s // base)))
            stages = [UpStage(in_channels if j == 0 else channels, channels, s > base) for j in range(n)]
            self.scale_heads.append(nn.Sequential(*stages))
        self.cls_lif = MultiStepLIFNode()
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)

    def forward(self, feats: List[torch.Tensor]) -> torch.Tensor:
        out = self.scale_heads[0](feats[0])
        for i in range(1, len(feats)):
            out = out + self.scale_heads[i](feats[i])
        s = self.cls_lif(out)
        return _tb(self.conv_seg, s).mean(0)  # [B, classes, H/4, W/4]


class CenterNetHead(nn.Module):
    def __init__(self, in_channels: int, channels: int, num_classes: int):
        super().__init__()
        self.stem = SpikeConvBN(in_channels, channels, 3)
        self.out_lif = MultiStepLIFNode()
        self.cls_conv = nn.Conv2d(channels, num_classes, 1)
        self.reg_conv = nn.Conv2d(channels, 4, 1)
        nn.init.constant_(self.cls_conv.bias, -2.19)  # prior 0.1
        nn.init.normal_(self.reg_conv.weight, std=0.01)
        nn.init.constant_(self.reg_conv.bias, 1.0)

    def forward(self, p: torch.Tensor):
        s = self.out_lif(self.stem(p))
        heat = _tb(self.cls_conv, s).mean(0)  # [B, 10, H/4, W/4] centre-heatmap logits
        reg = _tb(self.reg_conv, s).mean(0)   # [B, 4, H/4, W/4] l, t, r, b in stride units
        return heat, reg


class DigitsSpikeFormer(nn.Module):
    """Backbone (official names, no prefix) + `fpn`, `seg_head`, `det_head`."""

    def __init__(self, embed_dim=(16, 32, 64, 96), depths=(6, 2), time_steps=2, num_classes=10,
                 fpn_channels=32, seg_channels=32, det_channels=32, seg_classes=11, det_classes=10):
        super().__init__()
        self.backbone = Spiking_vit_MetaFormer(num_classes=num_classes, embed_dim=embed_dim, depths=depths,
                                               time_steps=time_steps)
        e = list(embed_dim)
        self.fpn = SpikingFPN([e[0], e[1], e[3]], fpn_channels)
        self.seg_head = SemanticFPNHead(fpn_channels, seg_channels, seg_classes, strides=(4, 8, 16))
        self.det_head = CenterNetHead(fpn_channels, det_channels, det_classes)
        self.T = time_steps

    def forward(self, x: torch.Tensor, tasks=('cls', 'seg', 'det')) -> Dict[str, torch.Tensor]:
        """Execution order (neurons): backbone, `lif` (classification), fpn, seg_head, det_head."""
        xt = self.backbone.expand_time(x)
        taps: Dict[str, torch.Tensor] = {}
        feat = self.backbone.forward_features(xt, taps)
        out: Dict[str, torch.Tensor] = {}
        if 'cls' in tasks:
            out['logits'] = self.backbone.forward_head(feat)
        if 'seg' in tasks or 'det' in tasks:
            p = self.fpn([taps['c2'], taps['c3'], taps['c4']])
            if 'seg' in tasks:
                out['seg_logits'] = self.seg_head(p)
            if 'det' in tasks:
                out['det_heatmap'], out['det_boxreg'] = self.det_head(p[0])
        return out

    def official_state_dict(self) -> Dict[str, torch.Tensor]:
        """Backbone keys exactly official (no prefix), heads under fpn./seg_head./det_head."""
        sd = {k: v for k, v in self.backbone.state_dict().items()}
        for name in ('fpn', 'seg_head', 'det_head'):
            for k, v in getattr(self, name).state_dict().items():
                sd[f'{name}.{k}'] = v
        return sd

    def load_official_state_dict(self, sd: Dict[str, torch.Tensor], strict: bool = True):
        self.backbone.load_state_dict({k: v for k, v in sd.items()
                                       if not k.startswith(('fpn.', 'seg_head.', 'det_head.'))}, strict=strict)
        for name in ('fpn', 'seg_head', 'det_head'):
            sub = {k[len(name) + 1:]: v for k, v in sd.items() if k.startswith(name + '.')}
            if sub or strict:
                getattr(self, name).load_state_dict(sub, strict=strict)

    def neuron_names(self) -> None:
        """Names neurons by their official/state_dict module name (backbone without prefix)."""
        for prefix, mod in (('', self.backbone), ('fpn.', self.fpn), ('seg_head.', self.seg_head),
                            ('det_head.', self.det_head)):
            for name, m in mod.named_modules():
                if isinstance(m, MultiStepLIFNode):
                    m.lif_name = prefix + name
