"""ViCC (Toering et al., WACV 2022): SwAV prototypes inside CoCLR's two-stream alternation.

One encoder of the trained stream (``SSL.COCLR_STREAM``: RGB ``views`` or
``flow``), no momentum encoder and no negatives. Its normalised 128-d
embeddings are scored against ``P`` prototypes (``swav_prototypes``, Linear
DIM -> P without bias, rows re-normalised before every step; ViCC: P = 300),
and the loss is SwAV's swapped prediction over the views
(:func:`~videossl.methods.losses.swav_loss`): for each assignment view i,
Sinkhorn codes ``q_i`` (ε 0.05, 3 rounds, always over the global batch) are
predicted from every other view's ``softmax(scores / T)`` (T = 0.1), and the
sum over the other views is divided by (views − 1), then averaged over i.

* **Single stream** (``vicc``): view 0 = enc(clip 0) and view 1 = enc(clip 1),
  the second under ``no_grad`` with shuffle BN (ViCC's ``--sync_bn none``
  path): the encoder learns only through view 0; the prototypes through both.
  Assignment views (0, 1).
* **Cross stream** (``vicc_cross``): a frozen ``second`` encoder of the other
  stream adds view 2 = second(other clip 1) and view 3 = second(other clip
  0). All four views are scored by the trained stream's prototypes, and all
  four are assignment views.
* **Queue**: ``CONTRASTIVE.SWAV_QEUE_LEN`` (ViCC's ``moco-k``, 1920) rounded
  down to a multiple of the global batch, split over the processes; per
  assignment view the past embeddings, used from epoch
  ``SSL.SWAV_QUEUE_START_EPOCH`` once full (SwAV's queue, shared code).
* **Prototype freezing**: no prototype update during the first
  ``SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS`` whole epochs (ViCC: ``epoch < N``,
  where PySlowFast's SwAV uses ``epoch_exact <= N``).
* **Initialisation** (ViCC's ``--pretrain A B``): ``TRAIN.INIT_FROM
  "['query=A', 'second=B']"``. A gives the encoder and the prototypes; B's
  encoder (``backbone.*``) becomes ``second``; B's prototypes are dropped.
  ViCC's own ``.pth.tar`` files load through the ``coclr`` checkpoint format
  (``encoder_q`` -> ``backbone``, ``prototypes`` -> ``swav_prototypes``,
  ``second`` -> ``second``).

Deviations from ViCC's code:

* Sinkhorn runs in at least float32 and does not replace infinities by the
  maximum (``exp(score / 0.05)`` of cosine scores stays below e^20).
* The queue is a buffer listed in the per-rank checkpoint state (ViCC: an
  attribute saved as ``queue{rank}.pth``); it exists from the start and is
  filled from the start epoch on.
* ``SSL.VICC_NO_GRAD_VIEW False`` lets view 1 backpropagate too (ViCC with
  synchronised BN); shuffle BN is skipped with sync BN, as in MoCo.
"""

from typing import Dict, List, Mapping, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..utils import distributed as du
from .base import Load, Progress
from .contrastive import build_ssl_backbone, embedding_dim
from .contrastive.common import split_head_output
from .registry import register_method
from .shuffle_bn import batch_shuffle, batch_unshuffle, shuffle_group
from .streams import STREAMS, check_stream, other_stream, stream_clips
from .swav import SwAV


