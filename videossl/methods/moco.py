"""MoCo (v2 style) over ρ clips, with PySlowFast's semantics.

Query ``q_k = norm(proj(backbone(clip_k)))``; keys ``k_i =
norm(proj(backbone_hist(clip_i)))`` from the momentum encoder; every other
clip of the same video is a positive.  For each positive a logits row
``[q·k_i, q·queueᵀ] / T`` and cross-entropy with target 0 (mean over rows).

* ``CONTRASTIVE.SEQUENTIAL`` (the shipped config): keys of all ρ clips are
  computed first (one clip per forward), then for each query clip k one
  loss against the ρ-1 other keys and one backward; gradients sum over
  clips, the logged loss is Σ_k L_k / (2ρ).  All keys are enqueued afterwards
  (``MOCO_MULTI_VIEW_QUEUE``; else only clip 0's key).
* Without SEQUENTIAL: clip 0 is the only query, clips 1..ρ-1 give the keys
  (computed in one forward), which are enqueued after the loss.
* Queue: per process and holding that process's keys only (PySlowFast's
  ``_dequeue_and_enqueue``); ``SSL.MOCO_GLOBAL_QUEUE`` all-gathers the keys
  first so every process holds the same global queue (official MoCo).
* Shuffle-BN when the backbone's BN is per process (PySlowFast disables it
  with sync BN, and for BYOL); within a machine if ``LOCAL_SHUFFLE_BN``.
* The optimizer does not step during the first ``QUEUE_LEN // global batch``
  iterations of epoch 0, while the queue fills with real keys.

Deviations from PySlowFast, chosen deliberately:

* The momentum of step t is annealed with step t's ``epoch_exact``; in
  PySlowFast's SEQUENTIAL path the key encoder is updated before the forward
  that anneals, so it uses step t-1's value (a one-iteration lag).
* PySlowFast wraps the model in DDP with ``broadcast_buffers=True``, so in a
  multi-GPU SEQUENTIAL run every forward overwrites all queues with rank 0's
  (effectively all ranks use rank 0's keys as negatives).  videossl keeps
  each process's own queue (the trainer disables buffer broadcasting), which
  is what PySlowFast's code intends; use ``SSL.MOCO_GLOBAL_QUEUE`` for one
  shared queue.
* Shuffle-BN is skipped whenever ``BN.NORM_TYPE`` is sync BN (videossl's sync
  BN spans all processes, so a shuffle cannot change any statistic) and when
  the shuffle group has one process (a permutation inside one BN batch is the
  identity); PySlowFast still draws the permutation.
* ``QUEUE_LEN`` need not be a multiple of the per-process batch (writes wrap).
* No online kNN memory (``knn_mem``); evaluation extracts features.
"""

from typing import Dict, List

import torch

from ..config import compute_scale
from ..utils import distributed as du
from .base import Progress
from .contrastive import MomentumMethod, broadcast_buffer_, build_ssl_backbone, embedding_dim
from .losses import moco_loss
from .registry import register_method


class MoCo(MomentumMethod):
    """MoCo with ρ clips.

    Args (besides MomentumMethod's):
        multi_view_queue: enqueue the keys of all clips (else clip 0's only).
        global_queue: all-gather keys before enqueueing (``SSL.MOCO_GLOBAL_QUEUE``).
        iters_noupdate: optimizer steps skipped at the start of epoch 0.
    """

    def __init__(self, *args, multi_view_queue: bool = False, global_queue: bool = False,
                 iters_noupdate: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.multi_view_queue = multi_view_queue
        self.global_queue = global_queue
        self.iters_noupdate = iters_noupdate
        self._keys = None

    def on_step_start(self, progress: Progress) -> None:
        if self.global_queue and int(self.iter[0]) == 0:
            # Processes are seeded differently; a global queue must start identical.
            broadcast_buffer_(self.queue_x)
            broadcast_buffer_(self.ptr)
        super().on_step_start(progress)

    def _enqueue_keys(self, keys: List[torch.Tensor]) -> None:
        self.enqueue(keys if self.multi_view_queue else keys[:1], gather=self.global_queue)

    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:
        """Clip 0 is the query, clips 1..ρ-1 the positive keys; enqueue those keys."""
        clips = self.clips(batch)
        q, _ = self.project(clips[0])
        keys = self.compute_keys(clips[1:], batched=True)
        loss = moco_loss(q, keys, self.queue_x.clone(), self.T)
        if self.training:
            self._enqueue_keys(keys)
        return {"loss": loss}

    def sequential_losses(self, clips):
        self._keys = self.compute_keys(clips, batched=len(clips) < 2)
        queue = self.queue_x.clone()
        for k, clip in enumerate(clips):
            q, _ = self.project(clip)
            yield moco_loss(q, self._keys[:k] + self._keys[k + 1:], queue, self.T)

    def after_sequential(self) -> None:
        self._enqueue_keys(self._keys)
        self._keys = None

    def before_optimizer_step(self, progress: Progress) -> bool:
        """False during the first ``iters_noupdate`` iterations of epoch 0 (queue filling)."""
        return not (progress.epoch_exact < 1 and progress.iter_in_epoch < self.iters_noupdate)


@register_method("moco")
def build(cfg) -> MoCo:
    """MoCo from CONTRASTIVE.* (+ SSL.MOCO_GLOBAL_QUEUE)."""
    c = cfg.CONTRASTIVE
    global_batch = compute_scale(cfg, du.get_world_size()).global_batch
    return MoCo(
        build_ssl_backbone(cfg), c.T, c.SEQUENTIAL, c.MOMENTUM, c.MOMENTUM_ANNEALING,
        c.QUEUE_LEN, embedding_dim(cfg),
        shuffle_bn="sync" not in cfg.BN.NORM_TYPE, shuffle_local=c.LOCAL_SHUFFLE_BN,
        num_shards=cfg.NUM_SHARDS,
        multi_view_queue=c.MOCO_MULTI_VIEW_QUEUE, global_queue=cfg.SSL.MOCO_GLOBAL_QUEUE,
        iters_noupdate=c.QUEUE_LEN // max(global_batch, 1),
    )
