"""The method contract: every hook the one trainer calls, each with its default.

A method is an ``nn.Module`` that owns a backbone (from ``videossl.models``)
plus whatever it needs (heads, queues, momentum encoders).  The trainer, the
weights loader and the evaluators call only what is defined here, and never
branch on a method's name.  The batch is :class:`videossl.data.batch.Batch`.

Per training iteration the trainer calls::

    on_step_start(progress)                    # e.g. momentum update before the forward
    train_step(batch, backward, forward)       # forward + backward (clip by clip if the method wants)
    before_optimizer_step(progress) -> bool    # after AMP unscaling and clipping; False skips the step

Building the optimizer: :meth:`param_groups` (None = the trainer's default
groups) and :meth:`no_weight_decay_names`.  Initialising:
:meth:`init_from` with ``{role: path}`` loads each checkpoint into
:meth:`init_targets`'s module of that role (``TRAIN.CHECKPOINT_FILE_PATH``
is role :data:`DEFAULT_ROLE`; ``TRAIN.INIT_FROM`` names several roles, as
CoCLR/ViCC's ``--pretrain A B``); :meth:`checkpoint_layout` tells the weights
loader how the method's state is laid out.  Evaluating: :meth:`features`
(kNN, retrieval) and :meth:`predict` (multi-view testing).
"""

import dataclasses
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Set, Tuple

import torch
from torch import nn

from ..data.batch import Batch
from ..errors import InputError

#: The role of ``TRAIN.CHECKPOINT_FILE_PATH`` (the one checkpoint of a single-encoder method).
DEFAULT_ROLE = "model"


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


@dataclass(frozen=True)
class CheckpointLayout:
    """How a method's state dict is laid out, for the weights loader.

    Attributes:
        backbone: prefix of the encoder that evaluation tasks take from this
            method's checkpoints (PySlowFast's SSL convention ``backbone.``).
        momentum: prefixes of momentum copies (never trained directly); filled
            from :attr:`Method.MOMENTUM_PAIRS`.
        per_rank: buffers that differ per rank (saved once per rank).
        never_load: key fragments in the reference implementation's
            checkpoints of this method that are not weights (PySlowFast's kNN
            memory ``knn_mem.``); the loader drops them from any checkpoint.
    """

    backbone: str = "backbone."
    momentum: Tuple[str, ...] = ()
    per_rank: Tuple[str, ...] = ()
    never_load: Tuple[str, ...] = ()


#: ``backward(loss)``: scale (AMP) and backpropagate one (partial) loss.
Backward = Callable[[torch.Tensor], None]
#: ``forward(batch) -> dict``: the method's forward through the distributed wrapper.
Forward = Callable[[Batch], Dict[str, torch.Tensor]]
#: ``load(module, path, source_prefix=None, exclude=()) -> report``: load one checkpoint into one module
#: (videossl.engine.weights). ``source_prefix``: take the checkpoint's keys under this prefix (default: the
#: module's own place in the method), e.g. CoCLR's sampler from another run's ``backbone.``. ``exclude``: key
#: fragments not to load (e.g. ViCC's queue, which restarts).
Load = Callable[..., object]


