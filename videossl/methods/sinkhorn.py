"""Sinkhorn-Knopp equipartition for SwAV codes (leaf function, no config)."""

from typing import Optional

import torch
import torch.distributed as dist

from ..utils import distributed as du
from .losses import upcast


@torch.no_grad()
def sinkhorn(scores: torch.Tensor, eps: float = 0.05, iters: int = 3,
             distributed: bool = False, group: Optional[object] = None) -> torch.Tensor:
    """Soft assignments of B samples to P prototypes, B x P, each row summing to 1.

    ``Q = exp(scores / eps)ᵀ`` (P x B) is normalised to total mass 1, then
    ``iters`` times its rows are scaled to sum to 1/P and its columns to
    1/B_total; finally every column (sample) is scaled to sum to 1.  This is
    PySlowFast's ``sinkhorn`` and, with ``distributed=True``,
    ``distributed_sinkhorn``: the total mass, the row sums and ``B_total`` are
    summed over the processes of ``group`` (default: all), which gives the
    codes that one process would compute on the concatenated batch.

    Args:
        scores: B x P scores (cosine similarities to normalised prototypes).
        eps: entropy regularisation ε.
        iters: normalisation rounds.
        distributed: normalise over the global batch (all-reduce of sums).
        group: process group for ``distributed`` (None = world).
    """
    use_dist = distributed and du.is_dist() and du.get_world_size() > 1

    def reduce(t: torch.Tensor) -> torch.Tensor:
        if use_dist:
            dist.all_reduce(t, group=group)
        return t

    q = torch.exp(upcast(scores) / eps).t()  # P x B
    q = q / reduce(q.sum().reshape(1))
    num_protos = q.shape[0]
    total_b = reduce(torch.tensor([float(q.shape[1])], dtype=q.dtype, device=q.device))
    for _ in range(iters):
        q = q * ((1.0 / num_protos) / reduce(q.sum(dim=1)))[:, None]
        q = q * ((1.0 / total_b) / q.sum(dim=0))[None, :]
    q = q / q.sum(dim=0, keepdim=True)
    return q.t()