class ViCC(SwAV):
    """ViCC on one stream; with ``second`` (the other stream's frozen encoder) the cross-stream stage.

    Args:
        backbone: the trained stream's projected encoder (``build_ssl_backbone``).
        T: softmax temperature (ViCC 0.1).
        dim: embedding width.
        stream: "rgb" or "flow", the trained stream.
        second: the other stream's projected encoder, frozen (cross stream), or None.
        no_grad_view: view 1 is encoded without gradient (ViCC's shuffle-BN path).
        align_epochs: during the first ``align_epochs`` whole epochs only the prototypes learn (the
            encoder's and projection's gradients are dropped; BN statistics still update): fits the
            prototypes to the embeddings before the encoder moves (a videossl option, not ViCC's).
        shuffle_bn, shuffle_local, num_shards: shuffle BN for the no-grad view (as MoCo's keys).
        Others: SwAV's (Sinkhorn is always global).
    """

    def __init__(self, backbone: nn.Module, T: float, dim: int, *, stream: str = "rgb",
                 second: Optional[nn.Module] = None, no_grad_view: bool = True, shuffle_bn: bool = True,
                 shuffle_local: bool = False, num_shards: int = 1, num_prototypes: int = 300, eps: float = 0.05,
                 sinkhorn_iters: int = 3, queue_len: int = 0, queue_start_epoch: float = 150.0,
                 freeze_prototypes_epochs: float = 100.0, align_epochs: int = 0):
        super().__init__(backbone, T, False, dim, num_prototypes=num_prototypes, eps=eps,
                         sinkhorn_iters=sinkhorn_iters, global_sinkhorn=True, queue_len=queue_len,
                         queue_start_epoch=queue_start_epoch, freeze_prototypes_epochs=freeze_prototypes_epochs,
                         crops_for_assign=(0, 1) if second is None else (0, 1, 2, 3))
        self.stream = check_stream(stream)
        self.no_grad_view = no_grad_view
        self.shuffle_bn = shuffle_bn
        self.shuffle_local = shuffle_local
        self.num_shards = num_shards
        self.align_epochs = align_epochs
        if second is not None:
            self.second = second
            for p in self.second.parameters():
                p.requires_grad_(False)
        else:
            self.second = None

    # ------------------------------------------------------------ structure
    def frozen_modules(self) -> List[str]:
        return ["second"] if self.second is not None else []

    def init_targets(self) -> Dict[str, nn.Module]:
        if self.second is None:
            return super().init_targets()
        return {"query": self, "second": self.second}

    def init_from(self, checkpoints: Mapping[str, str], load: Load) -> Dict[str, object]:
        """Cross stream: ``query`` (A's encoder and prototypes, and A's ``second`` if it has one) into
        this method, ``second`` (B's ``backbone.*``) into ``second``; the queue restarts. Single
        stream: the default role."""
        if self.second is None:
            return super().init_from(checkpoints, load)
        targets = self.init_targets()
        unknown = [r for r in checkpoints if r not in targets]
        if unknown:
            raise InputError(f"ViCC (cross stream) has no initialisation role {unknown[0]!r}; "
                             f"its roles: {sorted(targets)}")
        reports = {}
        for role in ("query", "second"):  # second last: A may hold a second of its own (a cross checkpoint)
            if role in checkpoints:
                extra = {"source_prefix": "backbone."} if role == "second" else {"exclude": ("queue_swav",)}
                reports[role] = load(targets[role], checkpoints[role], **extra)
        return reports

    # ------------------------------------------------------------ inputs and evaluation
    def clips(self, batch: Dict) -> List[torch.Tensor]:
        return stream_clips(batch, self.stream, type(self).__name__)

    def features(self, batch: Dict) -> torch.Tensor:
        """B x feature_dim pooled features of the trained stream's first clip."""
        return self.backbone.forward_features(batch[STREAMS[self.stream]][0])

    def embedding(self, batch: Dict) -> torch.Tensor:
        return self.project(batch[STREAMS[self.stream]][0])[0]

    # ------------------------------------------------------------ training
    @torch.no_grad()
    def _encode_no_grad(self, encoder: nn.Module, x: torch.Tensor, shuffle: bool) -> torch.Tensor:
        group = shuffle_group(self.shuffle_local, self.num_shards) if shuffle else None
        restore = None
        if shuffle:
            x, restore = batch_shuffle(x, group)
        z = F.normalize(split_head_output(encoder(x))[0], dim=1)
        return batch_unshuffle(z, restore, group) if shuffle else z

    def view_embeddings(self, batch: Dict) -> List[torch.Tensor]:
        """The normalised embeddings of the views, B x DIM each: 2 (single) or 4 (cross stream)."""
        x1, x2 = self.clips(batch)
        s = self.project(x1)[0]
        if self.no_grad_view:
            t = self._encode_no_grad(self.backbone, x2, self.shuffle_bn)
        else:
            t = self.project(x2)[0]
        views = [s, t]
        if self.second is not None:
            f1, f2 = stream_clips(batch, other_stream(self.stream), type(self).__name__)
            views += [self._encode_no_grad(self.second, f2, False), self._encode_no_grad(self.second, f1, False)]
        return views

    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:
        return {"loss": self.embeddings_loss(self.view_embeddings(batch))}

    def prototypes_frozen(self, progress: Progress) -> bool:
        """ViCC: during the first ``freeze_prototypes_epochs`` whole epochs (``epoch < N``)."""
        return progress.epoch < self.freeze_prototypes_epochs

    def before_optimizer_step(self, progress: Progress) -> bool:
        """SwAV's prototype freezing; during the first ``align_epochs`` epochs only the prototypes step."""
        step = super().before_optimizer_step(progress)
        if progress.epoch < self.align_epochs:
            for name, p in self.named_parameters():
                if not name.startswith("swav_prototypes."):
                    p.grad = None
        return step


