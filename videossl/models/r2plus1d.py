"""R(2+1)D backbones of the seed projects, with their reference parameter names.

Two different networks share the name "R(2+1)D-18" in the literature:

``R2Plus1D`` (MODEL.ARCH ``r2plus1d_18``; also ``_10`` / ``_34``)
    The 15.4M-parameter R(2+1)D-18 of the CVPR 2021 study's comparison table
    (the XDC / GDT / rho-BYOL rows).  Layout and names are AVID-CMA's
    ``models/video.py`` ``R2Plus1D``: a full 3x7x7 conv stem + 1x3x3 max-pool
    (``conv1.{0,1}``), then stages ``conv2x..conv5x`` of ``BasicR2P1DBlock``
    whose (2+1)D convs keep the block's output width in between (no
    parameter-matching "M" channels): ``spt_conv1`` 1x3x3 -> BN -> ReLU ->
    ``tmp_conv1`` 3x1x1 -> BN -> ReLU -> ``spt_conv2`` -> BN -> ReLU ->
    ``tmp_conv2``, then the shortcut (identity, or a bias-free 1x1x1
    ``res_conv``) is added *before* ``out_bn`` and the final ReLU.  conv3x..5x
    stride 2 in T, H and W.  Output 512 channels, T/8 x H/32 x W/32; the
    reference pools with a global **max** (``pool='max'``).  18 layers:
    15,379,136 parameters (torchvision's ``r2plus1d_18`` is a different,
    31.3M network that matches the R3D parameter budget).

``R2Plus1DNet`` (MODEL.ARCH ``r21d_vcop``, alias ``r21d``)
    ViCC's ``--net r21d``: the VCOP-style network with ``layer_sizes``
    (1, 1, 1, 1) and parameter-matching intermediate widths
    ``M = floor(t*k*k*Cin*Cout / (k*k*Cin + t*Cout))`` in every factored conv
    (``SpatioTemporalConv``: ``spatial_conv`` -> ``bn`` -> ReLU ->
    ``temporal_conv``), including the stem and the strided 1x1x1 shortcut
    (``downsampleconv`` + ``downsamplebn``).  Output 512 channels,
    T/8 x H/16 x W/16, global average pool.  14,365,303 parameters.

Both keep PyTorch's default initialisation, as the references do.
``forward_features`` returns B x 512; ``forward`` applies ``self.head`` when set.
"""

import math
from typing import Sequence, Tuple

import torch
from torch import nn

from ..errors import InputError
from .build import construct, register_arch

