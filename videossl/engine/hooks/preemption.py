"""Preemption and Ctrl-C: SIGTERM / SIGUSR1 (SLURM) or SIGINT -> checkpoint after the current step, then exit
143 (130 for SIGINT) so that a requeue script can tell a preempted run from a failed one."""

import signal
import threading
from typing import Optional

import torch

from ...utils import distributed as du
from ...utils.logging import get_logger
from .base import Hook

logger = get_logger("preemption")


class Preempted(SystemExit):
    """Raised after a checkpoint was written because a signal arrived: code 143 for SIGTERM/SIGUSR1
    (SLURM preemption), 130 for SIGINT (Ctrl-C)."""


class Preemption(Hook):
    """Catches SIGTERM, SIGUSR1 and SIGINT while training; after each step, the ranks agree (all-reduce)
    whether any rank got one.

    When they do, the checkpointer writes a checkpoint that resumes right
    after this step and :class:`Preempted` is raised (exit code 130 when this
    rank got SIGINT, else 143).  The previous handlers are restored after training.
    """

    name = "preemption"

    def __init__(self):
        self.requested = False
        self.signum: Optional[int] = None
        self._previous = {}

    def _handler(self, signum, frame) -> None:
        self.requested = True
        self.signum = signum

    def before_train(self, trainer) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT):
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
        code = 130 if self.signum == signal.SIGINT else 143
        logger.info("signal %s: checkpoint %s written, exiting with %d", self.signum, path, code)
        raise Preempted(code)
