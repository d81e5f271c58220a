"""Backbones and heads.  No knowledge of methods or tasks."""

from .build import ARCH_REGISTRY, HeadSpec, build_backbone, build_head, build_model, head_spec_from_cfg, register_arch
from .heads import MLPHead, VideoHead
from .resnet import ResNet3D
from .sync_bn import AllReduceSyncBatchNorm, convert_sync_batchnorm

__all__ = [
    "ARCH_REGISTRY", "HeadSpec", "build_backbone", "build_head", "build_model", "head_spec_from_cfg",
    "register_arch", "MLPHead", "VideoHead", "ResNet3D", "AllReduceSyncBatchNorm",
    "convert_sync_batchnorm",
]