class Method(nn.Module):
    """Base class: :meth:`forward` is abstract, every other hook has a working default."""

    #: Class-level layout (see :class:`CheckpointLayout`); override in subclasses.
    LAYOUT = CheckpointLayout()
    #: ``(online, momentum copy)`` submodule names, declared rather than wired by hand:
    #: :meth:`momentum_update` moves every copy towards its online module, and the
    #: checkpoint layout lists the copies.  The copies keep train mode (their BN
    #: statistics come from their own forwards, as in PySlowFast) but get no gradient.
    MOMENTUM_PAIRS: Tuple[Tuple[str, str], ...] = ()

    # ------------------------------------------------------------------ training
    def forward(self, batch: Batch) -> Dict[str, torch.Tensor]:  # pragma: no cover - abstract
        """A dict with a scalar ``"loss"`` and anything else worth logging (tensors are logged as floats)."""
        raise NotImplementedError

    def train_step(self, batch: Batch, backward: Backward, forward: Forward) -> Dict[str, torch.Tensor]:
        """One training iteration's forward and backward; returns the forward's dict.

        Default: ``out = forward(batch); backward(out["loss"])`` (``forward`` is
        the distributed wrapper, which averages gradients over ranks).  A
        method that backpropagates clip by clip (PySlowFast's
        ``CONTRASTIVE.SEQUENTIAL``) calls ``backward`` once per partial loss,
        bypasses the wrapper, and then averages its gradients itself
        (:func:`videossl.utils.distributed.all_reduce_grads`).
        """
        out = forward(batch)
        backward(out["loss"])
        return out

    def on_step_start(self, progress: Progress) -> None:
        """Called before each training forward (e.g. momentum-encoder update)."""

    def before_optimizer_step(self, progress: Progress) -> bool:
        """Called after backward, AMP unscaling and clipping; return False to skip the step."""
        return True

    @torch.no_grad()
    def momentum_update(self, m: float, copy: bool = False) -> None:
        """``θ_copy <- m θ_copy + (1 - m) θ_online`` for every pair of :attr:`MOMENTUM_PAIRS`
        (parameters only, matched by name); ``copy=True`` sets ``θ_copy <- θ_online``."""
        from .momentum import copy_params_, ema_update_

        for online, target in self.MOMENTUM_PAIRS:
            o, t = self.get_submodule(online), self.get_submodule(target)
            if copy:
                copy_params_(t, o)
            else:
                ema_update_(t, o, m)

    def frozen_modules(self) -> List[str]:
        """Submodules kept frozen: :meth:`train` leaves them in eval mode (a probed backbone,
        CoCLR's sampler, ViCC's second stream).  Their parameters' ``requires_grad`` is the
        builder's to clear."""
        return []

    def train(self, mode: bool = True):
        super().train(mode)
        for name in self.frozen_modules():
            self.get_submodule(name).train(False)
        return self

    # ------------------------------------------------------------------ optimizer
    def param_groups(self) -> Optional[List[Dict]]:
        """Optimizer param-group dicts; None = the trainer's default groups."""
        return None

    def no_weight_decay_names(self) -> Set[str]:
        """Parameter names (as in ``named_parameters()``) exempt from weight decay."""
        return set()

    # ------------------------------------------------------------------ evaluation
    def features(self, batch: Batch) -> torch.Tensor:
        """B x D features of ``batch["views"][0]`` (kNN, retrieval)."""
        raise NotImplementedError(f"{type(self).__name__} defines no features()")

    def predict(self, batch: Batch) -> torch.Tensor:
        """B x K class scores (before softmax) for multi-view testing."""
        raise NotImplementedError(f"{type(self).__name__} has no classifier")

    # ------------------------------------------------------------------ weights
    @property
    def pretrain_target(self) -> nn.Module:
        """The module a single initialisation or test checkpoint loads into (default: the method)."""
        return self

    def init_targets(self) -> Dict[str, nn.Module]:
        """Role -> module that a checkpoint of that role initialises."""
        return {DEFAULT_ROLE: self.pretrain_target}

    def init_from(self, checkpoints: Mapping[str, str], load: Load) -> Dict[str, object]:
        """Load ``{role: path}`` with ``load(module, path)``; returns ``{role: report}``.

        Raises ValueError naming a role this method does not have.
        """
        targets = self.init_targets()
        unknown = [r for r in checkpoints if r not in targets]
        if unknown:
            raise InputError(f"{type(self).__name__} has no initialisation role {unknown[0]!r}; "
                             f"its roles: {sorted(targets)}")
        return {role: load(targets[role], path) for role, path in checkpoints.items()}

    def adapt_state_dict(self, state: Dict[str, torch.Tensor], prefix: str = "") -> Dict[str, torch.Tensor]:
        """Adapt a checkpoint's tensors to this method before loading (e.g. resize position tables)."""
        return state

    @classmethod
    def checkpoint_layout(cls) -> CheckpointLayout:
        """This method's :class:`CheckpointLayout` (momentum copies from :attr:`MOMENTUM_PAIRS`)."""
        return dataclasses.replace(cls.LAYOUT, momentum=tuple(f"{t}." for _, t in cls.MOMENTUM_PAIRS))

    # ------------------------------------------------------------------ per-rank state
    def rank_state_dict(self) -> Dict[str, torch.Tensor]:
        """State that differs per rank (queues, ...), saved for every rank."""
        return {}

    def load_rank_state_dict(self, state: Dict[str, torch.Tensor]) -> None:
        """Inverse of :meth:`rank_state_dict`."""
