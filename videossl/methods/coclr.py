"""CoCLR's methods (Han, Xie and Zisserman, NeurIPS 2020): InfoNCE, UberNCE and CoCLR co-training.

All three train one stream, RGB (``batch["views"]``) or optical flow
(``batch["flow"]``, ``SSL.COCLR_STREAM``), with clip 0 as the query and
clip 1 as the key. On top of MoCo they have one key clip, a global queue
(keys all-gathered, as CoCLR's ``concat_all_gather``), shuffle BN, momentum
0.999 and temperature 0.07 (the builder's defaults come from the config).

* **InfoNCE**: ``[q·k | q·queueᵀ] / T``, cross-entropy with target 0.
* **UberNCE** (the supervised upper bound): the queue also stores labels;
  every key with the query's label is a positive; the loss is the mean
  log-probability of the positives (:func:`~videossl.methods.multi_positive.ubernce_loss`).
* **CoCLR**: a frozen ``sampler`` encodes the *other* stream of the key
  clip. Its embedding ``kf`` and the queue of past ``kf`` (``queue_second``)
  mine positives: once the queue is full, the ``SSL.COCLR_TOPK`` entries most
  similar to ``kf`` are positives, besides the key itself and the keys of
  the same source video (``source_id``, UCF101's ``v_X_gYY``). The loss is
  :func:`~videossl.methods.multi_positive.multi_positive_nce`, and with
  probability ``SSL.COCLR_DROP_SELF_P`` a step drops the self column from
  the numerator of rows with another positive. No optimizer step is taken
  before the queue is full.

Initialisation (CoCLR's ``--pretrain A B``): ``TRAIN.INIT_FROM
"['query=A', 'sampler=B']"``. A's online encoder initialises the trained
encoder (and so its momentum copy); B's online encoder (``backbone.*``)
becomes ``sampler``. Queues always restart.

Deviations from the reference:

* The queue starts uniform in ±1/sqrt(dim/3) (PySlowFast's init), not
  Gaussian normalised; InfoNCE takes no step-skipping either way.
* The self-positive drop draws from a generator seeded by
  ``(RNG_SEED, iteration)`` (resumable), not Python's ``random``.
* The momentum update uses PySlowFast's order (copy at the first step, then
  EMA before every key forward), which is CoCLR's order.
"""

from typing import Dict, List, Mapping, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..utils import distributed as du
from .base import Load, Progress
from .contrastive import build_ssl_backbone, embedding_dim
from .losses import moco_logits
from .moco import MoCo
from .multi_positive import drop_self_positive, multi_positive_nce, topk_positives, ubernce_loss
from .queue import enqueue_
from .registry import register_method
from .streams import STREAMS, check_stream, other_stream, stream_clips

