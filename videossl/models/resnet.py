"""Slow-only 3D ResNet with PySlowFast's layout and parameter names.

Module names follow PySlowFast's ``video_model_builder.ResNet`` so its
``.pyth`` checkpoints load without renaming: ``s1.pathway0_stem.{conv,bn}``,
``s{2..5}.pathway0_res{i}.{branch1,branch1_bn,branch2.{a,b,c}[_bn]}``,
``pathway0_pool`` (parameter-free) and ``head``.

Depths: 10 (1-1-1-1, videossl's CPU size), 18 (2-2-2-2), 50 (3-4-6-3),
101 (3-4-23-3).  ``width_per_group`` scales every stage, so a narrow R10 runs
on a CPU in seconds.  As in PySlowFast, the stage widths do not depend on the
transform: R18 with ``basic_transform`` keeps the 256..2048 channels.

Archs and their temporal structure are PySlowFast's ``_TEMPORAL_KERNEL_BASIS``
and ``_POOL1`` tables: ``slow`` (Tx1x1 kernels T=3 in res4/res5 only, no
temporal pooling), ``c2d``/``slow_c2d``/``2d`` (no temporal kernels), ``i3d``/
``slow_i3d`` (stem T=5, per-block kernels cycling through [3], [3, 1], [3, 1],
[1, 3]).  ``c2d`` and ``i3d`` halve T after res2 (``pathway0_pool`` 2x1x1).
"""

from typing import List, Optional, Sequence

import torch
from torch import nn

from ..errors import InputError
from .heads import apply_head

STAGE_DEPTH = {10: (1, 1, 1, 1), 18: (2, 2, 2, 2), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}

# Temporal kernel basis per stage (stem, res2..res5) for each single-pathway
# arch: block i of a stage uses basis[i % len(basis)] (PySlowFast semantics).
_NO_TIME = ((1,), (1,), (1,), (1,), (1,))
_I3D = ((5,), (3,), (3, 1), (3, 1), (1, 3))
TEMPORAL_KERNEL = {
    "slow": ((1,), (1,), (1,), (3,), (3,)),
    "c2d": _NO_TIME,
    "slow_c2d": _NO_TIME,
    "2d": _NO_TIME,
    "i3d": _I3D,
    "slow_i3d": _I3D,
}
# Temporal max-pool kernel (= stride) between res2 and res3 (PySlowFast _POOL1).
POOL1_TEMPORAL = {"slow": 1, "c2d": 2, "slow_c2d": 1, "2d": 1, "i3d": 2, "slow_i3d": 1}


def block_temporal_kernels(basis: Sequence[int], num_blocks: int, num_block_temp_kernel: int) -> List[int]:
    """Temporal kernel of each block of a stage (PySlowFast ``ResStage``).

    The basis is repeated over the blocks and cut after the first
    ``num_block_temp_kernel`` blocks; later blocks get kernel 1.  E.g. i3d res3
    (basis [3, 1], 4 blocks, all with temporal kernels) -> [3, 1, 3, 1].
    Unlike PySlowFast (which asserts), a count above ``num_blocks`` is clipped,
    so the default ``NUM_BLOCK_TEMP_KERNEL`` [[3],[4],[6],[3]] also serves R10/R18.
    """
    if num_block_temp_kernel < 0:
        raise InputError(f"RESNET.NUM_BLOCK_TEMP_KERNEL entries must be >= 0, got {num_block_temp_kernel}")
    n = min(num_block_temp_kernel, num_blocks)
    return (list(basis) * num_blocks)[:n] + [1] * (num_blocks - n)


