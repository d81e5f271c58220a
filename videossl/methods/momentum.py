"""Momentum (EMA) encoders: the update and PySlowFast's cosine momentum schedule."""

import math

import torch
from torch import nn


def cosine_momentum(m0: float, epoch_exact: float, max_epoch: float) -> float:
    """``1 - (1 - m0) (cos(π e / E) + 1) / 2``: m0 at epoch 0, 1 at ``max_epoch``."""
    return 1.0 - (1.0 - m0) * (math.cos(math.pi * epoch_exact / max_epoch) + 1.0) * 0.5


def _paired_params(target: nn.Module, online: nn.Module):
    online_params = dict(online.named_parameters())
    pairs = []
    for name, p in target.named_parameters():
        if name not in online_params:
            raise KeyError(f"momentum encoder parameter {name!r} has no online counterpart")
        pairs.append((p, online_params[name]))
    return pairs


@torch.no_grad()
def ema_update_(target: nn.Module, online: nn.Module, m: float) -> None:
    """``θ_target <- m θ_target + (1 - m) θ_online`` for every parameter, matched by name.

    Buffers (BN running statistics) are not touched: as in PySlowFast, the
    momentum encoder's BN statistics come from its own forward passes.
    """
    for t, o in _paired_params(target, online):
        t.mul_(m).add_(o.detach().to(t.dtype), alpha=1.0 - m)


@torch.no_grad()
def copy_params_(target: nn.Module, online: nn.Module) -> None:
    """``θ_target <- θ_online`` for every parameter (buffers untouched)."""
    for t, o in _paired_params(target, online):
        t.copy_(o.detach())
