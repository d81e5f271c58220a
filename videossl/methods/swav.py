"""SwAV over ρ clips, with PySlowFast's semantics (its "public code" path).

Before each forward the prototypes ``swav_prototypes`` (Linear DIM -> P, no
bias; P = 1000 in PySlowFast) are L2-normalised in place.  For every clip v:
``z_v = norm(proj(backbone(clip_v)))`` and scores ``S_v = prototypes(z_v)``
(B x P).  Clips 0 and 1 are the assignment clips: their codes ``Q_c =
sinkhorn(S_c.detach())`` (ε = 0.05, 3 iterations) are predicted from every
other clip: ``L = mean_c [ mean_{v≠c} -mean_b Σ_p Q_c log softmax(S_v / T) ]``.

* Sinkhorn runs on each process's batch, as PySlowFast does unless
  ``NUM_SHARDS > 1`` (then over all processes); ``SSL.SWAV_GLOBAL_SINKHORN``
  always normalises over the global batch (1 process = N processes).
* ``CONTRASTIVE.SWAV_QEUE_LEN > 0``: a per-process queue ``queue_swav``
  (2 x QEUE_LEN/world x DIM) of past assignment-clip embeddings; from
  ``SSL.SWAV_QUEUE_START_EPOCH`` (PySlowFast: 15) its scores are prepended
  before Sinkhorn (once it is full) and it is updated every step.
* Prototype gradients are dropped while ``epoch_exact <=
  SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS`` (PySlowFast: 1), in
  :meth:`before_optimizer_step`.
* ``CONTRASTIVE.SEQUENTIAL``: consecutive clip pairs (k, k+1), one backward
  each, logged loss Σ_k L_k / (2ρ) (PySlowFast's loop; its shipped SwAV
  config does not use it).

Deviations: ``log_softmax`` instead of ``log(softmax)`` (same value, no
``log 0``); Sinkhorn in at least float32 under autocast; the queue is
per process and listed in the per-rank checkpoint state; no online kNN memory.
"""

from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..utils import distributed as du
from .base import CheckpointLayout, Progress
from .contrastive import ContrastiveMethod, build_ssl_backbone, embedding_dim
from .losses import swav_loss
from .registry import register_method
from .sinkhorn import sinkhorn


