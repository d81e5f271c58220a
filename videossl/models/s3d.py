"""S3D and S3D-G as CoCLR and ViCC use them, with their parameter names.

Layers (``Conv_1a`` ... ``Mixed_5c``) and their submodules carry the names of
CoCLR's ``backbone/s3dg.py`` (ViCC's copy is identical), so the backbone part
of a CoCLR/ViCC checkpoint maps onto ours by prefix only.  The reference also
registers every layer a second time inside ``block1..block5``
(``nn.Sequential``), which duplicates each weight in its ``state_dict``; we
register each layer once, and :mod:`videossl.models.convert` folds the
``blockN.i.*`` aliases back onto the named layers.

Shapes for a B x 3 x T x H x W clip: ``Conv_1a`` halves T, H, W; the two 1x3x3
max-pools halve H, W; ``MaxPool_4a`` (3x3x3, stride 2) and ``MaxPool_5a``
(2x2x2, stride 2) halve T, H, W.  Output: B x 1024 x T/8 x H/32 x W/32
(1024 x 4 x 4 x 4 for CoCLR's 32 x 128^2 clips).  ``forward_features``
averages that map to B x 1024.  Any T >= 8 and H, W >= 32 work (8 x 32^2 gives
a 1 x 1 x 1 map).

Parameters: 7,910,048 (S3D) and 9,098,000 (S3D-G), equal to the reference.
Init as the reference: convs N(0, 0.01), BN weight 1 / bias 0, gating FCs
PyTorch's default.  BN uses PyTorch's defaults (eps 1e-5, momentum 0.1).
"""

import re
from typing import List, Sequence, Tuple

import torch
from torch import nn

from ..errors import InputError
from .build import construct, register_arch


class BasicConv3d(nn.Module):
    """Conv3d (no bias) -> BN3d -> ReLU; submodules ``conv``, ``bn``."""

    def __init__(self, dim_in: int, dim_out: int, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv3d(dim_in, dim_out, kernel_size, stride, padding, bias=False)
        self.bn = nn.BatchNorm3d(dim_out)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class STConv3d(nn.Module):
    """Separable conv: 1xkxk (``conv1``, ``bn1``, ReLU) then kx1x1 (``conv2``, ``bn2``, ReLU).

    ``stride`` is an int (same in T, H, W) or a (t, s, s) tuple.
    """

    def __init__(self, dim_in: int, dim_out: int, kernel_size: int, stride=1, padding: int = 0):
        super().__init__()
        t_stride, s_stride = (stride[0], stride[-1]) if isinstance(stride, (tuple, list)) else (stride, stride)
        k, p = kernel_size, padding
        self.conv1 = nn.Conv3d(dim_in, dim_out, (1, k, k), (1, s_stride, s_stride), (0, p, p), bias=False)
        self.bn1 = nn.BatchNorm3d(dim_out)
        self.conv2 = nn.Conv3d(dim_out, dim_out, (k, 1, 1), (t_stride, 1, 1), (p, 0, 0), bias=False)
        self.bn2 = nn.BatchNorm3d(dim_out)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(x)))


class SelfGating(nn.Module):
    """S3D-G feature gating: x * sigmoid(fc(mean over T, H, W of x)), per channel."""

    def __init__(self, dim: int):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.sigmoid(self.fc(x.mean(dim=(2, 3, 4))))
        return x * weights[:, :, None, None, None]


