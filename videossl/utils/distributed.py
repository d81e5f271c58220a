"""torch.distributed helpers that also work when nothing is initialised (1 process)."""

import os
from typing import List, Optional

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn


def is_dist() -> bool:
    return dist.is_available() and dist.is_initialized()


def get_rank() -> int:
    return dist.get_rank() if is_dist() else 0


def get_world_size() -> int:
    return dist.get_world_size() if is_dist() else 1


def get_local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", get_rank()))


def is_main_process() -> bool:
    return get_rank() == 0


def barrier() -> None:
    if is_dist():
        dist.barrier()


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum over ranks, differentiable (backward sums gradients over ranks)."""
    if not is_dist() or get_world_size() == 1:
        return tensor
    return dist_nn.all_reduce(tensor, op=dist.ReduceOp.SUM)


def sum_over_ranks(values, device: torch.device) -> List[float]:
    """Sum each of ``values`` (numbers) over ranks (float64, no gradient); every rank gets the sums."""
    t = torch.tensor([float(v) for v in values], dtype=torch.float64)
    if is_dist() and get_world_size() > 1:
        t = t.to(device)
        dist.all_reduce(t)
    return t.cpu().tolist()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is True on any rank (one all-reduce)."""
    return sum_over_ranks([1.0 if flag else 0.0], device)[0] > 0


def all_gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` (N x ...) from all ranks along dim 0, keeping gradients.

    The backward pass sums each rank's gradient contributions and returns this
    rank's slice, so a loss computed on the gathered tensor by every rank
    (and averaged by DDP) gives the same gradient as one process.
    """
    if not is_dist() or get_world_size() == 1:
        return tensor
    return torch.cat(dist_nn.all_gather(tensor), dim=0)


@torch.no_grad()
def all_gather_no_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate equal-shaped tensors from all ranks along dim 0 (no gradient)."""
    if not is_dist() or get_world_size() == 1:
        return tensor
    out = [torch.empty_like(tensor) for _ in range(get_world_size())]
    dist.all_gather(out, tensor.contiguous())
    return torch.cat(out, dim=0)


def all_gather_object(obj) -> List:
    if not is_dist() or get_world_size() == 1:
        return [obj]
    out: List[Optional[object]] = [None] * get_world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj, src: int = 0):
    if not is_dist() or get_world_size() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_reduce_grads(module: torch.nn.Module) -> None:
    """Average ``module``'s gradients over ranks (for backward passes made outside DDP); no-op alone.

    The gradients are flattened into one buffer, summed with one all-reduce and divided by the world size.
    """
    if get_world_size() == 1:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()