class BottleneckTransform(nn.Module):
    """Tx1x1 -> 1x3x3 (strided) -> 1x1x1 convs, BN after each, ReLU after a and b."""

    def __init__(self, dim_in, dim_out, dim_inner, temp_kernel, stride, num_groups=1,
                 dilation=1, stride_1x1=False, inplace_relu=True, eps=1e-5, bn_mmt=0.1):
        super().__init__()
        s1, s3 = (stride, 1) if stride_1x1 else (1, stride)
        self.a = nn.Conv3d(dim_in, dim_inner, (temp_kernel, 1, 1), (1, s1, s1),
                           (temp_kernel // 2, 0, 0), bias=False)
        self.a_bn = nn.BatchNorm3d(dim_inner, eps=eps, momentum=bn_mmt)
        self.a_relu = nn.ReLU(inplace=inplace_relu)
        self.b = nn.Conv3d(dim_inner, dim_inner, (1, 3, 3), (1, s3, s3), (0, dilation, dilation),
                           groups=num_groups, dilation=(1, dilation, dilation), bias=False)
        self.b_bn = nn.BatchNorm3d(dim_inner, eps=eps, momentum=bn_mmt)
        self.b_relu = nn.ReLU(inplace=inplace_relu)
        self.c = nn.Conv3d(dim_inner, dim_out, 1, bias=False)
        self.c.final_conv = True
        self.c_bn = nn.BatchNorm3d(dim_out, eps=eps, momentum=bn_mmt)
        self.c_bn.transform_final_bn = True

    def forward(self, x):
        x = self.a_relu(self.a_bn(self.a(x)))
        x = self.b_relu(self.b_bn(self.b(x)))
        return self.c_bn(self.c(x))


class BasicTransform(nn.Module):
    """Tx3x3 (strided) -> 1x3x3 convs with BN, ReLU after a (PySlowFast basic_transform)."""

    def __init__(self, dim_in, dim_out, dim_inner, temp_kernel, stride, num_groups=1,
                 dilation=1, stride_1x1=False, inplace_relu=True, eps=1e-5, bn_mmt=0.1):
        super().__init__()
        del dim_inner, num_groups, stride_1x1
        self.a = nn.Conv3d(dim_in, dim_out, (temp_kernel, 3, 3), (1, stride, stride),
                           (temp_kernel // 2, 1, 1), bias=False)
        self.a_bn = nn.BatchNorm3d(dim_out, eps=eps, momentum=bn_mmt)
        self.a_relu = nn.ReLU(inplace=inplace_relu)
        self.b = nn.Conv3d(dim_out, dim_out, (1, 3, 3), 1, (0, dilation, dilation),
                           dilation=(1, dilation, dilation), bias=False)
        self.b.final_conv = True
        self.b_bn = nn.BatchNorm3d(dim_out, eps=eps, momentum=bn_mmt)
        self.b_bn.transform_final_bn = True

    def forward(self, x):
        return self.b_bn(self.b(self.a_relu(self.a_bn(self.a(x)))))


TRANSFORMS = {"bottleneck_transform": BottleneckTransform, "basic_transform": BasicTransform}


class ResBlock(nn.Module):
    """Residual block: ``branch2`` transform + (projected) shortcut, then ReLU."""

    def __init__(self, transform, dim_in, dim_out, stride, inplace_relu=True, eps=1e-5,
                 bn_mmt=0.1, **kwargs):
        super().__init__()
        if dim_in != dim_out or stride != 1:
            self.branch1 = nn.Conv3d(dim_in, dim_out, 1, (1, stride, stride), bias=False)
            self.branch1_bn = nn.BatchNorm3d(dim_out, eps=eps, momentum=bn_mmt)
        self.branch2 = transform(dim_in, dim_out, stride=stride, inplace_relu=inplace_relu,
                                 eps=eps, bn_mmt=bn_mmt, **kwargs)
        self.relu = nn.ReLU(inplace_relu)

    def forward(self, x):
        shortcut = self.branch1_bn(self.branch1(x)) if hasattr(self, "branch1") else x
        return self.relu(shortcut + self.branch2(x))


class ResStage(nn.Module):
    """One stage (single pathway): blocks named ``pathway0_res{i}``.

    ``temp_kernel`` is the stage's kernel basis (an int or a sequence, see
    :func:`block_temporal_kernels`).
    """

    def __init__(self, transform, dim_in, dim_out, dim_inner, num_blocks, temp_kernel,
                 num_block_temp_kernel, stride, **kwargs):
        super().__init__()
        basis = (temp_kernel,) if isinstance(temp_kernel, int) else tuple(temp_kernel)
        kernels = block_temporal_kernels(basis, num_blocks, num_block_temp_kernel)
        for i, tk in enumerate(kernels):
            block = ResBlock(transform, dim_in if i == 0 else dim_out, dim_out,
                             stride if i == 0 else 1, dim_inner=dim_inner, temp_kernel=tk, **kwargs)
            self.add_module(f"pathway0_res{i}", block)
        self.num_blocks = num_blocks

    def forward(self, x):
        for i in range(self.num_blocks):
            x = getattr(self, f"pathway0_res{i}")(x)
        return x


class Stem(nn.Module):
    """Conv (Tk x 7 x 7, stride 1x2x2) -> BN -> ReLU -> MaxPool (1x3x3, stride 1x2x2)."""

    def __init__(self, dim_in, dim_out, temp_kernel, inplace_relu=True, eps=1e-5, bn_mmt=0.1):
        super().__init__()
        self.conv = nn.Conv3d(dim_in, dim_out, (temp_kernel, 7, 7), (1, 2, 2),
                              (temp_kernel // 2, 3, 3), bias=False)
        self.bn = nn.BatchNorm3d(dim_out, eps=eps, momentum=bn_mmt)
        self.relu = nn.ReLU(inplace_relu)
        self.pool_layer = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))

    def forward(self, x):
        return self.pool_layer(self.relu(self.bn(self.conv(x))))


class VideoModelStem(nn.Module):
    """Wrapper giving the stem PySlowFast's name ``pathway0_stem``."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.pathway0_stem = Stem(*args, **kwargs)

    def forward(self, x):
        return self.pathway0_stem(x)


class ResNet3D(nn.Module):
    """Single-pathway 3D ResNet backbone (Slow-only by default).

    ``forward_features(x)``: B x C x T x H x W -> B x feature_dim (global
    average pool of res5; feature_dim = 32 * width_per_group, 2048 for R50).
    ``forward`` additionally applies ``self.head`` when one is attached (see
    :func:`videossl.models.build_model`); with an RoI head, ``forward(x, boxes)``
    classifies boxes on the res5 map.  Spatial size shrinks 32x (with the
    default strides; 16x with PySlowFast's AVA setting ``spatial_strides``
    (1, 2, 2, 1), ``spatial_dilations`` (1, 1, 1, 2)); T is kept, except
    ``c2d``/``i3d`` halve it after res2.
    Weight init is PySlowFast's: MSRA fill for convs, BN weight 1 (0 for the
    last BN of each transform with ``zero_init_final_bn``), last conv of each
    transform zero with ``zero_init_final_conv``.
    """

    def __init__(self, depth: int = 50, arch: str = "slow", in_channels: int = 3,
                 width_per_group: int = 64, num_groups: int = 1,
                 trans_func: str = "bottleneck_transform",
                 num_block_temp_kernel: Sequence[int] = (3, 4, 6, 3),
                 spatial_strides: Sequence[int] = (1, 2, 2, 2),
                 spatial_dilations: Sequence[int] = (1, 1, 1, 1),
                 stride_1x1: bool = False, inplace_relu: bool = True,
                 zero_init_final_bn: bool = False, zero_init_final_conv: bool = False):
        super().__init__()
        if depth not in STAGE_DEPTH:
            raise InputError(f"RESNET.DEPTH={depth} is not one of {sorted(STAGE_DEPTH)}")
        if arch not in TEMPORAL_KERNEL:
            raise InputError(f"MODEL.ARCH={arch!r} is not a single-pathway ResNet {sorted(TEMPORAL_KERNEL)}")
        if trans_func not in TRANSFORMS:
            raise InputError(f"RESNET.TRANS_FUNC={trans_func!r} is not one of {sorted(TRANSFORMS)}")
        tk = TEMPORAL_KERNEL[arch]
        width = width_per_group
        dim_inner = num_groups * width_per_group
        self.s1 = VideoModelStem(in_channels, width, tk[0][0], inplace_relu=inplace_relu)
        dim_in = width
        for stage, blocks in enumerate(STAGE_DEPTH[depth]):
            dim_out = width * 4 * 2**stage
            self.add_module(f"s{stage + 2}", ResStage(
                TRANSFORMS[trans_func], dim_in, dim_out, dim_inner * 2**stage, blocks, tk[stage + 1],
                num_block_temp_kernel[stage], spatial_strides[stage], num_groups=num_groups,
                dilation=spatial_dilations[stage], stride_1x1=stride_1x1, inplace_relu=inplace_relu,
            ))
            if stage == 0:
                pt = POOL1_TEMPORAL[arch]
                self.pathway0_pool = nn.MaxPool3d((pt, 1, 1), (pt, 1, 1), 0)
            dim_in = dim_out
        self.feature_dim = dim_in
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.head = None
        self._init_weights(zero_init_final_bn, zero_init_final_conv)

    def _init_weights(self, zero_init_final_bn: bool, zero_init_final_conv: bool = False) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                if getattr(m, "final_conv", False) and zero_init_final_conv:
                    nn.init.zeros_(m.weight)
                else:
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                final = getattr(m, "transform_final_bn", False) and zero_init_final_bn
                nn.init.constant_(m.weight, 0.0 if final else 1.0)
                nn.init.zeros_(m.bias)

    def forward_maps(self, x: torch.Tensor) -> torch.Tensor:
        """B x C x T x H x W -> res5 feature map B x feature_dim x T' x H' x W'."""
        x = self.s2(self.s1(x))
        x = self.pathway0_pool(x)
        return self.s5(self.s4(self.s3(x)))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """B x C x T x H x W -> B x feature_dim."""
        return self.pool(self.forward_maps(x)).flatten(1)

    def forward(self, x: torch.Tensor, boxes: Optional[torch.Tensor] = None):
        """B x C x T x H x W clip -> the head's output (B x feature_dim features without a head).

        With an :class:`~videossl.models.heads.RoIHead` attached (``DETECTION.ENABLE``),
        ``boxes`` (K x 5 rows ``(batch_index, x1, y1, x2, y2)`` in input pixels) is
        required and the result is K x num_classes, computed on the res5 map;
        any other head takes the pooled B x feature_dim features and no boxes.
        """
        return apply_head(self, x, boxes)
