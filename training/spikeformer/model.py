"""Meta-SpikeFormer (Spike-driven Transformer V2) in PyTorch, written for this project.

Module and state_dict names follow the official code (BICLab/Spike-Driven-Transformer-V2,
``classification/models.py``, class ``Spiking_vit_MetaFormer``) so that official checkpoints load
into this model and checkpoints written from it load into the official code. The forward pass is
the official code's: [T, B, C, H, W] activations, the
multi-step LIF neuron (tau 2, hard reset to 0, decayed input, detach_reset), RepConv with
BNAndPad, spike-driven attention without softmax (scale 0.125), membrane shortcuts, and a head
that averages its logits over T (and over ``head``/``head_kd`` for a kd model).

For training, the neuron's Heaviside step has a sigmoid surrogate gradient (spikingjelly's
default, alpha = 4); the forward values are exactly those of the official neuron.

Dense-prediction heads (``fpn``, ``seg_head``, ``det_head``) live in ``heads.py``.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


class _SpikeFn(torch.autograd.Function):
    """Heaviside(x >= 0) forward, sigmoid-derivative surrogate backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float):  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        sg = torch.sigmoid(ctx.alpha * x)
        return grad * (ctx.alpha * sg * (1.0 - sg)), None


class MultiStepLIFNode(nn.Module):
    """spikingjelly ``MultiStepLIFNode(tau=2.0, detach_reset=True)`` with v_reset = 0.

    Input [T, ...]; state v starts at 0 for every forward call.
        h = v + (x[t] - v) / tau;  s = (h - v_threshold >= 0);  v = s ? 0 : h
    """

    def __init__(self, tau: float = 2.0, v_threshold: float = 1.0, detach_reset: bool = True,
                 surrogate_alpha: float = 4.0):
        super().__init__()
        self.tau = tau
        self.v_threshold = v_threshold
        self.detach_reset = detach_reset
        self.surrogate_alpha = surrogate_alpha
        self.lif_name = ''  # set by name_neurons(); used by spike recorders
        # When True, forward() stores in `threshold_margin` the smallest non-zero |h - v_threshold|
        # of the call (1.0 when every membrane is exactly on or far from the threshold): how close
        # the call came to a spike that rounding could flip. Set by SpikeRecorder(margins=True).
        self.track_margin = False
        self.threshold_margin = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = torch.zeros_like(x[0])
        out = []
        self.threshold_margin = 1.0
        for t in range(x.shape[0]):
            h = v + (x[t] - v) / self.tau
            if self.track_margin:
                self._track(h.detach())
            s = _SpikeFn.apply(h - self.v_threshold, self.surrogate_alpha)
            out.append(s)
            sr = s.detach() if self.detach_reset else s
            v = h * (1.0 - sr)
        return torch.stack(out, 0)

    def _track(self, h: torch.Tensor):
        d = (h - self.v_threshold).abs()
        d = d[d > 0]
        if d.numel():
            self.threshold_margin = min(self.threshold_margin, float(d.min()))

    def extra_repr(self) -> str:
        return f'tau={self.tau}, v_threshold={self.v_threshold}, detach_reset={self.detach_reset}'


def name_neurons(model: nn.Module) -> List[MultiStepLIFNode]:
    """Stores each neuron's module name on it and returns the neurons in registration order."""
    out = []
    for name, m in model.named_modules():
        if isinstance(m, MultiStepLIFNode):
            m.lif_name = name
            out.append(m)
    return out


class SpikeRecorder:
    """Forward hooks that collect every neuron's output spikes (in execution order)."""

    def __init__(self, model: nn.Module, keep_maps: bool = False, rename: bool = True, margins: bool = False):
        self.records: List[Dict] = []
        self.keep_maps = keep_maps
        self.margins = margins
        self.handles = []
        self.neurons = [m for m in model.modules() if isinstance(m, MultiStepLIFNode)]
        if rename:
            name_neurons(model)
        for m in self.neurons:
            m.track_margin = margins
            self.handles.append(m.register_forward_hook(self._hook))

    def _hook(self, module, inputs, output):
        ones = int(output.detach().sum().item())
        total = output.numel()
        rec = {'name': module.lif_name, 'shape': list(output.shape), 'ones': ones, 'total': total,
               'rate': round(ones / total, 6)}
        if self.keep_maps:
            rec['map'] = output.detach().to(torch.uint8).cpu().numpy()
        if self.margins:
            rec['margin'] = module.threshold_margin
        self.records.append(rec)

    def clear(self):
        self.records = []

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []
        for m in self.neurons:
            m.track_margin = False


