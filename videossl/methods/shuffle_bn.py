"""Shuffle-BN for momentum keys (MoCo): permute the batch across processes before the key encoder.

Per-process BN statistics would otherwise let a query and its key share
batch statistics (an information leak).  PySlowFast gathers the key clips of
a machine (``CONTRASTIVE.LOCAL_SHUFFLE_BN``) or of all machines, applies one
random permutation (drawn on the group's first rank and broadcast), lets
every process encode its slice, and restores the order after gathering the
keys again.  With one process in the group it is the identity (a
permutation inside one BN batch changes nothing) and is skipped.
"""

from typing import List, Optional, Tuple

import torch
import torch.distributed as dist

from ..utils import distributed as du

_GROUPS = {}


def forget_groups() -> None:
    """Drop the cached shuffle groups; call after ``destroy_process_group`` (they die with it)."""
    _GROUPS.clear()


def _group_size(group) -> int:
    if not du.is_dist():
        return 1
    return dist.get_world_size(group)


def shuffle_group(local: bool, num_shards: int):
    """The process group keys are shuffled over: this machine's ranks when ``local`` else all.

    Ranks are assumed to be numbered machine by machine (PySlowFast's
    ``rank = SHARD_ID * NUM_GPUS + local_rank``).  Every rank must call this
    the first time (it may create groups); None means the world group.
    """
    if not du.is_dist() or not local or num_shards <= 1:
        return None
    world = du.get_world_size()
    per_machine = world // num_shards
    key = (world, per_machine)
    if key not in _GROUPS:
        groups = [dist.new_group(list(range(s * per_machine, (s + 1) * per_machine)))
                  for s in range(num_shards)]
        _GROUPS[key] = groups[du.get_rank() // per_machine]
    return _GROUPS[key]


def _gather(x: torch.Tensor, group) -> torch.Tensor:
    out: List[torch.Tensor] = [torch.empty_like(x) for _ in range(_group_size(group))]
    dist.all_gather(out, x.contiguous(), group=group)
    return torch.cat(out, dim=0)


@torch.no_grad()
def batch_shuffle(x: torch.Tensor, group=None) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """This process's slice of the group's batch after a shared random permutation.

    Returns ``(x_shuffled, restore)``; pass ``restore`` to :func:`batch_unshuffle`.
    Every process must hold the same number of samples.  ``restore`` is None
    when the group has one process (nothing is done).
    """
    size = _group_size(group)
    if size == 1:
        return x, None
    x_all = _gather(x, group)
    perm = torch.randperm(x_all.shape[0], device=x.device)
    src = dist.get_global_rank(group, 0) if group is not None else 0
    dist.broadcast(perm, src=src, group=group)
    rank = dist.get_rank(group)
    local = perm.view(size, -1)[rank]
    return x_all[local], torch.argsort(perm)


@torch.no_grad()
def batch_unshuffle(y: torch.Tensor, restore: Optional[torch.Tensor], group=None) -> torch.Tensor:
    """Inverse of :func:`batch_shuffle` applied to the encoder outputs ``y``."""
    if restore is None:
        return y
    size = _group_size(group)
    y_all = _gather(y, group)
    rank = dist.get_rank(group)
    return y_all[restore.view(size, -1)[rank]]
