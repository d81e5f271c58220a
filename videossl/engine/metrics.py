"""Classification metrics over per-view scores (leaf functions, no config)."""

from typing import Dict, Sequence

import torch

from ..errors import InputError


def aggregate_views(scores: torch.Tensor, video_idx: torch.Tensor, num_videos: int,
                    method: str = "sum") -> torch.Tensor:
    """Combine per-view scores N x K into per-video scores V x K (sum or element-wise max)."""
    out = torch.zeros(num_videos, scores.shape[1], dtype=scores.dtype)
    if method == "sum":
        out.index_add_(0, video_idx, scores)
    elif method == "max":
        out.fill_(-float("inf"))
        out.index_reduce_(0, video_idx, scores, "amax", include_self=True)
    else:
        raise InputError(f"DATA.ENSEMBLE_METHOD={method!r} is not sum or max")
    return out


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)) -> Dict[str, float]:
    """Top-k accuracy in percent of V x K scores against V labels."""
    result = {}
    for k in ks:
        k_eff = min(k, scores.shape[1])
        hit = (scores.topk(k_eff, dim=1).indices == labels[:, None]).any(dim=1)
        result[f"top{k}_acc"] = hit.float().mean().item() * 100.0
    return result
