"""Shared pieces of the contrastive methods (MoCo, BYOL, SimCLR, SwAV)."""

from .common import (
    ContrastiveMethod,
    MomentumMethod,
    broadcast_buffer_,
    build_ssl_backbone,
    embedding_dim,
    ssl_head_spec,
)

__all__ = [
    "ContrastiveMethod", "MomentumMethod", "broadcast_buffer_", "build_ssl_backbone",
    "embedding_dim", "ssl_head_spec",
]
