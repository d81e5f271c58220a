"""SimCLR over ρ clips, with PySlowFast's semantics.

``z = norm(proj(backbone(clip)))`` for two clips a, b of every video; the
embeddings of all processes are all-gathered WITH gradients
(``CONTRASTIVE.SIMCLR_DIST_ON``), so every process evaluates the NT-Xent loss
of the global batch: anchor i's positive is the other clip of its video and
its denominator all 2N-1 other embeddings (positive included).  The backward
of the gather sums the contributions of every process, and the trainer's
gradient averaging then yields exactly the global-batch gradient.

* ``CONTRASTIVE.SEQUENTIAL`` (the shipped config): only consecutive pairs
  (k, k+1), k = 0..ρ-2 (with ρ = 4 three pairs, not all six), one backward
  each; logged loss Σ_k L_k / (2ρ).
* Without SEQUENTIAL: clips 0 and 1 only.

Deviations: PySlowFast gathers whenever it runs on several GPUs and ignores
``SIMCLR_DIST_ON`` (its flag only feeds a dead code path); here the flag
decides (default True, i.e. the same behaviour).  The loss is computed with
``logsumexp`` instead of ``exp``/``log`` (same value, no overflow).  No
online kNN memory.
"""

from typing import Dict

import torch

from ..utils import distributed as du
from .contrastive import ContrastiveMethod, build_ssl_backbone
from .losses import nt_xent
from .registry import register_method


class SimCLR(ContrastiveMethod):
    """SimCLR with ρ clips.

    Args (besides ContrastiveMethod's):
        dist_on: all-gather embeddings (with gradients) across processes.
    """

    def __init__(self, backbone, T: float, sequential: bool = False, dist_on: bool = True):
        super().__init__(backbone, T, sequential)
        self.dist_on = dist_on

    def pair_loss(self, clip_a: torch.Tensor, clip_b: torch.Tensor) -> torch.Tensor:
        """NT-Xent of the (global, if dist_on) batch of pairs (clip_a[n], clip_b[n])."""
        za, _ = self.project(clip_a)
        zb, _ = self.project(clip_b)
        if self.dist_on:
            za, zb = du.all_gather_with_grad(za), du.all_gather_with_grad(zb)
        return nt_xent(za, zb, self.T)

    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:
        clips = self.clips(batch)
        return {"loss": self.pair_loss(clips[0], clips[1])}

    def sequential_losses(self, clips):
        for k in range(len(clips) - 1):
            yield self.pair_loss(clips[k], clips[k + 1])


@register_method("simclr")
def build(cfg) -> SimCLR:
    """SimCLR from CONTRASTIVE.*."""
    c = cfg.CONTRASTIVE
    return SimCLR(build_ssl_backbone(cfg), c.T, c.SEQUENTIAL, dist_on=c.SIMCLR_DIST_ON)
