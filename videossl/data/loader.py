"""Samplers and DataLoader construction.

Train: :class:`TrainSampler` yields ``(epoch, index)`` pairs of a permutation
that depends only on ``(seed, epoch)``, split across ranks like
``DistributedSampler`` (padded to a multiple of the world size, rank ``r``
takes every ``world``-th item from ``r``), and skips the first ``skip`` items
(resuming mid-epoch); :meth:`TrainSampler.set_epoch` re-targets it, so a
loader with persistent workers serves every epoch (:func:`restart_epoch`).
Eval: :class:`EvalSampler`, in order, same split and padding.  Failed videos (``num_failed``) are counted and judged by the
trainer's data-health hook.
"""

import math
from typing import Iterator, Optional, Tuple

import torch
from torch.utils.data import DataLoader, Sampler

from . import seeds
from ..utils.malloc import keep_freed_memory
from .collate import collate_batch


def _rank_world() -> Tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _pad_and_split(order: list, rank: int, world: int) -> list:
    total = int(math.ceil(len(order) / world)) * world
    padded = order + (order * (total // max(len(order), 1) + 1))[: total - len(order)]
    return padded[rank:total:world]


class TrainSampler(Sampler):
    """This rank's share of the ``(seed, epoch)`` permutation, as ``(epoch, index)`` pairs.

    Args:
        size: dataset length.
        seed, epoch: what the permutation depends on.
        rank, world: this process and the number of processes (default: torch.distributed's).
        skip: items of this rank's share to leave out at the start.
    """

    def __init__(self, size: int, seed: int, epoch: int, rank: Optional[int] = None,
                 world: Optional[int] = None, skip: int = 0):
        r, w = _rank_world()
        self.rank = r if rank is None else rank
        self.world = w if world is None else world
        self.size, self.seed = size, seed
        self.set_epoch(epoch, skip)

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """Serve epoch ``epoch``'s permutation from its ``skip``-th item (of this rank's share)."""
        self.epoch = epoch
        order = seeds.rng_for(self.seed, epoch, seeds.EPOCH_ORDER).permutation(self.size).tolist()
        self.items = _pad_and_split(order, self.rank, self.world)[skip:]

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        return iter([(self.epoch, i) for i in self.items])

    def __len__(self) -> int:
        return len(self.items)


class EvalSampler(Sampler):
    """Indices ``0..size-1`` in order, padded and split across ranks like ``DistributedSampler``."""

    def __init__(self, size: int, rank: Optional[int] = None, world: Optional[int] = None):
        r, w = _rank_world()
        self.items = _pad_and_split(list(range(size)), r if rank is None else rank, w if world is None else world)

    def __iter__(self) -> Iterator[int]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _worker_init(_worker_id: int) -> None:
    torch.set_num_threads(1)
    keep_freed_memory()


def make_loader(dataset, *, train: bool, batch_size: int, seed: int = 0, epoch: int = 0, start_iter: int = 0,
                num_workers: int = 0, pin_memory: bool = False, persistent_workers: bool = False,
                rank: Optional[int] = None, world: Optional[int] = None) -> DataLoader:
    """The loader from plain arguments (see :func:`videossl.data.build_loader`).

    ``persistent_workers`` (train, ``num_workers > 0``): the workers live as long as the loader;
    :func:`restart_epoch` points it at the next epoch."""
    if not num_workers:
        keep_freed_memory()  # this process decodes and augments: reuse its big buffers (utils/malloc.py)
    if train:
        sampler = TrainSampler(len(dataset), seed, epoch, rank, world, skip=start_iter * batch_size)
    else:
        sampler = EvalSampler(len(dataset), rank, world)
    # The loader's own generator: creating its iterator must not draw from the global RNG, or a
    # run resumed mid-epoch would see different dropout/model randomness than an uninterrupted one.
    generator = torch.Generator().manual_seed(seeds.int_seed(seed, epoch, seeds.EPOCH_ORDER, start_iter))
    return DataLoader(
        dataset, batch_size=batch_size, sampler=sampler, drop_last=train, num_workers=num_workers,
        generator=generator,
        collate_fn=collate_batch, pin_memory=pin_memory, worker_init_fn=_worker_init if num_workers else None,
        persistent_workers=bool(train and persistent_workers and num_workers > 0),
    )


def restart_epoch(loader: DataLoader, epoch: int, start_iter: int = 0) -> DataLoader:
    """Point a train loader of :func:`make_loader` at ``epoch`` from batch ``start_iter``, keeping its
    workers (the samples depend on ``(seed, epoch, index)`` only, so nothing else needs telling)."""
    loader.sampler.set_epoch(epoch, skip=start_iter * loader.batch_size)
    return loader
