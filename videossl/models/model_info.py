"""Size and cost of a model: parameter count and fvcore multiply-adds.

``count_params`` works on any device, including ``meta`` (build big models
under ``torch.device("meta")`` to count them without allocating memory).
``flops_gmac`` traces one forward pass with fvcore's ``FlopCountAnalysis`` and
returns giga multiply-adds, the unit of PySlowFast's and most video papers'
"GFLOPs" (fvcore's default op handles: convs, linears, matmuls, and one op
per element for batch norm).  Slow R50 8x8 with its 400-class head: 41.92 at
8x224^2, 54.75 at 8x256^2 (PySlowFast's test crop; its model zoo's 54.52 is
the conv share).
"""

from typing import Optional, Sequence

import torch
from torch import nn


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter elements (shared parameters counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def flops_gmac(model: nn.Module, input_shape: Sequence[int], features_only: bool = False,
               device: Optional[torch.device] = None) -> float:
    """Giga multiply-adds of one forward pass on a zero tensor of ``input_shape`` (e.g. 1x3x8x224x224).

    The model runs in eval mode (restored afterwards) without gradients.
    ``features_only`` counts ``model.forward_features`` (the backbone without
    its head).  Ops fvcore cannot count (pooling, activations) count 0.
    """
    from fvcore.nn import FlopCountAnalysis

    if device is None:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
    target: nn.Module = _Features(model) if features_only else model
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            counter = FlopCountAnalysis(target, torch.zeros(*input_shape, device=device))
            counter.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return counter.total() / 1e9
    finally:
        model.train(was_training)


class _Features(nn.Module):
    """Traces ``net.forward_features`` (fvcore traces ``forward``)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_features(x)
