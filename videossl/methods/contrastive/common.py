"""What MoCo, BYOL, SimCLR and SwAV share: the projected backbone, ρ clips, SEQUENTIAL, momentum keys.

Module and buffer names follow PySlowFast's ``ContrastiveModel`` so its
checkpoints load unchanged: the online network is ``backbone`` (a backbone
with its ``head.projection[.projection.N]`` MLP and, for BYOL,
``head.predictors.0.projection.N``), the momentum copy is ``backbone_hist``,
and the buffers are ``ptr``, ``queue_x`` and ``iter``.  PySlowFast's online
kNN memory (``knn_mem.memory``) is not kept: the trainer's kNN evaluator
extracts features instead.

Clips: ``batch["views"]`` holds ρ x crops tensors (B x C x T x H x W); every
entry is one clip, as PySlowFast's ``num_crops = TRAIN_CROP_NUM_TEMPORAL x
TRAIN_CROP_NUM_SPATIAL``.  At least two are needed.
"""

import copy
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import InputError
from ...models import HeadSpec, build_model
from ...utils import distributed as du
from ...utils.logging import get_logger
from ..base import Backward, CheckpointLayout, Forward, Method, Progress
from ..momentum import cosine_momentum
from ..queue import enqueue_, init_queue
from ..shuffle_bn import batch_shuffle, batch_unshuffle, shuffle_group

logger = get_logger("contrastive")

# PySlowFast computes the keys of all clips in one forward unless the input
# exceeds this many elements (its "hack to avoid oom on large inputs").
BATCHED_KEYS_MAX_NUMEL = 4 * 64 * 3 * 8 * 224 * 224


def embedding_dim(cfg) -> int:
    """CONTRASTIVE.DIM, checked against MODEL.NUM_CLASSES.

    PySlowFast builds the projection with ``MODEL.NUM_CLASSES`` outputs and
    sizes its queue with ``CONTRASTIVE.DIM``, so the two must agree.  Here the
    projection width is ``CONTRASTIVE.DIM``; a config whose ``NUM_CLASSES``
    was changed from its default to another value is refused.  ``NUM_CLASSES``
    left at its default (400) is taken as unset.
    """
    from ...config.defaults import get_cfg

    dim = cfg.CONTRASTIVE.DIM
    default = get_cfg().MODEL.NUM_CLASSES
    if cfg.MODEL.NUM_CLASSES not in (dim, default):
        raise InputError(
            f"MODEL.NUM_CLASSES={cfg.MODEL.NUM_CLASSES} contradicts CONTRASTIVE.DIM={dim}: "
            "for SSL pretraining PySlowFast uses NUM_CLASSES as the projection width and "
            "requires NUM_CLASSES == CONTRASTIVE.DIM; set both to the embedding size"
        )
    if cfg.MODEL.NUM_CLASSES != dim:
        logger.info("SSL projection width CONTRASTIVE.DIM=%d (MODEL.NUM_CLASSES=%d left at "
                    "its default is ignored)", dim, cfg.MODEL.NUM_CLASSES)
    return dim


def ssl_head_spec(cfg, predictor_depths: Sequence[int] = ()) -> HeadSpec:
    """Projection MLP (and predictors) per CONTRASTIVE.{DIM, NUM_MLP_LAYERS, MLP_DIM, BN_MLP, BN_SYNC_MLP}."""
    return HeadSpec(
        num_classes=embedding_dim(cfg),
        dropout=cfg.MODEL.DROPOUT_RATE,
        num_mlp_layers=cfg.CONTRASTIVE.NUM_MLP_LAYERS,
        mlp_dim=cfg.CONTRASTIVE.MLP_DIM,
        bn_mlp=cfg.CONTRASTIVE.BN_MLP,
        sync_bn_mlp=cfg.CONTRASTIVE.BN_SYNC_MLP,
        predictor_depths=tuple(predictor_depths),
        init_std=cfg.MODEL.FC_INIT_STD,
    )


def build_ssl_backbone(cfg, predictor_depths: Sequence[int] = (), **overrides) -> nn.Module:
    """``MODEL.ARCH`` backbone (sync BN per BN.NORM_TYPE, constructor ``overrides`` such as
    ``in_channels=2``) with the SSL projection head."""
    return build_model(cfg, ssl_head_spec(cfg, predictor_depths), **overrides)


def split_head_output(out) -> Tuple[torch.Tensor, List[torch.Tensor]]:
    """An SSL backbone's output as ``(projection, [predictor outputs])`` (BYOL's head returns a list)."""
    if isinstance(out, (list, tuple)):
        return out[0], list(out[1:])
    return out, []


