"""Process launching: one process, torchrun / submitit (env://), or PySlowFast-style spawn.

* Launched by ``torchrun`` or :mod:`tools.submit` (``RANK``/``WORLD_SIZE``
  set): join that group.
* ``NUM_GPUS > 1`` or ``NUM_SHARDS > 1``: spawn ``NUM_GPUS`` processes on this
  machine, global rank ``SHARD_ID * NUM_GPUS + local_rank``, world size
  ``NUM_GPUS * NUM_SHARDS``, rendezvous at ``--init_method`` (PySlowFast).  On a
  machine without CUDA the "GPUs" are CPU processes on gloo.
* Otherwise: a single process, no process group.

The backend is ``cfg.DIST_BACKEND`` (NCCL) when CUDA is available, gloo otherwise.

Signals: the spawning process forwards SIGTERM, SIGUSR1, SIGUSR2 and SIGINT
to every rank and waits for them.  The ranks agree, checkpoint and exit 143
(130 for SIGINT; see :mod:`~videossl.engine.hooks.preemption`); the launcher
then exits with that status.  A rank whose launcher dies gets SIGTERM
(Linux), so no rank outlives it.
"""

import ctypes
import logging
import os
import signal
import sys
import threading
from typing import Callable

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.multiprocessing.spawn import ProcessExitedException

from .hooks.preemption import INTERRUPTED, PREEMPTED, STOP_SIGNALS, Preempted

logger = logging.getLogger("videossl.launch")

# Seconds the other ranks get to finish their own shutdown after one rank exits (checkpoint barrier passed).
SHUTDOWN_GRACE_S = 60.0


def _backend(cfg) -> str:
    return cfg.DIST_BACKEND if torch.cuda.is_available() else "gloo"


def _shutdown() -> None:
    from ..methods.shuffle_bn import forget_groups

    dist.destroy_process_group()
    forget_groups()


def _die_with_parent() -> None:
    """Linux: have the kernel send this process SIGTERM when its parent (the launcher) dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run(local_rank: int, cfg, fn: Callable, init_method: str, world_size: int):
    _die_with_parent()
    rank = cfg.SHARD_ID * cfg.NUM_GPUS + local_rank
    os.environ["LOCAL_RANK"] = str(local_rank)
    dist.init_process_group(_backend(cfg), init_method=init_method, world_size=world_size, rank=rank)
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    try:
        fn(cfg)
    finally:
        _shutdown()


def spawn_and_wait(fn: Callable, args: tuple, nprocs: int) -> None:
    """``mp.spawn(fn, args, nprocs)`` that forwards stop signals to the ranks.

    Returns when every rank exited 0.  Raises :class:`Preempted` with the
    ranks' status (143, or 130 after SIGINT) when they stopped on a signal;
    any other failure raises torch's ``ProcessRaisedException`` /
    ``ProcessExitedException`` once the other ranks are shut down.
    """
    ctx = mp.start_processes(fn, args=args, nprocs=nprocs, join=False, start_method="spawn")
    received = []

    def forward(signum, frame):
        received.append(signum)
        for proc in ctx.processes:
            if proc.is_alive():
                try:
                    os.kill(proc.pid, signum)
                except ProcessLookupError:
                    pass

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        while not ctx.join(grace_period=SHUTDOWN_GRACE_S):
            pass
    except ProcessExitedException as exc:
        if exc.exit_code not in (PREEMPTED, INTERRUPTED):
            raise
        raise Preempted(exc.exit_code) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        logger.info("signal %s forwarded to the ranks, which had already finished", received[-1])


def launch_job(cfg, fn: Callable, init_method: str = "tcp://localhost:9999") -> None:
    """Run ``fn(cfg)`` in every process of the job described by ``cfg`` and the environment."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        if not dist.is_initialized():
            dist.init_process_group(_backend(cfg), init_method="env://")
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        try:
            fn(cfg)
        finally:
            _shutdown()
        return
    num_local = max(cfg.NUM_GPUS, 1)
    world_size = num_local * cfg.NUM_SHARDS
    if cfg.NUM_GPUS > 1 and not torch.cuda.is_available():
        logger.warning("NUM_GPUS=%d on a machine without CUDA: %d CPU processes on gloo", cfg.NUM_GPUS, cfg.NUM_GPUS)
    if world_size > 1:
        spawn_and_wait(_run, (cfg, fn, init_method, world_size), num_local)
    else:
        fn(cfg)
