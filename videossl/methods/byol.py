"""BYOL over ρ clips, with PySlowFast's semantics.

Online: ``p_k = norm(pred(proj(backbone(clip_k))))`` (predictor MLPs per
``CONTRASTIVE.PREDICTOR_DEPTHS``, PySlowFast's ``head.predictors.0``);
target: ``z_i = norm(proj(backbone_hist(clip_i)))`` from the momentum
encoder (its predictor output is ignored).  Loss ``sim(p, z) = -mean(p·z)/T``
(PySlowFast's ``sim_loss``; T = 0.5 in the shipped config gives ``-2 cos``,
BYOL's ``2 - 2 cos`` up to a constant).

* ``CONTRASTIVE.SEQUENTIAL`` (the shipped config): targets of all clips first
  (one clip per forward), then for each clip k ``L_k = mean_{i≠k} sim(p_k, z_i)``
  with its own backward; logged loss Σ_k L_k / (2ρ).  For ρ = 2 the summed
  gradient is that of the symmetric ``sim(p_0, z_1) + sim(p_1, z_0)``.
* Without SEQUENTIAL (ρ must be 2, as PySlowFast asserts): targets of both
  clips in one forward and ``sim(p_0, z_1) + sim(p_1, z_0)``.
* No shuffle-BN (PySlowFast disables it for BYOL).  The MoCo queue buffers
  (``queue_x``, ``ptr``) are allocated but unused, as in PySlowFast, so
  checkpoints have the same keys.

Deviations: the momentum of step t uses step t's ``epoch_exact`` (PySlowFast:
step t-1's in SEQUENTIAL mode); no online kNN memory.
"""

from typing import Dict

import torch

from ..errors import InputError
from .contrastive import MomentumMethod, build_ssl_backbone, embedding_dim
from .losses import byol_loss
from .registry import register_method


class BYOL(MomentumMethod):
    """BYOL with ρ clips; the online backbone's head must have one predictor."""

    def _prediction(self, clip: torch.Tensor) -> torch.Tensor:
        _, preds = self.project(clip)
        if len(preds) != 1:
            raise InputError(
                f"BYOL needs exactly one predictor head (CONTRASTIVE.PREDICTOR_DEPTHS), got {len(preds)}"
            )
        return preds[0]

    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:
        """Symmetric loss of two clips: ``sim(p_0, z_1) + sim(p_1, z_0)``."""
        clips = self.clips(batch)
        if len(clips) != 2:
            raise InputError(
                f"BYOL without CONTRASTIVE.SEQUENTIAL takes exactly 2 clips (got {len(clips)}); "
                "set CONTRASTIVE.SEQUENTIAL True for rho > 2"
            )
        keys = self.compute_keys(clips, batched=True)
        p0 = self._prediction(clips[0])
        p1 = self._prediction(clips[1])
        loss = byol_loss(p0, keys[1], self.T) + byol_loss(p1, keys[0], self.T)
        return {"loss": loss}

    def sequential_losses(self, clips):
        keys = self.compute_keys(clips, batched=len(clips) < 2)
        for k, clip in enumerate(clips):
            p = self._prediction(clip)
            others = keys[:k] + keys[k + 1:]
            yield sum(byol_loss(p, z, self.T) for z in others) / len(others)

    def rank_state_dict(self):
        return {}  # the queue is unused


@register_method("byol")
def build(cfg) -> BYOL:
    """BYOL from CONTRASTIVE.* (PREDICTOR_DEPTHS must hold one depth, e.g. [2])."""
    c = cfg.CONTRASTIVE
    if len(c.PREDICTOR_DEPTHS) != 1:
        raise InputError(
            f"BYOL needs CONTRASTIVE.PREDICTOR_DEPTHS with one entry (PySlowFast: [2]), "
            f"got {list(c.PREDICTOR_DEPTHS)}"
        )
    return BYOL(
        build_ssl_backbone(cfg, c.PREDICTOR_DEPTHS), c.T, c.SEQUENTIAL, c.MOMENTUM,
        c.MOMENTUM_ANNEALING, c.QUEUE_LEN, embedding_dim(cfg), shuffle_bn=False,
    )
