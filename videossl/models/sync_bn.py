"""Synchronised batch norm that works on any backend (gloo CPU and NCCL GPU).

``torch.nn.SyncBatchNorm`` refuses CPU tensors; this module computes batch
statistics with a differentiable all-reduce of per-rank sums, so a 2-process
run of a global batch gives the same outputs and gradients as one process on
that batch (PySlowFast's ``NaiveSyncBatchNorm`` semantics: biased variance for
normalisation, unbiased for the running estimate).
"""

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..utils import distributed as du


class AllReduceSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm over N x C x ... inputs with statistics synchronised over a group.

    Args are those of ``nn.BatchNorm3d``; ``process_group`` (None = all ranks)
    selects the ranks that share statistics.  Outside training, or with one
    process, it behaves exactly like ``nn.BatchNorm``.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, process_group=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats=True)
        self.process_group = process_group

    def _check_input_dim(self, x):
        if x.dim() < 2:
            raise InputError(f"expected at least 2-D input, got {x.dim()}-D")

    def _group_size(self) -> int:
        if not du.is_dist():
            return 1
        return dist.get_world_size(self.process_group)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self._group_size() == 1:
            return F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias,
                self.training, self.momentum, self.eps,
            )
        self.num_batches_tracked.add_(1)
        dims = [0] + list(range(2, x.dim()))
        count = torch.tensor([x.numel() / x.shape[1]], dtype=x.dtype, device=x.device)
        stats = torch.cat([x.sum(dims), (x * x).sum(dims), count])
        stats = torch.distributed.nn.functional.all_reduce(
            stats, op=dist.ReduceOp.SUM, group=self.process_group or dist.group.WORLD
        )
        c = x.shape[1]
        total = stats[-1]
        mean = stats[:c] / total
        var = stats[c : 2 * c] / total - mean * mean
        with torch.no_grad():
            unbiased = var * total / (total - 1).clamp(min=1)
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean.detach())
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased.detach())
        shape = [1, c] + [1] * (x.dim() - 2)
        inv_std = torch.rsqrt(var + self.eps)
        out = (x - mean.view(shape)) * inv_std.view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def convert_sync_batchnorm(module: nn.Module, process_group=None) -> nn.Module:
    """Replace every ``nn.BatchNorm{1,2,3}d`` in ``module`` by AllReduceSyncBatchNorm, keeping state."""
    out = module
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(
        module, AllReduceSyncBatchNorm
    ):
        out = AllReduceSyncBatchNorm(
            module.num_features, module.eps, module.momentum, module.affine, process_group
        )
        if module.affine:
            with torch.no_grad():
                out.weight.copy_(module.weight)
                out.bias.copy_(module.bias)
        out.running_mean.copy_(module.running_mean)
        out.running_var.copy_(module.running_var)
        out.num_batches_tracked.copy_(module.num_batches_tracked)
        out.train(module.training)
    for name, child in module.named_children():
        out.add_module(name, convert_sync_batchnorm(child, process_group))
    return out
