"""Model builders: the only code in ``videossl.models`` that reads the config.

``build_backbone(cfg, **overrides)`` returns a network with
``forward_features(x) -> B x D``, an integer ``feature_dim`` and a ``head``
attribute (None until attached); ``build_model(cfg, head, **overrides)``
attaches a :class:`~videossl.models.heads.VideoHead` (or, with
``DETECTION.ENABLE``, an :class:`~videossl.models.heads.RoIHead` and a
``forward(x, boxes)``) so the parameter names match PySlowFast
(``head.projection...``).  Overrides are constructor
arguments of the backbone class that replace what the config says, e.g.
``build_backbone(cfg, in_channels=2)`` for a flow encoder (timm's
``create_model(name, **kwargs)``); nothing clones and edits a config.
"""

import inspect
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence, Union

from fvcore.common.registry import Registry
from torch import nn

from ..errors import InputError
from .heads import RoIHead, VideoHead
from .resnet import POOL1_TEMPORAL, ResNet3D
from .sync_bn import AllReduceSyncBatchNorm, convert_sync_batchnorm

ARCH_REGISTRY = Registry("ARCH")
ARCH_REGISTRY.__doc__ = "Maps MODEL.ARCH to build(cfg, **overrides) -> backbone."


def register_arch(*names: str):
    """Decorator registering ``fn(cfg, **overrides) -> backbone`` under each of ``names``."""

    def deco(fn):
        for name in names:
            ARCH_REGISTRY._do_register(name, fn)
        return fn

    return deco


@dataclass(frozen=True)
class HeadSpec:
    """What head to put on a backbone (plain values; see VideoHead)."""

    num_classes: int
    dropout: float = 0.0
    num_mlp_layers: int = 1
    mlp_dim: int = 2048
    bn_mlp: bool = False
    sync_bn_mlp: bool = False
    predictor_depths: Sequence[int] = field(default_factory=tuple)
    detach: bool = False
    init_std: float = 0.01


@dataclass(frozen=True)
class RoIHeadSpec:
    """A detection head: per-box classifier on the res5 map (plain values; see RoIHead).

    ``temporal_pool`` None averages any T; an int requires T to be exactly that.
    """

    num_classes: int
    temporal_pool: Optional[int] = None
    resolution: int = 7
    spatial_scale_factor: float = 16.0
    aligned: bool = True
    act: Optional[str] = "sigmoid"
    dropout: float = 0.0
    detach: bool = False
    init_std: float = 0.01


def construct(cls, kwargs: Dict[str, Any], overrides: Dict[str, Any]):
    """``cls(**kwargs)`` with ``overrides`` replacing entries; ValueError naming an unknown override."""
    params = inspect.signature(cls).parameters
    unknown = [k for k in overrides if k not in params]
    if unknown:
        known = sorted(k for k in params if k != "self")
        raise InputError(f"{cls.__name__} has no argument {unknown[0]!r} to override; its arguments: {known}")
    return cls(**{**kwargs, **overrides})


@register_arch("slow", "c2d", "i3d", "slow_c2d", "slow_i3d", "2d", "resnet")
def build_resnet(cfg, **overrides) -> ResNet3D:
    """PySlowFast single-pathway ResNet from RESNET.* (``resnet`` means ``slow``)."""
    arch = "slow" if cfg.MODEL.ARCH == "resnet" else cfg.MODEL.ARCH
    return construct(ResNet3D, dict(
        depth=cfg.RESNET.DEPTH,
        arch=arch,
        in_channels=cfg.DATA.INPUT_CHANNEL_NUM[0],
        width_per_group=cfg.RESNET.WIDTH_PER_GROUP,
        num_groups=cfg.RESNET.NUM_GROUPS,
        trans_func=cfg.RESNET.TRANS_FUNC,
        num_block_temp_kernel=[k[0] for k in cfg.RESNET.NUM_BLOCK_TEMP_KERNEL],
        spatial_strides=[s[0] for s in cfg.RESNET.SPATIAL_STRIDES],
        spatial_dilations=[d[0] for d in cfg.RESNET.SPATIAL_DILATIONS],
        stride_1x1=cfg.RESNET.STRIDE_1X1,
        inplace_relu=cfg.RESNET.INPLACE_RELU,
        zero_init_final_bn=cfg.RESNET.ZERO_INIT_FINAL_BN,
        zero_init_final_conv=cfg.RESNET.ZERO_INIT_FINAL_CONV,
    ), overrides)