class SwAV(ContrastiveMethod):
    """SwAV with ρ clips.

    Args (besides ContrastiveMethod's):
        dim: embedding width (CONTRASTIVE.DIM).
        num_prototypes: prototypes P.
        eps, sinkhorn_iters: Sinkhorn ε and rounds.
        global_sinkhorn: normalise codes over all processes.
        queue_len: per-process queue rows (0 = no queue).
        queue_start_epoch: first epoch at which the queue is used.
        freeze_prototypes_epochs: prototype gradients dropped while epoch_exact <= this.
    """

    LAYOUT = CheckpointLayout(per_rank=("queue_swav",), never_load=("knn_mem.",))

    def __init__(self, backbone: nn.Module, T: float, sequential: bool, dim: int,
                 num_prototypes: int = 1000, eps: float = 0.05, sinkhorn_iters: int = 3,
                 global_sinkhorn: bool = False, queue_len: int = 0,
                 queue_start_epoch: float = 15.0, freeze_prototypes_epochs: float = 1.0,
                 crops_for_assign: Sequence[int] = (0, 1)):
        super().__init__(backbone, T, sequential)
        self.swav_prototypes = nn.Linear(dim, num_prototypes, bias=False)
        self.eps = eps
        self.sinkhorn_iters = sinkhorn_iters
        self.global_sinkhorn = global_sinkhorn
        self.queue_start_epoch = queue_start_epoch
        self.freeze_prototypes_epochs = freeze_prototypes_epochs
        self.crops_for_assign = tuple(crops_for_assign)
        if queue_len > 0:
            self.register_buffer("queue_swav", torch.zeros(len(self.crops_for_assign), queue_len, dim))
        else:
            self.queue_swav = None
        self._use_queue = False
        self._epoch_exact = 0.0

    @torch.no_grad()
    def normalize_prototypes(self) -> None:
        w = self.swav_prototypes.weight
        w.copy_(F.normalize(w, dim=1))

    def on_step_start(self, progress: Progress) -> None:
        self._epoch_exact = progress.epoch_exact

    def _codes(self, scores: List[torch.Tensor], emb: List[torch.Tensor]) -> List[torch.Tensor]:
        codes = []
        b = scores[0].shape[0]
        for i, c in enumerate(self.crops_for_assign):
            with torch.no_grad():
                out = scores[c].detach()
                if self.queue_swav is not None and self.training \
                        and self._epoch_exact >= self.queue_start_epoch:
                    queue = self.queue_swav[i]
                    if b > queue.shape[0]:
                        raise InputError(
                            f"SwAV queue holds {queue.shape[0]} rows per process, fewer than the "
                            f"batch of {b}: raise CONTRASTIVE.SWAV_QEUE_LEN"
                        )
                    if self._use_queue or not torch.all(queue[-1] == 0):
                        self._use_queue = True
                        out = torch.cat([queue.to(out.dtype) @ self.swav_prototypes.weight.t().to(out.dtype), out])
                    queue[b:] = queue[:-b].clone()
                    queue[:b] = emb[c].detach().to(queue.dtype)
                distributed = self.global_sinkhorn
                codes.append(sinkhorn(out, self.eps, self.sinkhorn_iters, distributed=distributed)[-b:])
        return codes

    def embeddings_loss(self, emb: List[torch.Tensor]) -> torch.Tensor:
        """SwAV loss of one set of normalised embeddings (B x DIM each, one per view).

        Normalises the prototypes first; the queue (if in use) takes the
        assignment views' embeddings.
        """
        self.normalize_prototypes()
        scores = [self.swav_prototypes(z) for z in emb]
        codes = self._codes(scores, emb)
        return swav_loss(scores, codes, self.crops_for_assign, self.T)

    def clips_loss(self, clips: List[torch.Tensor]) -> torch.Tensor:
        """SwAV loss of one set of clips (all ρ, or a SEQUENTIAL pair)."""
        return self.embeddings_loss([self.project(clip)[0] for clip in clips])

    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:
        return {"loss": self.clips_loss(self.clips(batch))}

    def sequential_losses(self, clips):
        for k in range(len(clips) - 1):
            yield self.clips_loss(clips[k:k + 2])

    def prototypes_frozen(self, progress: Progress) -> bool:
        """PySlowFast: while ``epoch_exact <= freeze_prototypes_epochs``."""
        return progress.epoch_exact <= self.freeze_prototypes_epochs

    def before_optimizer_step(self, progress: Progress) -> bool:
        """Drop the prototypes' gradient while :meth:`prototypes_frozen`."""
        if self.prototypes_frozen(progress):
            self.swav_prototypes.weight.grad = None
        return True

    def rank_state_dict(self) -> Dict[str, torch.Tensor]:
        if self.queue_swav is None:
            return {}
        return {"queue_swav": self.queue_swav.detach().clone()}

    def load_rank_state_dict(self, state: Dict[str, torch.Tensor]) -> None:
        if self.queue_swav is not None and "queue_swav" in state:
            with torch.no_grad():
                self.queue_swav.copy_(state["queue_swav"])
            self._use_queue = not torch.all(self.queue_swav[:, -1] == 0).item()


@register_method("swav")
def build(cfg) -> SwAV:
    """SwAV from CONTRASTIVE.* and SSL.SWAV_*."""
    c, s = cfg.CONTRASTIVE, cfg.SSL
    queue_len = c.SWAV_QEUE_LEN // du.get_world_size() if c.SWAV_QEUE_LEN > 0 else 0
    return SwAV(
        build_ssl_backbone(cfg), c.T, c.SEQUENTIAL, embedding_dim(cfg),
        num_prototypes=s.SWAV_NUM_PROTOTYPES, eps=s.SWAV_EPSILON,
        sinkhorn_iters=s.SWAV_SINKHORN_ITERS,
        global_sinkhorn=s.SWAV_GLOBAL_SINKHORN or cfg.NUM_SHARDS > 1,
        queue_len=queue_len, queue_start_epoch=s.SWAV_QUEUE_START_EPOCH,
        freeze_prototypes_epochs=s.SWAV_FREEZE_PROTOTYPES_EPOCHS,
    )