class InfoNCE(MoCo):
    """CoCLR's InfoNCE (``ubernce=False``) or UberNCE on one stream.

    Args (besides MoCo's, with ``sequential=False`` and ``global_queue=True``):
        stream: "rgb" or "flow", the batch field trained on.
        ubernce: labels as positives (keeps a ``queue_label`` buffer).
    """

    def __init__(self, *args, stream: str = "rgb", ubernce: bool = False, **kwargs):
        kwargs.setdefault("global_queue", True)
        super().__init__(*args, **kwargs)
        self.stream = check_stream(stream)
        self.ubernce = ubernce
        if ubernce:
            self.register_buffer("queue_label", torch.full((self.queue_x.shape[0],), -1, dtype=torch.long))

    # ------------------------------------------------------------ inputs
    def stream_clips(self, batch: Dict, stream: Optional[str] = None) -> List[torch.Tensor]:
        """The two clips (query, key) of ``stream`` (default: the trained one)."""
        return stream_clips(batch, stream or self.stream, type(self).__name__)

    def clips(self, batch: Dict) -> List[torch.Tensor]:
        return self.stream_clips(batch)

    def features(self, batch: Dict) -> torch.Tensor:
        """B x feature_dim pooled features of the trained stream's first clip."""
        return self.backbone.forward_features(batch[STREAMS[self.stream]][0])

    def embedding(self, batch: Dict) -> torch.Tensor:
        return self.project(batch[STREAMS[self.stream]][0])[0]

    # ------------------------------------------------------------ training
    def _query_and_key(self, clips):
        q, _ = self.project(clips[0])
        (k,) = self.compute_keys(clips[1:2], batched=True)
        return q, k, moco_logits(q, [k], self.queue_x.clone(), self.T)

    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:
        q, k, logits = self._query_and_key(self.clips(batch))
        positives = torch.zeros_like(logits, dtype=torch.bool)
        positives[:, 0] = True
        if self.ubernce:
            positives[:, 1:] = batch["label"][:, None] == self.queue_label[None, :]
            loss = ubernce_loss(logits, positives)
        else:
            loss = F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))
        if self.training:
            labels = batch["label"] if self.ubernce else None
            self._enqueue(k, label=labels)
        return {"loss": loss}

    @torch.no_grad()
    def _enqueue(self, k: torch.Tensor, **columns: Optional[torch.Tensor]) -> None:
        """Enqueue the global batch of keys, and the named per-key columns into ``queue_<name>``."""
        ptr = self.ptr.clone()
        enqueue_(self.queue_x, self.ptr, du.all_gather_no_grad(k.contiguous()))
        for name, values in columns.items():
            if values is None:
                continue
            values = du.all_gather_no_grad(values.contiguous())
            queue = getattr(self, f"queue_{name}")
            at = ptr.clone()
            enqueue_(queue, at, values)

    def before_optimizer_step(self, progress: Progress) -> bool:
        return True  # CoCLR's InfoNCE steps from the first iteration


