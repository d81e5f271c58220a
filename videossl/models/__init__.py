"""Backbones and heads.  No knowledge of methods or tasks.

Every module here is imported with the package, so a new backbone file's
``@register_arch`` (and its checkpoint formats' ``register_source``) runs
without an import list.
"""

from .build import ARCH_REGISTRY, HeadSpec, RoIHeadSpec, build_backbone, build_head, build_model, head_spec_from_cfg, register_arch
from .heads import MLPHead, RoIHead, VideoHead
from .resnet import ResNet3D
from .s3d import S3D  # registers MODEL.ARCH "s3d", "s3dg"
from .r2plus1d import R2Plus1D, R2Plus1DNet  # registers "r2plus1d_{10,18,34}", "r21d_vcop"
from .convert import LoadReport, extract_backbone, load_pretrained, register_source
from .sync_bn import AllReduceSyncBatchNorm, convert_sync_batchnorm
from ..utils.discover import import_submodules

import_submodules(__name__)  # registers every arch (vit, mvit, maskmvit, ...) and checkpoint format

__all__ = [
    "ARCH_REGISTRY", "HeadSpec", "RoIHeadSpec", "build_backbone", "build_head", "build_model", "head_spec_from_cfg",
    "register_arch", "MLPHead", "RoIHead", "VideoHead", "ResNet3D", "AllReduceSyncBatchNorm",
    "convert_sync_batchnorm", "S3D", "R2Plus1D", "R2Plus1DNet", "LoadReport", "extract_backbone",
    "load_pretrained", "register_source",
]
