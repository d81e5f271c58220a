"""Config keys owned by the models area (videossl-only keys; PySlowFast keys live in defaults.py).

``R2PLUS1D.POOL``
    Global pooling of the R(2+1)D backbones: ``"max"`` or ``"avg"``; ``""``
    (default) keeps each reference's choice (max for ``r2plus1d_*``, AVID-CMA;
    average for ``r21d_vcop``, ViCC).
``R2PLUS1D.VCOP_LAYER_SIZES``
    Blocks per stage of ``r21d_vcop`` (ViCC uses [1, 1, 1, 1]).

S3D has no keys: ``MODEL.ARCH s3d`` / ``s3dg`` picks gating, and
``DATA.INPUT_CHANNEL_NUM[0]`` the input channels, as for every backbone.
"""

from fvcore.common.config import CfgNode


def add_keys(cfg: CfgNode) -> None:
    """Add this area's keys to `cfg` in place."""
    cfg.R2PLUS1D = CfgNode()
    cfg.R2PLUS1D.POOL = ""
    cfg.R2PLUS1D.VCOP_LAYER_SIZES = [1, 1, 1, 1]
