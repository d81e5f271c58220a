"""Methods: one file each, registered by name; the trainer builds them with build_method(cfg)."""

from . import supervised  # noqa: F401  (registers "supervised")
from . import mae  # noqa: F401  (registers "mae")
from . import byol, moco, simclr, swav  # noqa: F401  (register the contrastive methods)
from .base import Method, Progress
from .registry import METHOD_REGISTRY, build_method, register_method

__all__ = ["Method", "Progress", "METHOD_REGISTRY", "build_method", "register_method"]