class BNAndPadLayer(nn.Module):
    """BatchNorm2d, then pad `pad_pixels` on each side with the BN output of a zero input."""

    def __init__(self, pad_pixels: int, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, eps, momentum)
        self.pad_pixels = pad_pixels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output = self.bn(x)
        if self.pad_pixels > 0:
            if self.bn.affine:
                pad_values = (self.bn.bias.detach() - self.bn.running_mean * self.bn.weight.detach()
                              / torch.sqrt(self.bn.running_var + self.bn.eps))
            else:
                pad_values = -self.bn.running_mean / torch.sqrt(self.bn.running_var + self.bn.eps)
            p = self.pad_pixels
            output = F.pad(output, [p] * 4)
            pad_values = pad_values.view(1, -1, 1, 1)
            output[:, :, 0:p, :] = pad_values
            output[:, :, -p:, :] = pad_values
            output[:, :, :, 0:p] = pad_values
            output[:, :, :, -p:] = pad_values
        return output


class RepConv(nn.Module):
    def __init__(self, in_channel: int, out_channel: int, bias: bool = False):
        super().__init__()
        conv1x1 = nn.Conv2d(in_channel, in_channel, 1, 1, 0, bias=False, groups=1)
        bn = BNAndPadLayer(pad_pixels=1, num_features=in_channel)
        conv3x3 = nn.Sequential(
            nn.Conv2d(in_channel, in_channel, 3, 1, 0, groups=in_channel, bias=False),
            nn.Conv2d(in_channel, out_channel, 1, 1, 0, groups=1, bias=False),
            nn.BatchNorm2d(out_channel),
        )
        self.body = nn.Sequential(conv1x1, bn, conv3x3)

    def forward(self, x):
        return self.body(x)


class SepConv(nn.Module):
    def __init__(self, dim: int, expansion_ratio: int = 2, kernel_size: int = 7, padding: int = 3):
        super().__init__()
        med = int(expansion_ratio * dim)
        self.lif1 = MultiStepLIFNode()
        self.pwconv1 = nn.Conv2d(dim, med, kernel_size=1, stride=1, bias=False)
        self.bn1 = nn.BatchNorm2d(med)
        self.lif2 = MultiStepLIFNode()
        self.dwconv = nn.Conv2d(med, med, kernel_size=kernel_size, padding=padding, groups=med, bias=False)
        self.pwconv2 = nn.Conv2d(med, dim, kernel_size=1, stride=1, bias=False)
        self.bn2 = nn.BatchNorm2d(dim)

    def forward(self, x):
        T, B, C, H, W = x.shape
        x = self.lif1(x)
        x = self.bn1(self.pwconv1(x.flatten(0, 1))).reshape(T, B, -1, H, W)
        x = self.lif2(x)
        x = self.dwconv(x.flatten(0, 1))
        x = self.bn2(self.pwconv2(x)).reshape(T, B, -1, H, W)
        return x


class MS_ConvBlock(nn.Module):
    def __init__(self, dim: int, mlp_ratio: int = 4):
        super().__init__()
        self.Conv = SepConv(dim=dim)
        self.lif1 = MultiStepLIFNode()
        self.conv1 = nn.Conv2d(dim, dim * mlp_ratio, kernel_size=3, padding=1, groups=1, bias=False)
        self.bn1 = nn.BatchNorm2d(dim * mlp_ratio)
        self.lif2 = MultiStepLIFNode()
        self.conv2 = nn.Conv2d(dim * mlp_ratio, dim, kernel_size=3, padding=1, groups=1, bias=False)
        self.bn2 = nn.BatchNorm2d(dim)
        self.mlp_ratio = mlp_ratio

    def forward(self, x):
        T, B, C, H, W = x.shape
        x = self.Conv(x) + x
        x_feat = x
        x = self.bn1(self.conv1(self.lif1(x).flatten(0, 1))).reshape(T, B, self.mlp_ratio * C, H, W)
        x = self.bn2(self.conv2(self.lif2(x).flatten(0, 1))).reshape(T, B, C, H, W)
        return x_feat + x


class MS_MLP(nn.Module):
    def __init__(self, in_features: int, hidden_features: int):
        super().__init__()
        self.fc1_conv = nn.Conv1d(in_features, hidden_features, kernel_size=1, stride=1)
        self.fc1_bn = nn.BatchNorm1d(hidden_features)
        self.fc1_lif = MultiStepLIFNode()
        self.fc2_conv = nn.Conv1d(hidden_features, in_features, kernel_size=1, stride=1)
        self.fc2_bn = nn.BatchNorm1d(in_features)
        self.fc2_lif = MultiStepLIFNode()
        self.c_hidden = hidden_features

    def forward(self, x):
        T, B, C, H, W = x.shape
        N = H * W
        x = x.flatten(3)
        x = self.fc1_lif(x)
        x = self.fc1_conv(x.flatten(0, 1))
        x = self.fc1_bn(x).reshape(T, B, self.c_hidden, N).contiguous()
        x = self.fc2_lif(x)
        x = self.fc2_conv(x.flatten(0, 1))
        x = self.fc2_bn(x).reshape(T, B, C, H, W).contiguous()
        return x


