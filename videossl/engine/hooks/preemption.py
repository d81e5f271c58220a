"""Preemption: SIGTERM / SIGUSR1 (SLURM) -> checkpoint after the current step, then exit 143 for requeue."""

import signal
import threading
from typing import Optional

import torch

from ...utils import distributed as du
from ...utils.logging import get_logger
from .base import Hook

logger = get_logger("preemption")


class Preempted(SystemExit):
    """Raised after a checkpoint was written because SIGTERM/SIGUSR1 arrived (SLURM preemption)."""


class Preemption(Hook):
    """Catches the signals; after each step, the ranks agree (all-reduce) whether any rank got one.

    When they do, the checkpointer writes a checkpoint that resumes right
    after this step and :class:`Preempted` (exit code 143) is raised.
    """

    name = "preemption"

    def __init__(self):
        self.requested = False
        self._previous = {}

    def _handler(self, signum, frame) -> None:
        self.requested = True

    def before_train(self, trainer) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGUSR1):
                self._previous[sig] = signal.signal(sig, self._handler)

    def after_train(self, trainer) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def agreed(self, device: torch.device) -> bool:
        """True when any rank received a signal (every rank gets the same answer)."""
        return du.any_rank(self.requested, device)

    def after_step(self, trainer) -> None:
        if not self.agreed(trainer.device):
            return
        done = trainer.iter + 1
        if done < trainer.iters_this_epoch:
            path: Optional[str] = trainer.checkpointer.save(trainer, trainer.epoch, done)
        else:
            path = trainer.checkpointer.save(trainer, trainer.epoch + 1, 0)
        logger.info("preemption signal: checkpoint %s written, exiting for requeue", path)
        raise Preempted(143)
