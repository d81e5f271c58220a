"""Preemption and Ctrl-C.

Inside the training loop a stop signal -- SIGTERM, SIGUSR1 (SLURM's
``--signal``), SIGUSR2 (submitit's) or SIGINT (Ctrl-C) -- makes every rank
checkpoint after the current step and exit with :data:`PREEMPTED` (143;
130 for SIGINT), so that a requeue script can tell a preempted run from a
failed one.  Outside the loop (building the model, testing) there is
nothing to save: :func:`exit_on_stop_signals` makes the process exit with the
same status at once.
"""

import contextlib
import os
import signal
import threading
from typing import Dict, Iterator, Optional

import torch

from ...utils import distributed as du
from ...utils.logging import get_logger
from .base import Hook

logger = get_logger("preemption")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2, signal.SIGINT)
PREEMPTED = 143  # 128 + SIGTERM: checkpoint written (or nothing to save), rerun the same command to resume
INTERRUPTED = 130  # 128 + SIGINT: the same after Ctrl-C

_received: list = []  # the stop signals this process received (a signal is process-wide state)


def received_signal() -> Optional[int]:
    """The last stop signal this process received while videossl handled them, or None."""
    return _received[-1] if _received else None


def exit_status(signum: Optional[int]) -> int:
    """The exit status after stop signal ``signum``: 130 for SIGINT, else 143."""
    return INTERRUPTED if signum == signal.SIGINT else PREEMPTED


class Preempted(SystemExit):
    """Raised when a stop signal ends the run (after a checkpoint inside the training loop);
    ``code`` is :func:`exit_status` of the signal."""


def _install(handler) -> Dict[int, object]:
    """Set ``handler`` for every stop signal (main thread only); returns the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}


def _restore(previous: Dict[int, object]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


@contextlib.contextmanager
def exit_on_stop_signals() -> Iterator[None]:
    """Within the block, a stop signal raises :class:`Preempted` at once (the training loop's
    :class:`Preemption` hook takes over while it runs).  A forked child (a DataLoader worker)
    ignores the signal: its parent shuts it down."""
    owner = os.getpid()

    def handler(signum, frame):
        if os.getpid() != owner:
            return
        _received.append(signum)
        logger.warning("signal %s outside the training loop: nothing to save, exiting with %d",
                       signal.Signals(signum).name, exit_status(signum))
        raise Preempted(exit_status(signum))

    previous = _install(handler)
    try:
        yield
    finally:
        _restore(previous)


class Preemption(Hook):
    """Catches the stop signals while training; after each step, the ranks agree (all-reduce)
    whether any rank got one.

    When they do, the checkpointer writes a checkpoint that resumes right
    after this step and :class:`Preempted` is raised (exit status 130 when this
    rank got SIGINT, else 143).  The previous handlers are restored after training.
    """

    name = "preemption"

    def __init__(self):
        self.requested = False
        self.signum: Optional[int] = None
        self._previous: Dict[int, object] = {}

    def _handler(self, signum, frame) -> None:
        _received.append(signum)
        self.requested = True
        self.signum = signum

    def before_train(self, trainer) -> None:
        self._previous = _install(self._handler)

    def after_train(self, trainer) -> None:
        _restore(self._previous)
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
        code = exit_status(self.signum)
        logger.info("signal %s: checkpoint %s written, exiting with %d", self.signum, path, code)
        raise Preempted(code)