class MS_Attention_RepConv_qkv_id(nn.Module):
    def __init__(self, dim: int, num_heads: int = 8):
        super().__init__()
        assert dim % num_heads == 0, f'dim {dim} should be divided by num_heads {num_heads}.'
        self.dim = dim
        self.num_heads = num_heads
        self.scale = 0.125
        self.head_lif = MultiStepLIFNode()
        self.q_conv = nn.Sequential(RepConv(dim, dim, bias=False), nn.BatchNorm2d(dim))
        self.k_conv = nn.Sequential(RepConv(dim, dim, bias=False), nn.BatchNorm2d(dim))
        self.v_conv = nn.Sequential(RepConv(dim, dim, bias=False), nn.BatchNorm2d(dim))
        self.q_lif = MultiStepLIFNode()
        self.k_lif = MultiStepLIFNode()
        self.v_lif = MultiStepLIFNode()
        self.attn_lif = MultiStepLIFNode(v_threshold=0.5)
        self.proj_conv = nn.Sequential(RepConv(dim, dim, bias=False), nn.BatchNorm2d(dim))

    def _heads(self, s, T, B, N, C):
        return s.flatten(3).transpose(-1, -2).reshape(T, B, N, self.num_heads, C // self.num_heads) \
            .permute(0, 1, 3, 2, 4).contiguous()

    def forward(self, x):
        T, B, C, H, W = x.shape
        N = H * W
        x = self.head_lif(x)
        q = self.q_conv(x.flatten(0, 1)).reshape(T, B, C, H, W)
        k = self.k_conv(x.flatten(0, 1)).reshape(T, B, C, H, W)
        v = self.v_conv(x.flatten(0, 1)).reshape(T, B, C, H, W)
        q = self._heads(self.q_lif(q), T, B, N, C)
        k = self._heads(self.k_lif(k), T, B, N, C)
        v = self._heads(self.v_lif(v), T, B, N, C)
        x = k.transpose(-2, -1) @ v
        x = (q @ x) * self.scale
        x = x.transpose(3, 4).reshape(T, B, C, N).contiguous()
        x = self.attn_lif(x).reshape(T, B, C, H, W)
        x = self.proj_conv(x.flatten(0, 1)).reshape(T, B, C, H, W)
        return x


class MS_Block(nn.Module):
    def __init__(self, dim: int, num_heads: int, mlp_ratio: int = 4):
        super().__init__()
        self.attn = MS_Attention_RepConv_qkv_id(dim, num_heads=num_heads)
        self.mlp = MS_MLP(in_features=dim, hidden_features=int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(x)
        x = x + self.mlp(x)
        return x


class MS_DownSampling(nn.Module):
    def __init__(self, in_channels: int, embed_dims: int, kernel_size: int, stride: int, padding: int,
                 first_layer: bool):
        super().__init__()
        self.encode_conv = nn.Conv2d(in_channels, embed_dims, kernel_size=kernel_size, stride=stride,
                                     padding=padding)
        self.encode_bn = nn.BatchNorm2d(embed_dims)
        if not first_layer:
            self.encode_lif = MultiStepLIFNode()

    def forward(self, x):
        T, B = x.shape[:2]
        if hasattr(self, 'encode_lif'):
            x = self.encode_lif(x)
        x = self.encode_conv(x.flatten(0, 1))
        _, _, H, W = x.shape
        return self.encode_bn(x).reshape(T, B, -1, H, W).contiguous()


class Spiking_vit_MetaFormer(nn.Module):
    """The classification network. `depths` = (#block3, #block4); the official sizes use (6, 2)."""

    def __init__(self, in_channels: int = 3, num_classes: int = 1000,
                 embed_dim: Sequence[int] = (64, 128, 256, 360), num_heads: int = 8, mlp_ratio: int = 4,
                 depths: Sequence[int] = (6, 2), time_steps: int = 1, kd: bool = False):
        super().__init__()
        e = list(embed_dim)
        self.embed_dim = e
        self.T = time_steps
        self.kd = kd
        self.num_classes = num_classes
        self.depths = tuple(depths)
        self.downsample1_1 = MS_DownSampling(in_channels, e[0] // 2, 7, 2, 3, first_layer=True)
        self.ConvBlock1_1 = nn.ModuleList([MS_ConvBlock(e[0] // 2, mlp_ratio)])
        self.downsample1_2 = MS_DownSampling(e[0] // 2, e[0], 3, 2, 1, first_layer=False)
        self.ConvBlock1_2 = nn.ModuleList([MS_ConvBlock(e[0], mlp_ratio)])
        self.downsample2 = MS_DownSampling(e[0], e[1], 3, 2, 1, first_layer=False)
        self.ConvBlock2_1 = nn.ModuleList([MS_ConvBlock(e[1], mlp_ratio)])
        self.ConvBlock2_2 = nn.ModuleList([MS_ConvBlock(e[1], mlp_ratio)])
        self.downsample3 = MS_DownSampling(e[1], e[2], 3, 2, 1, first_layer=False)
        self.block3 = nn.ModuleList([MS_Block(e[2], num_heads, mlp_ratio) for _ in range(depths[0])])
        self.downsample4 = MS_DownSampling(e[2], e[3], 3, 1, 1, first_layer=False)
        self.block4 = nn.ModuleList([MS_Block(e[3], num_heads, mlp_ratio) for _ in range(depths[1])])
        self.head = nn.Linear(e[3], num_classes) if num_classes > 0 else nn.Identity()
        self.lif = MultiStepLIFNode()
        if kd:
            self.head_kd = nn.Linear(e[3], num_classes) if num_classes > 0 else nn.Identity()
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    def expand_time(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 5:
            return x.unsqueeze(0).repeat(self.T, 1, 1, 1, 1)
        return x.transpose(0, 1).contiguous()

    def forward_features(self, x: torch.Tensor, taps: Optional[Dict[str, torch.Tensor]] = None):
        """x: [T,B,C,H,W]. Returns the output of the last block; fills `taps` with the
        FPN inputs (per-t, [T,B,C,H,W]): 'c2' after ConvBlock1_2 (stride 4), 'c3' after
        ConvBlock2_2 (stride 8), 'c4' after block4 (stride 16)."""
        x = self.downsample1_1(x)
        for blk in self.ConvBlock1_1:
            x = blk(x)
        x = self.downsample1_2(x)
        for blk in self.ConvBlock1_2:
            x = blk(x)
        if taps is not None:
            taps['c2'] = x
        x = self.downsample2(x)
        for blk in self.ConvBlock2_1:
            x = blk(x)
        for blk in self.ConvBlock2_2:
            x = blk(x)
        if taps is not None:
            taps['c3'] = x
        x = self.downsample3(x)
        for blk in self.block3:
            x = blk(x)
        x = self.downsample4(x)
        for blk in self.block4:
            x = blk(x)
        if taps is not None:
            taps['c4'] = x
        return x

    def forward_head(self, feat: torch.Tensor) -> torch.Tensor:
        x = feat.flatten(3).mean(3)
        x_lif = self.lif(x)
        x = self.head(x_lif).mean(0)
        if self.kd:
            x_kd = self.head_kd(x_lif).mean(0)
            if self.training:
                return x, x_kd  # type: ignore[return-value]
            return (x + x_kd) / 2
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.expand_time(x)
        return self.forward_head(self.forward_features(x))


def backbone_state_keys(model: Spiking_vit_MetaFormer) -> List[str]:
    return list(model.state_dict().keys())


def load_official_checkpoint(path: str, **overrides) -> Spiking_vit_MetaFormer:
    """Builds a model from an official-layout checkpoint ({'model', 'args', ...}) and loads it.

    Architecture is inferred from the weights (embed dims, classes, depths, kd); T from
    args.time_steps unless overridden."""
    ck = torch.load(path, map_location='cpu')
    sd = ck['model'] if 'model' in ck else ck
    args = ck.get('args') if isinstance(ck, dict) else None
    cfg = infer_config(sd)
    if args is not None and getattr(args, 'time_steps', None) is not None:
        cfg['time_steps'] = int(args.time_steps)
    cfg.update(overrides)
    model = Spiking_vit_MetaFormer(**cfg)
    backbone_sd = {k: v for k, v in sd.items() if not k.startswith(('fpn.', 'seg_head.', 'det_head.'))}
    model.load_state_dict(backbone_sd, strict=True)
    return model


def infer_config(sd: Dict[str, torch.Tensor]) -> Dict:
    e0 = sd['downsample1_2.encode_conv.weight'].shape[0]
    e1 = sd['downsample2.encode_conv.weight'].shape[0]
    e2 = sd['downsample3.encode_conv.weight'].shape[0]
    e3 = sd['downsample4.encode_conv.weight'].shape[0]
    d3 = len({k.split('.')[1] for k in sd if k.startswith('block3.')})
    d4 = len({k.split('.')[1] for k in sd if k.startswith('block4.')})
    return dict(in_channels=sd['downsample1_1.encode_conv.weight'].shape[1],
                num_classes=sd['head.weight'].shape[0], embed_dim=[e0, e1, e2, e3],
                depths=(d3, d4), kd='head_kd.weight' in sd)
