"""The method contract: what the one trainer calls, and nothing more.

A method is an ``nn.Module`` that owns a backbone (from ``videossl.models``)
plus whatever it needs (heads, queues, momentum encoders).  The trainer never
branches on a method's name; it calls only what is defined here.

Batch contract (what every dataset yields after collation; see
``videossl/data/__init__.py``)::

    batch["views"]     list of tensors, each B x C x T x H x W (rho clips x crops)
    batch["label"]     LongTensor[B]
    batch["index"]     LongTensor[B]  dataset row of the video (kNN, retrieval, queues)
    batch["source_id"] LongTensor[B]  videos cut from one source share an id
    batch["meta"]      dict of LongTensor[B]: "video_idx", "clip_idx", "crop_idx"
    batch["flow"]      optional, list like "views" (flow[i] shares frames/augmentation with views[i])
    batch["num_failed"] LongTensor[B]  videos that failed to decode before this sample succeeded
"""

from dataclasses import dataclass
from typing import Callable, Dict, Optional

import torch
from torch import nn


@dataclass(frozen=True)
class Progress:
    """Where training stands when a hook is called."""

    epoch: int  # 0-based epoch
    iter_in_epoch: int  # 0-based iteration inside the epoch
    global_iter: int  # 0-based iteration since the start of training
    iters_per_epoch: int
    max_epoch: int

    @property
    def epoch_exact(self) -> float:
        """Fractional epoch, as PySlowFast's ``cur_epoch + cur_iter / data_size``."""
        return self.epoch + self.iter_in_epoch / max(self.iters_per_epoch, 1)


class Method(nn.Module):
    """Base class with the optional hooks as no-ops.

    Subclasses implement :meth:`forward` (returns a dict with a scalar
    ``"loss"`` and anything else worth logging; tensors are logged as floats)
    and :meth:`features` (for kNN / retrieval / linear evaluation).
    """

    #: Set to a callable ``train_step(batch, backward) -> dict`` by methods
    #: that backpropagate clip by clip (PySlowFast's CONTRASTIVE.SEQUENTIAL).
    #: ``backward(loss)`` scales (AMP) and backpropagates one partial loss;
    #: gradients of several calls are summed.
    train_step: Optional[Callable] = None

    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def features(self, batch: Dict) -> torch.Tensor:
        """B x D features of ``batch["views"][0]`` for evaluation."""
        raise NotImplementedError

    def predict(self, batch: Dict) -> torch.Tensor:
        """B x K class scores (before softmax) for multi-view testing."""
        raise NotImplementedError(f"{type(self).__name__} has no classifier")

    def on_step_start(self, progress: Progress) -> None:
        """Called before each training forward (e.g. momentum-encoder update)."""

    def before_optimizer_step(self, progress: Progress) -> bool:
        """Called after backward and AMP unscaling; return False to skip the step."""
        return True

    def param_groups(self):
        """Optional list of optimizer param-group dicts; None = trainer's default groups."""
        return None

    def init_from(self, checkpoints: Dict[str, str]) -> None:
        """Initialise from several checkpoints by role (CoCLR/ViCC); default: unsupported."""
        raise NotImplementedError(f"{type(self).__name__} takes no multi-checkpoint init")

    def rank_state_dict(self) -> Dict[str, torch.Tensor]:
        """State that differs per rank (queues, ...), saved for every rank."""
        return {}

    def load_rank_state_dict(self, state: Dict[str, torch.Tensor]) -> None:
        """Inverse of :meth:`rank_state_dict`."""