def vicc_queue_len(queue_len: int, global_batch: int, world: int) -> int:
    """Rows of the per-process queue: ViCC's ``moco_k`` rounded down to a multiple of the global batch,
    split over the processes. 0 = no queue."""
    if queue_len <= 0:
        return 0
    k = queue_len - queue_len % global_batch
    if k == 0:
        raise InputError(f"CONTRASTIVE.SWAV_QEUE_LEN={queue_len} is smaller than the global batch "
                         f"TRAIN.BATCH_SIZE={global_batch}: ViCC's queue holds whole batches")
    return k // world


def _build(cfg, cross: bool) -> ViCC:
    c, s = cfg.CONTRASTIVE, cfg.SSL
    stream = check_stream(s.COCLR_STREAM)
    if (stream == "flow" or cross) and not cfg.DATA.USE_FLOW:
        raise InputError(f"SSL.METHOD {s.METHOD} on SSL.COCLR_STREAM {stream} needs DATA.USE_FLOW True")
    return ViCC(
        build_ssl_backbone(cfg), c.T, embedding_dim(cfg), stream=stream,
        second=build_ssl_backbone(cfg) if cross else None, no_grad_view=s.VICC_NO_GRAD_VIEW,
        shuffle_bn="sync" not in cfg.BN.NORM_TYPE, shuffle_local=c.LOCAL_SHUFFLE_BN, num_shards=cfg.NUM_SHARDS,
        num_prototypes=s.SWAV_NUM_PROTOTYPES, eps=s.SWAV_EPSILON, sinkhorn_iters=s.SWAV_SINKHORN_ITERS,
        queue_len=vicc_queue_len(c.SWAV_QEUE_LEN, cfg.TRAIN.BATCH_SIZE, du.get_world_size()),
        queue_start_epoch=s.SWAV_QUEUE_START_EPOCH, freeze_prototypes_epochs=s.SWAV_FREEZE_PROTOTYPES_EPOCHS,
        align_epochs=s.VICC_ALIGN_EPOCHS,
    )


@register_method("vicc")
def build_vicc(cfg) -> ViCC:
    """ViCC single stream on SSL.COCLR_STREAM (SwAV's SSL.SWAV_* and CONTRASTIVE.SWAV_QEUE_LEN keys)."""
    return _build(cfg, cross=False)


@register_method("vicc_cross")
def build_vicc_cross(cfg) -> ViCC:
    """ViCC cross stream: SSL.COCLR_STREAM trained, the other stream's encoder frozen as ``second``."""
    return _build(cfg, cross=True)
