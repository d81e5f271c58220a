"""Hooks of the training loop: everything around a step, each with its own resumable state."""

from .base import Hook
from .checkpoint import Checkpointer
from .data_health import DataHealth, peak_memory_mb, too_many_failed
from .evaluation import PeriodicEval
from .logging import TrainLogger
from .loss_guard import LossGuard, NonFiniteLossError
from .precise_bn import PreciseBN
from .preemption import Preempted, Preemption

__all__ = ["Hook", "Checkpointer", "DataHealth", "PeriodicEval", "TrainLogger", "LossGuard",
           "NonFiniteLossError", "PreciseBN", "Preempted", "Preemption", "peak_memory_mb", "too_many_failed"]