_R2PLUS1D_DEPTHS = {10: (1, 1, 1, 1), 18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
_WIDTHS = (64, 128, 256, 512)


def _global_pool(kind: str) -> nn.Module:
    if kind == "max":
        return nn.AdaptiveMaxPool3d(1)
    if kind == "avg":
        return nn.AdaptiveAvgPool3d(1)
    raise InputError(f"R(2+1)D pool must be 'max' or 'avg', got {kind!r}")


class BasicR2P1DBlock(nn.Module):
    """AVID-CMA's (2+1)D basic block: B x Cin x T x H x W -> B x Cout x T/s x H/s x W/s."""

    def __init__(self, dim_in: int, dim_out: int, stride: Tuple[int, int, int] = (1, 1, 1)):
        super().__init__()
        t, s = stride[0], stride[1]
        self.spt_conv1 = nn.Conv3d(dim_in, dim_out, (1, 3, 3), (1, s, s), (0, 1, 1), bias=False)
        self.spt_bn1 = nn.BatchNorm3d(dim_out)
        self.tmp_conv1 = nn.Conv3d(dim_out, dim_out, (3, 1, 1), (t, 1, 1), (1, 0, 0), bias=False)
        self.tmp_bn1 = nn.BatchNorm3d(dim_out)
        self.spt_conv2 = nn.Conv3d(dim_out, dim_out, (1, 3, 3), 1, (0, 1, 1), bias=False)
        self.spt_bn2 = nn.BatchNorm3d(dim_out)
        self.tmp_conv2 = nn.Conv3d(dim_out, dim_out, (3, 1, 1), 1, (1, 0, 0), bias=False)
        self.out_bn = nn.BatchNorm3d(dim_out)
        self.relu = nn.ReLU(inplace=True)
        self.res = dim_in != dim_out or any(v != 1 for v in stride)
        if self.res:
            self.res_conv = nn.Conv3d(dim_in, dim_out, 1, stride, 0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.spt_bn1(self.spt_conv1(x)))
        y = self.relu(self.tmp_bn1(self.tmp_conv1(y)))
        y = self.relu(self.spt_bn2(self.spt_conv2(y)))
        y = self.tmp_conv2(y)
        shortcut = self.res_conv(x) if self.res else x
        return self.relu(self.out_bn(y + shortcut))


class R2Plus1D(nn.Module):
    """The 15.4M R(2+1)D-18 (AVID-CMA layout; depth 10, 18 or 34).

    ``forward_maps``: B x C x T x H x W -> B x 512 x T/8 x H/32 x W/32.
    ``forward_features``: -> B x 512 (global max pool by default, as the reference).
    """

    def __init__(self, depth: int = 18, in_channels: int = 3, pool: str = "max"):
        super().__init__()
        if depth not in _R2PLUS1D_DEPTHS:
            raise InputError(f"R(2+1)D depth must be one of {sorted(_R2PLUS1D_DEPTHS)}, got {depth}")
        self.conv1 = nn.Sequential(
            nn.Conv3d(in_channels, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
        )
        dim_in = 64
        for stage, (blocks, width) in enumerate(zip(_R2PLUS1D_DEPTHS[depth], _WIDTHS)):
            stride = (1, 1, 1) if stage == 0 else (2, 2, 2)
            layers = [BasicR2P1DBlock(dim_in if i == 0 else width, width, stride if i == 0 else (1, 1, 1))
                      for i in range(blocks)]
            # The reference registers a single block bare (depth 10) and a list as a Sequential.
            self.add_module(f"conv{stage + 2}x", layers[0] if blocks == 1 else nn.Sequential(*layers))
            dim_in = width
        self.feature_dim = 512
        self.pool = _global_pool(pool)
        self.head = None

    def forward_maps(self, x: torch.Tensor) -> torch.Tensor:
        """B x C x T x H x W -> B x 512 x T/8 x H/32 x W/32."""
        x = self.conv1(x)
        return self.conv5x(self.conv4x(self.conv3x(self.conv2x(x))))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """B x C x T x H x W -> B x 512."""
        return self.pool(self.forward_maps(x)).flatten(1)

    def forward(self, x: torch.Tensor):
        feats = self.forward_features(x)
        return feats if self.head is None else self.head(feats)


def matched_mid_channels(dim_in: int, dim_out: int, kernel: Tuple[int, int, int]) -> int:
    """Intermediate width M giving a (2+1)D conv the parameters of a full t x k x k conv."""
    t, kh, kw = kernel
    return math.floor(t * kh * kw * dim_in * dim_out / (kh * kw * dim_in + t * dim_out))


class SpatioTemporalConv(nn.Module):
    """Factored conv 1xkxk (``spatial_conv``) -> BN -> ReLU -> tx1x1 (``temporal_conv``), no bias."""

    def __init__(self, dim_in: int, dim_out: int, kernel, stride=1, padding=0):
        super().__init__()
        kt, kh, kw = (kernel,) * 3 if isinstance(kernel, int) else tuple(kernel)
        st, sh, sw = (stride,) * 3 if isinstance(stride, int) else tuple(stride)
        pt, ph, pw = (padding,) * 3 if isinstance(padding, int) else tuple(padding)
        mid = matched_mid_channels(dim_in, dim_out, (kt, kh, kw))
        self.spatial_conv = nn.Conv3d(dim_in, mid, (1, kh, kw), (1, sh, sw), (0, ph, pw), bias=False)
        self.bn = nn.BatchNorm3d(mid)
        self.relu = nn.ReLU()
        self.temporal_conv = nn.Conv3d(mid, dim_out, (kt, 1, 1), (st, 1, 1), (pt, 0, 0), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal_conv(self.relu(self.bn(self.spatial_conv(x))))


class SpatioTemporalResBlock(nn.Module):
    """Two 3x3x3 factored convs with BN; a strided factored 1x1x1 shortcut when ``downsample``."""

    def __init__(self, dim_in: int, dim_out: int, downsample: bool = False):
        super().__init__()
        self.downsample = downsample
        if downsample:
            self.downsampleconv = SpatioTemporalConv(dim_in, dim_out, 1, stride=2)
            self.downsamplebn = nn.BatchNorm3d(dim_out)
        self.conv1 = SpatioTemporalConv(dim_in, dim_out, 3, stride=2 if downsample else 1, padding=1)
        self.bn1 = nn.BatchNorm3d(dim_out)
        self.relu1 = nn.ReLU()
        self.conv2 = SpatioTemporalConv(dim_out, dim_out, 3, padding=1)
        self.bn2 = nn.BatchNorm3d(dim_out)
        self.outrelu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        if self.downsample:
            x = self.downsamplebn(self.downsampleconv(x))
        return self.outrelu(x + res)


class SpatioTemporalResLayer(nn.Module):
    """``block1`` (optionally downsampling) followed by ``blocks.{0..n-2}``."""

    def __init__(self, dim_in: int, dim_out: int, num_blocks: int, downsample: bool = False):
        super().__init__()
        self.block1 = SpatioTemporalResBlock(dim_in, dim_out, downsample)
        self.blocks = nn.ModuleList(SpatioTemporalResBlock(dim_out, dim_out) for _ in range(num_blocks - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block1(x)
        for block in self.blocks:
            x = block(x)
        return x


class R2Plus1DNet(nn.Module):
    """ViCC's (VCOP-style) R(2+1)D, ``layer_sizes`` blocks per stage (default 1-1-1-1).

    ``forward_maps``: B x C x T x H x W -> B x 512 x T/8 x H/16 x W/16.
    ``forward_features``: -> B x 512 (global average pool).
    """

    def __init__(self, layer_sizes: Sequence[int] = (1, 1, 1, 1), in_channels: int = 3, pool: str = "avg"):
        super().__init__()
        if len(layer_sizes) != 4 or min(layer_sizes) < 1:
            raise InputError(f"R2Plus1DNet takes 4 positive layer sizes, got {list(layer_sizes)}")
        self.conv1 = SpatioTemporalConv(in_channels, 64, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3))
        self.bn1 = nn.BatchNorm3d(64)
        self.relu1 = nn.ReLU()
        dim_in = 64
        for stage, (blocks, width) in enumerate(zip(layer_sizes, _WIDTHS)):
            self.add_module(f"conv{stage + 2}", SpatioTemporalResLayer(dim_in, width, blocks, downsample=stage > 0))
            dim_in = width
        self.feature_dim = 512
        self.pool = _global_pool(pool)
        self.head = None

    def forward_maps(self, x: torch.Tensor) -> torch.Tensor:
        """B x C x T x H x W -> B x 512 x T/8 x H/16 x W/16."""
        x = self.relu1(self.bn1(self.conv1(x)))
        return self.conv5(self.conv4(self.conv3(self.conv2(x))))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """B x C x T x H x W -> B x 512."""
        return self.pool(self.forward_maps(x)).flatten(1)

    def forward(self, x: torch.Tensor):
        feats = self.forward_features(x)
        return feats if self.head is None else self.head(feats)


@register_arch("r2plus1d_10", "r2plus1d_18", "r2plus1d_34")
def build_r2plus1d(cfg, **overrides) -> R2Plus1D:
    """AVID-CMA-layout R(2+1)D; depth from the arch name, pool from R2PLUS1D.POOL ("" = max)."""
    depth = int(cfg.MODEL.ARCH.rsplit("_", 1)[1])
    return construct(R2Plus1D, dict(depth=depth, in_channels=cfg.DATA.INPUT_CHANNEL_NUM[0],
                                    pool=cfg.R2PLUS1D.POOL or "max"), overrides)


@register_arch("r21d_vcop", "r21d")
def build_r21d_vcop(cfg, **overrides) -> R2Plus1DNet:
    """ViCC's R2Plus1DNet; blocks per stage from R2PLUS1D.VCOP_LAYER_SIZES, pool R2PLUS1D.POOL ("" = avg)."""
    return construct(R2Plus1DNet, dict(layer_sizes=tuple(cfg.R2PLUS1D.VCOP_LAYER_SIZES),
                                       in_channels=cfg.DATA.INPUT_CHANNEL_NUM[0], pool=cfg.R2PLUS1D.POOL or "avg"),
                     overrides)