class CoCLR(InfoNCE):
    """CoCLR co-training: the trained stream's encoder, a frozen ``sampler`` of the other stream.

    Args (besides InfoNCE's):
        sampler: the other stream's projected encoder (same architecture as ``backbone``), frozen.
        topk: positives mined per query from ``queue_second`` once the queue is full (CoCLR: 5).
        drop_self_p: probability per step of dropping the self-positive (CoCLR: 0.9).
        seed: seeds the self-positive draw together with the step.
    """

    def __init__(self, *args, sampler: nn.Module, topk: int = 5, drop_self_p: float = 0.9, seed: int = 0,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.sampler = sampler
        for p in self.sampler.parameters():
            p.requires_grad_(False)
        K, dim = self.queue_x.shape
        self.register_buffer("queue_second", F.normalize(torch.randn(K, dim), dim=1))
        self.register_buffer("queue_vname", torch.full((K,), -1, dtype=torch.long))
        self.register_buffer("queue_label", torch.full((K,), -1, dtype=torch.long))  # -1 until written once
        self.topk = topk
        self.drop_self_p = drop_self_p
        self.seed = seed
        self._stepping = True

    @property
    def other_stream(self) -> str:
        return other_stream(self.stream)

    def frozen_modules(self) -> List[str]:
        return ["sampler"]

    def init_targets(self) -> Dict[str, nn.Module]:
        return {"query": self.backbone, "sampler": self.sampler}

    def init_from(self, checkpoints: Mapping[str, str], load: Load) -> Dict[str, object]:
        """``query``: A's online encoder into ``backbone`` (the momentum copy follows at the first
        step); ``sampler``: B's online encoder (``backbone.*``) into ``sampler``. Queues are not loaded."""
        targets = self.init_targets()
        unknown = [r for r in checkpoints if r not in targets]
        if unknown:
            raise InputError(f"CoCLR has no initialisation role {unknown[0]!r}; its roles: {sorted(targets)}")
        return {role: load(targets[role], path, **({"source_prefix": "backbone."} if role == "sampler" else {}))
                for role, path in checkpoints.items()}

    def on_step_start(self, progress: Progress) -> None:
        super().on_step_start(progress)
        self._progress = progress

    def queue_is_full(self) -> bool:
        return bool((self.queue_label != -1).all())

    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:
        clips = self.clips(batch)
        other = self.stream_clips(batch, self.other_stream)
        q, k, logits = self._query_and_key(clips)
        with torch.no_grad():
            kf = F.normalize(self.sampler(other[1]), dim=1)
        source = batch["source_id"]
        same_source = source[:, None] == self.queue_vname[None, :]
        full = self.queue_is_full()
        mined = topk_positives(kf, self.queue_second, same_source, self.topk) if full else torch.zeros_like(
            same_source)
        positives = torch.cat([torch.ones_like(source[:, None], dtype=torch.bool), same_source | mined], dim=1)
        used = positives
        if self.training and self._drop_self():
            used = drop_self_positive(positives)
        loss = multi_positive_nce(logits, used)
        out = {"loss": loss, "mined_positives": mined.sum(1).float().mean()}
        if self.training:
            self._stepping = full
            self._enqueue(k, second=kf, vname=source, label=torch.ones_like(source))
        return out

    def _drop_self(self) -> bool:
        step = int(self._progress.global_iter) if getattr(self, "_progress", None) else 0
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        return float(torch.rand((), generator=g)) < self.drop_self_p

    @torch.no_grad()
    def _enqueue(self, k: torch.Tensor, **columns: Optional[torch.Tensor]) -> None:
        second = columns.pop("second", None)
        ptr = self.ptr.clone()
        super()._enqueue(k, **columns)
        if second is not None:
            enqueue_(self.queue_second, ptr, du.all_gather_no_grad(second.contiguous()))

    def before_optimizer_step(self, progress: Progress) -> bool:
        """No step while the queue was not yet full at this step's forward (CoCLR)."""
        return self._stepping


def _common(cfg, **overrides) -> dict:
    c = cfg.CONTRASTIVE
    stream = cfg.SSL.COCLR_STREAM
    if stream == "flow" or cfg.SSL.METHOD == "coclr":
        if not cfg.DATA.USE_FLOW:
            raise InputError(f"SSL.METHOD {cfg.SSL.METHOD} on SSL.COCLR_STREAM {stream} needs DATA.USE_FLOW True")
    return dict(shuffle_bn="sync" not in cfg.BN.NORM_TYPE, shuffle_local=c.LOCAL_SHUFFLE_BN,
                num_shards=cfg.NUM_SHARDS, stream=stream, **overrides)


def _encoder(cfg, stream: str) -> nn.Module:
    """The projected encoder of ``stream``. Flow arrives as CoCLR feeds it, a 3-channel image
    ``(128, y, x)`` normalised like RGB, so both streams have the same architecture."""
    return build_ssl_backbone(cfg)


def _infonce(cfg, ubernce: bool) -> InfoNCE:
    c = cfg.CONTRASTIVE
    return InfoNCE(_encoder(cfg, cfg.SSL.COCLR_STREAM), c.T, False, c.MOMENTUM, c.MOMENTUM_ANNEALING,
                   c.QUEUE_LEN, embedding_dim(cfg), **_common(cfg, ubernce=ubernce))


@register_method("infonce")
def build_infonce(cfg) -> InfoNCE:
    """CoCLR's InfoNCE on SSL.COCLR_STREAM (CONTRASTIVE.T / MOMENTUM / QUEUE_LEN)."""
    return _infonce(cfg, ubernce=False)


@register_method("ubernce")
def build_ubernce(cfg) -> InfoNCE:
    """CoCLR's UberNCE: labels as positives."""
    return _infonce(cfg, ubernce=True)


@register_method("coclr")
def build_coclr(cfg) -> CoCLR:
    """CoCLR co-training of SSL.COCLR_STREAM with the other stream as a frozen sampler."""
    c = cfg.CONTRASTIVE
    stream = cfg.SSL.COCLR_STREAM
    other = other_stream(stream)
    return CoCLR(_encoder(cfg, stream), c.T, False, c.MOMENTUM, c.MOMENTUM_ANNEALING, c.QUEUE_LEN,
                 embedding_dim(cfg), sampler=_encoder(cfg, other), topk=cfg.SSL.COCLR_TOPK,
                 drop_self_p=cfg.SSL.COCLR_DROP_SELF_P, seed=cfg.RNG_SEED, **_common(cfg))
