"""Process launching: one process, torchrun (env://), or PySlowFast-style spawn.

* Launched by ``torchrun`` (``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` set): join that group.
* ``NUM_GPUS > 1`` or ``NUM_SHARDS > 1``: spawn ``NUM_GPUS`` processes on this
  machine, global rank ``SHARD_ID * NUM_GPUS + local_rank``, world size
  ``NUM_GPUS * NUM_SHARDS``, rendezvous at ``--init_method`` (PySlowFast).  On a
  machine without CUDA the "GPUs" are CPU processes on gloo.
* Otherwise: a single process, no process group.

The backend is ``cfg.DIST_BACKEND`` (NCCL) when CUDA is available, gloo otherwise.
"""

import logging
import os
from typing import Callable

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _backend(cfg) -> str:
    return cfg.DIST_BACKEND if torch.cuda.is_available() else "gloo"


def _shutdown() -> None:
    from ..methods.shuffle_bn import forget_groups

    dist.destroy_process_group()
    forget_groups()


def _run(local_rank: int, cfg, fn: Callable, init_method: str, world_size: int):
    rank = cfg.SHARD_ID * cfg.NUM_GPUS + local_rank
    os.environ["LOCAL_RANK"] = str(local_rank)
    dist.init_process_group(_backend(cfg), init_method=init_method, world_size=world_size, rank=rank)
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    try:
        fn(cfg)
    finally:
        _shutdown()


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
        logging.getLogger("videossl.launch").warning(
            "NUM_GPUS=%d on a machine without CUDA: %d CPU processes on gloo", cfg.NUM_GPUS, cfg.NUM_GPUS)
    if world_size > 1:
        mp.spawn(_run, args=(cfg, fn, init_method, world_size), nprocs=num_local, join=True)
    else:
        fn(cfg)