def build_backbone(cfg, **overrides) -> nn.Module:
    """Backbone for ``cfg.MODEL.ARCH`` (no head), sync BN applied per ``BN.NORM_TYPE``.

    ``overrides``: constructor arguments of the arch's class that replace the
    config's values (e.g. ``in_channels=2`` for a flow encoder).
    """
    arch = cfg.MODEL.ARCH
    if arch not in ARCH_REGISTRY:
        known = sorted(k for k, _ in ARCH_REGISTRY)
        raise InputError(f"MODEL.ARCH={arch!r} is not a known backbone; known: {known}")
    net = ARCH_REGISTRY.get(arch)(cfg, **overrides)
    if cfg.BN.NORM_TYPE == "sync_batchnorm":
        net = convert_sync_batchnorm(net)
    return net


def head_spec_from_cfg(cfg, num_classes: Optional[int] = None) -> Union[HeadSpec, RoIHeadSpec]:
    """The supervised head per MODEL.* (dropout, FC init, DETACH_FINAL_FC).

    With ``DETECTION.ENABLE`` it is the AVA box classifier (:class:`RoIHeadSpec`,
    as PySlowFast's ``ResNet`` builds ``ResNetRoIHead``): RoIAlign per
    ``DETECTION.ROI_XFORM_RESOLUTION`` / ``SPATIAL_SCALE_FACTOR`` / ``ALIGNED``,
    activation ``MODEL.HEAD_ACT``, temporal pool over ``DATA.NUM_FRAMES`` divided
    by the arch's temporal stride (PySlowFast's ``_POOL1``); otherwise the
    classifier :class:`HeadSpec`.
    """
    num_classes = num_classes or cfg.MODEL.NUM_CLASSES
    if cfg.DETECTION.ENABLE:
        arch = "slow" if cfg.MODEL.ARCH == "resnet" else cfg.MODEL.ARCH
        temporal_pool = cfg.DATA.NUM_FRAMES // POOL1_TEMPORAL[arch] if arch in POOL1_TEMPORAL else None
        return RoIHeadSpec(
            num_classes=num_classes,
            temporal_pool=temporal_pool,
            resolution=cfg.DETECTION.ROI_XFORM_RESOLUTION,
            spatial_scale_factor=cfg.DETECTION.SPATIAL_SCALE_FACTOR,
            aligned=cfg.DETECTION.ALIGNED,
            act=None if cfg.MODEL.HEAD_ACT == "none" else cfg.MODEL.HEAD_ACT,
            dropout=cfg.MODEL.DROPOUT_RATE,
            detach=cfg.MODEL.DETACH_FINAL_FC,
            init_std=cfg.MODEL.FC_INIT_STD,
        )
    return HeadSpec(
        num_classes=num_classes,
        dropout=cfg.MODEL.DROPOUT_RATE,
        detach=cfg.MODEL.DETACH_FINAL_FC,
        init_std=cfg.MODEL.FC_INIT_STD,
    )


def build_head(dim_in: int, spec: Union[HeadSpec, RoIHeadSpec]) -> nn.Module:
    """The head ``spec`` describes on ``dim_in`` features: a VideoHead, or an RoIHead for an RoIHeadSpec."""
    if isinstance(spec, RoIHeadSpec):
        return RoIHead(
            dim_in, spec.num_classes, temporal_pool=spec.temporal_pool, resolution=spec.resolution,
            spatial_scale_factor=spec.spatial_scale_factor, aligned=spec.aligned, dropout=spec.dropout,
            act=spec.act, detach=spec.detach, init_std=spec.init_std,
        )
    norm_layer = AllReduceSyncBatchNorm if spec.sync_bn_mlp else nn.BatchNorm1d
    return VideoHead(
        dim_in, spec.num_classes, dropout=spec.dropout, num_mlp_layers=spec.num_mlp_layers,
        mlp_dim=spec.mlp_dim, bn_mlp=spec.bn_mlp, norm_layer=norm_layer,
        predictor_depths=tuple(spec.predictor_depths), detach=spec.detach, init_std=spec.init_std,
    )


def build_model(cfg, head: Union[HeadSpec, RoIHeadSpec, None] = None, **overrides) -> nn.Module:
    """Backbone (with ``overrides``, see :func:`build_backbone`) and ``head`` attached.

    The default head is :func:`head_spec_from_cfg`'s: the classifier, or with
    ``DETECTION.ENABLE`` the RoI head, whose model is called ``net(x, boxes)``.
    Only backbones whose ``forward`` takes ``boxes`` (the single-pathway
    ResNet, the ViT) take an RoI head; another backbone raises InputError.
    """
    net = build_backbone(cfg, **overrides)
    spec = head or head_spec_from_cfg(cfg)
    if isinstance(spec, RoIHeadSpec) and "boxes" not in inspect.signature(net.forward).parameters:
        raise InputError(f"DETECTION.ENABLE (the RoI head) needs a backbone that classifies boxes on its "
                         f"feature map (the single-pathway ResNet or the ViT), not MODEL.ARCH={cfg.MODEL.ARCH!r}")
    net.head = build_head(net.feature_dim, spec)
    return net