class ContrastiveMethod(Method):
    """Base of the ρ-clip SSL methods.

    Args:
        backbone: network with ``forward_features`` and an SSL ``head``
            (``build_ssl_backbone``); ``backbone(x)`` returns B x DIM, or
            ``[proj, pred_0, ...]`` when the head has predictors.
        T: temperature (``CONTRASTIVE.T``).
        sequential: PySlowFast's ``CONTRASTIVE.SEQUENTIAL``: one backward per
            query clip through :meth:`train_step` (gradients summed over
            clips; the logged loss is the sum of the clip losses / 2ρ).
    """

    #: PySlowFast's ContrastiveModel checkpoints hold an online kNN memory (``knn_mem.*``), not weights.
    LAYOUT = CheckpointLayout(never_load=("knn_mem.",))

    def __init__(self, backbone: nn.Module, T: float, sequential: bool = False):
        super().__init__()
        self.backbone = backbone
        self.T = T
        self.sequential = sequential

    # ------------------------------------------------------------ helpers
    @staticmethod
    def clips(batch: Dict) -> List[torch.Tensor]:
        views = list(batch["views"])
        if len(views) < 2:
            raise InputError(
                f"contrastive methods need at least 2 clips per video, got {len(views)}: set "
                "DATA.TRAIN_CROP_NUM_TEMPORAL (rho) >= 2 (or DATA.TRAIN_CROP_NUM_SPATIAL >= 2)"
            )
        return views

    def project(self, x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """Clip B x C x T x H x W -> (normalised projection B x DIM, normalised predictor outputs)."""
        proj, preds = split_head_output(self.backbone(x))
        return F.normalize(proj, dim=1), [F.normalize(p, dim=1) for p in preds]

    # ------------------------------------------------------------ evaluation
    def features(self, batch: Dict) -> torch.Tensor:
        """B x feature_dim pooled backbone features of ``views[0]`` (linear probe, retrieval)."""
        return self.backbone.forward_features(batch["views"][0])

    def embedding(self, batch: Dict) -> torch.Tensor:
        """B x DIM normalised projection of ``views[0]`` (PySlowFast's kNN embedding)."""
        return self.project(batch["views"][0])[0]

    # ------------------------------------------------------------ training
    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def sequential_losses(self, clips: List[torch.Tensor]):
        """Yield one partial loss per query clip (or clip pair); see train_step."""
        raise NotImplementedError

    def after_sequential(self) -> None:
        """Called once after all partial backward passes of a SEQUENTIAL step."""

    def train_step(self, batch: Dict, backward: Backward, forward: Forward) -> Dict[str, torch.Tensor]:
        """With SEQUENTIAL, PySlowFast's ``contrastive_forward``: one backward per partial loss.

        The partial losses are computed outside the distributed wrapper, so
        the gradients are averaged over ranks here.  Returns ``{"loss": Σ_k
        loss_k / (2ρ)}`` (detached), PySlowFast's logged value.  Without
        SEQUENTIAL: the default forward + backward.
        """
        if not self.sequential:
            return super().train_step(batch, backward, forward)
        clips = self.clips(batch)
        total = None
        for loss_k in self.sequential_losses(clips):
            backward(loss_k)
            total = loss_k.detach() if total is None else total + loss_k.detach()
        self.after_sequential()
        du.all_reduce_grads(self)
        return {"loss": total / (2.0 * len(clips))}


class MomentumMethod(ContrastiveMethod):
    """A ContrastiveMethod with PySlowFast's momentum key encoder ``backbone_hist``.

    Buffers ``ptr`` (LongTensor[1]), ``queue_x`` (QUEUE_LEN x DIM, uniform in
    ±1/sqrt(DIM/3)) and ``iter`` (LongTensor[1], steps taken) are registered
    in PySlowFast's order; BYOL keeps the (unused) queue so both checkpoints
    have PySlowFast's keys.

    :meth:`on_step_start` sets the momentum (cosine-annealed to 1 over
    ``max_epoch`` when ``momentum_annealing``), copies the online parameters
    into ``backbone_hist`` on the very first step (``iter == 0``), then applies
    ``θ_hist <- m θ_hist + (1 - m) θ`` to parameters only and increments
    ``iter``, i.e. before the keys of the step are computed.

    Args (besides ContrastiveMethod's):
        momentum: CONTRASTIVE.MOMENTUM (m0).
        momentum_annealing: CONTRASTIVE.MOMENTUM_ANNEALING.
        queue_len, dim: queue shape.
        shuffle_bn: shuffle keys across the processes of ``shuffle_local``'s
            group before the key encoder (MoCo with per-process BN).
        shuffle_local, num_shards: shuffle within a machine (LOCAL_SHUFFLE_BN).
    """

    LAYOUT = CheckpointLayout(per_rank=("queue_x", "ptr"), never_load=("knn_mem.",))
    MOMENTUM_PAIRS = (("backbone", "backbone_hist"),)

    def __init__(self, backbone: nn.Module, T: float, sequential: bool, momentum: float,
                 momentum_annealing: bool, queue_len: int, dim: int, shuffle_bn: bool = False,
                 shuffle_local: bool = True, num_shards: int = 1):
        super().__init__(backbone, T, sequential)
        self.register_buffer("ptr", torch.tensor([0]))
        self.register_buffer("queue_x", init_queue(queue_len, dim))
        self.register_buffer("iter", torch.zeros([1], dtype=torch.long))
        self.backbone_hist = copy.deepcopy(backbone)
        for p in self.backbone_hist.parameters():
            p.requires_grad_(False)
        self.momentum0 = momentum
        self.mmt = momentum
        self.momentum_annealing = momentum_annealing
        self.shuffle_bn = shuffle_bn
        self.shuffle_local = shuffle_local
        self.num_shards = num_shards

    def on_step_start(self, progress: Progress) -> None:
        if self.momentum_annealing:
            self.mmt = cosine_momentum(self.momentum0, progress.epoch_exact, progress.max_epoch)
        self.momentum_step()

    @torch.no_grad()
    def momentum_step(self) -> None:
        """One EMA step of ``backbone_hist`` with the current momentum ``self.mmt`` (a copy first, at iter 0)."""
        if int(self.iter[0]) == 0:
            self.momentum_update(self.mmt, copy=True)
        self.momentum_update(self.mmt)
        self.iter += 1

    @torch.no_grad()
    def compute_keys(self, clips: Sequence[torch.Tensor], batched: bool) -> List[torch.Tensor]:
        """Normalised momentum-encoder projections, one B x DIM tensor per clip.

        ``batched``: encode all clips in one forward (PySlowFast's
        non-SEQUENTIAL path; BN statistics over all key clips), else one
        forward per clip (SEQUENTIAL with ρ >= 2).  With ``shuffle_bn`` each
        forward's batch is shuffled across processes first.
        """
        clips = list(clips)
        if not clips:
            return []
        b = clips[0].shape[0]
        same = all(c.shape == clips[0].shape for c in clips)
        numel = sum(c.numel() for c in clips)
        if batched and len(clips) > 1 and same and numel <= BATCHED_KEYS_MAX_NUMEL:
            groups = [torch.cat(clips, dim=0)]
        else:
            groups, batched = clips, False
        group = shuffle_group(self.shuffle_local, self.num_shards) if self.shuffle_bn else None
        keys = []
        for x in groups:
            restore = None
            if self.shuffle_bn:
                x, restore = batch_shuffle(x, group)
            proj, _ = split_head_output(self.backbone_hist(x))
            k = F.normalize(proj, dim=1)
            if self.shuffle_bn:
                k = batch_unshuffle(k, restore, group)
            keys.append(k.detach())
        if batched:
            keys = list(keys[0].split(b, dim=0))
        return keys

    def rank_state_dict(self) -> Dict[str, torch.Tensor]:
        return {"queue_x": self.queue_x.detach().clone(), "ptr": self.ptr.detach().clone()}

    def load_rank_state_dict(self, state: Dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            if "queue_x" in state:
                self.queue_x.copy_(state["queue_x"])
            if "ptr" in state:
                self.ptr.copy_(state["ptr"])

    def enqueue(self, keys: Sequence[torch.Tensor], gather: bool = False) -> None:
        """Write each of ``keys`` (B x DIM) into ``queue_x`` in order; ``gather``: all ranks' keys."""
        for k in keys:
            if gather:
                k = du.all_gather_no_grad(k.contiguous())
            enqueue_(self.queue_x, self.ptr, k)


def broadcast_buffer_(t: torch.Tensor, src: int = 0) -> None:
    """Overwrite ``t`` with rank ``src``'s value on every rank (no-op with one process)."""
    if du.is_dist() and du.get_world_size() > 1:
        torch.distributed.broadcast(t, src=src)


__all__ = [
    "ContrastiveMethod", "MomentumMethod", "build_ssl_backbone", "ssl_head_spec", "embedding_dim",
    "broadcast_buffer_",
]
