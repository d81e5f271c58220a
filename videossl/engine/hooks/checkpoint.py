"""Checkpoints: every ``checkpoint_period`` epochs and the last one, every ``iter_period`` iterations, on request."""

import os
from typing import Optional, Tuple

from ...utils import checkpoint as cu
from ...utils import distributed as du
from ...utils.logging import get_logger
from .base import Hook

logger = get_logger("checkpoint")


class Checkpointer(Hook):
    """Writes ``trainer.state_dict(...)`` atomically under PySlowFast's names (rank 0 writes, all ranks join).

    Epoch checkpoints are all kept, or the newest ``keep_last``; of the
    mid-epoch (``_iter_``) checkpoints only the newest.  With iteration checkpoints on, an epoch boundary that is
    not a checkpoint epoch is saved as that epoch's last ``_iter_`` file.
    Other hooks (preemption) call :meth:`save` directly.

    Args:
        output_dir: ``OUTPUT_DIR`` (files go to its ``checkpoints/``).
        prefix: the task's file prefix (``ssl`` -> ``ssl_checkpoint_epoch_00010.pyth``).
        period: epochs between checkpoints (the last epoch always writes one).
        iter_period: iterations between mid-epoch checkpoints; 0 = none.
        keep_last: epoch checkpoints kept (the newest); 0 = all.
    """

    name = "checkpointer"

    def __init__(self, output_dir: str, prefix: str, period: int, iter_period: int = 0, keep_last: int = 0):
        self.output_dir = output_dir
        self.dir = cu.checkpoint_dir(output_dir)
        self.prefix = prefix
        self.period = period
        self.iter_period = iter_period
        self.keep_last = keep_last

    def save(self, trainer, epoch: int, next_iter: int, name_at: Optional[Tuple[int, int]] = None) -> Optional[str]:
        """Write a checkpoint that resumes at ``(epoch, next_iter)``; returns its path.

        ``name_at``: the ``(epoch, iteration)`` of the file name when it differs
        (an epoch boundary saved as the last mid-epoch checkpoint).
        """
        state = trainer.state_dict(epoch, next_iter)
        path = os.path.join(self.dir, cu.checkpoint_name(self.prefix, *(name_at or (epoch, next_iter))))
        if du.is_main_process():
            cu.save_atomic(state, path)
            stem = os.path.basename(path).split("_epoch_")[0]
            for old in os.listdir(self.dir):
                full = os.path.join(self.dir, old)
                if "_iter_" in old and full != path and old.startswith(stem):
                    os.remove(full)
            if self.keep_last > 0:
                epochs = [f for f in cu.list_checkpoints(self.output_dir, self.prefix) if "_iter_" not in f]
                for old in epochs[:-self.keep_last]:
                    os.remove(old)
        du.barrier()
        trainer.last_checkpoint = path
        return path

    def after_step(self, trainer) -> None:
        done = trainer.iter + 1
        if self.iter_period > 0 and done % self.iter_period == 0 and done < trainer.iters_this_epoch:
            self.save(trainer, trainer.epoch, done)

    def after_epoch(self, trainer) -> None:
        done = trainer.epoch + 1
        if done % self.period == 0 or done == trainer.settings.max_epoch:
            self.save(trainer, done, 0)
        elif self.iter_period > 0:
            # With iteration checkpoints on, every epoch boundary is saved too (as the epoch's last
            # mid-epoch file, replaced by the next one), so a kill right after it loses no epoch.
            self.save(trainer, done, 0, name_at=(trainer.epoch, trainer.iters_this_epoch))