class SepInception(nn.Module):
    """Inception block with separable 3x3x3 convs; output channels b0 + b1b + b2b + b3.

    ``widths`` = [b0, b1a, b1b, b2a, b2b, b3]: branch0 1x1x1 -> b0;
    branch1 1x1x1 -> b1a -> STConv3 -> b1b; branch2 likewise (b2a, b2b);
    branch3 3x3x3 max-pool (stride 1) -> 1x1x1 -> b3.  With ``gating`` each
    branch output goes through its own :class:`SelfGating` (``gating_b0..3``).
    """

    def __init__(self, dim_in: int, widths: Sequence[int], gating: bool = False):
        super().__init__()
        if len(widths) != 6:
            raise InputError(f"SepInception takes 6 widths, got {list(widths)}")
        b0, b1a, b1b, b2a, b2b, b3 = widths
        self.branch0 = nn.Sequential(BasicConv3d(dim_in, b0, 1))
        self.branch1 = nn.Sequential(BasicConv3d(dim_in, b1a, 1), STConv3d(b1a, b1b, 3, 1, 1))
        self.branch2 = nn.Sequential(BasicConv3d(dim_in, b2a, 1), STConv3d(b2a, b2b, 3, 1, 1))
        self.branch3 = nn.Sequential(nn.MaxPool3d(3, 1, 1), BasicConv3d(dim_in, b3, 1))
        self.out_channels = b0 + b1b + b2b + b3
        self.gating = gating
        if gating:
            for i, width in enumerate((b0, b1b, b2b, b3)):
                self.add_module(f"gating_b{i}", SelfGating(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [getattr(self, f"branch{i}")(x) for i in range(4)]
        if self.gating:
            outs = [getattr(self, f"gating_b{i}")(o) for i, o in enumerate(outs)]
        return torch.cat(outs, 1)


# (name, input channels, widths) of the inception blocks, in order.
MIXED = (
    ("Mixed_3b", 192, (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", 256, (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", 480, (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", 512, (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", 512, (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", 512, (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", 528, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5b", 832, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", 832, (384, 192, 384, 48, 128, 128)),
)

# The reference's nn.Sequential aliases: blockN.i is the i-th of these layers.
REFERENCE_BLOCKS = {
    "block1": ("Conv_1a",),
    "block2": ("MaxPool_2a", "Conv_2b", "Conv_2c"),
    "block3": ("MaxPool_3a", "Mixed_3b", "Mixed_3c"),
    "block4": ("MaxPool_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"),
    "block5": ("MaxPool_5a", "Mixed_5b", "Mixed_5c"),
}
LAYER_ORDER: List[str] = [name for layers in REFERENCE_BLOCKS.values() for name in layers]
#: The reference's ``Sequential`` aliases: ``"block4.2."`` -> ``"Mixed_4c."`` (its state dicts hold both names).
S3D_ALIASES = {f"{block}.{i}.": name + "." for block, names in REFERENCE_BLOCKS.items()
               for i, name in enumerate(names)}
_S3D_ALIAS_RE = re.compile(r"block[1-5]\.\d+\.")


def fold_s3d_alias(key: str) -> Tuple[str, bool]:
    """A reference S3D key under its alias (``block4.2.x``) -> its layer name (``Mixed_4c.x``); (key, was_alias)."""
    m = _S3D_ALIAS_RE.match(key)
    if not m or m.group(0) not in S3D_ALIASES:
        return key, False
    return S3D_ALIASES[m.group(0)] + key[m.end():], True


class S3D(nn.Module):
    """S3D (``gating=False``, CoCLR/ViCC ``--net s3d``) or S3D-G backbone.

    ``forward_maps``: B x C x T x H x W -> B x 1024 x T/8 x H/32 x W/32.
    ``forward_features``: -> B x 1024 (global average).  ``forward`` applies
    ``self.head`` when one is attached.
    """

    def __init__(self, in_channels: int = 3, gating: bool = False):
        super().__init__()
        self.gating = gating
        self.Conv_1a = STConv3d(in_channels, 64, 7, 2, 3)
        self.MaxPool_2a = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.Conv_2b = BasicConv3d(64, 64, 1)
        self.Conv_2c = STConv3d(64, 192, 3, 1, 1)
        self.MaxPool_3a = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.MaxPool_4a = nn.MaxPool3d(3, 2, 1)
        self.MaxPool_5a = nn.MaxPool3d(2, 2, 0)
        for name, dim_in, widths in MIXED:
            self.add_module(name, SepInception(dim_in, widths, gating))
        self.feature_dim = 1024
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.head = None
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.normal_(m.weight, 0.0, 0.01)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_maps(self, x: torch.Tensor) -> torch.Tensor:
        """B x C x T x H x W -> B x 1024 x T/8 x H/32 x W/32."""
        for name in LAYER_ORDER:
            x = getattr(self, name)(x)
        return x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """B x C x T x H x W -> B x 1024."""
        return self.pool(self.forward_maps(x)).flatten(1)

    def forward(self, x: torch.Tensor):
        feats = self.forward_features(x)
        return feats if self.head is None else self.head(feats)


@register_arch("s3d", "s3dg")
def build_s3d(cfg, **overrides) -> S3D:
    """S3D for MODEL.ARCH ``s3d``; S3D-G (self-gating) for ``s3dg``."""
    return construct(S3D, dict(in_channels=cfg.DATA.INPUT_CHANNEL_NUM[0], gating=cfg.MODEL.ARCH == "s3dg"),
                     overrides)
