"""Training logs: PySlowFast ``json_stats`` lines, TensorBoard scalars and a progress bar on a terminal."""

import sys
import time
from typing import Optional

from ...utils import distributed as du
from ...utils.logging import log_json_stats
from .base import Hook
from .data_health import peak_memory_mb


class TrainLogger(Hook):
    """Logs every ``period`` iterations (and an epoch's last) on rank 0.

    TensorBoard (when ``tensorboard_dir``) gets every iteration's numeric
    stats under ``train/``; on resume it purges events past the resumed
    iteration (``purge_step``), so curves do not double back.  The writer is
    published as ``trainer.tensorboard`` for other hooks.

    Args:
        period: ``LOG_PERIOD``.
        tensorboard_dir: log directory, or None for no TensorBoard.
        progress_bar: a tqdm bar when stdout is a terminal.
    """

    name = "logger"

    def __init__(self, period: int, tensorboard_dir: Optional[str] = None, progress_bar: bool = True):
        self.period = period
        self.tensorboard_dir = tensorboard_dir
        self.progress_bar = progress_bar
        self.tb = None
        self.bar = None
        self._step_start = 0.0

    def before_train(self, trainer) -> None:
        if self.tensorboard_dir and du.is_main_process():
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(self.tensorboard_dir, purge_step=trainer.global_iter or None)
        trainer.tensorboard = self.tb

    def before_epoch(self, trainer) -> None:
        if self.progress_bar and du.is_main_process() and sys.stdout.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=trainer.iters_this_epoch, initial=trainer.iter,
                            desc=f"epoch {trainer.epoch + 1}/{trainer.settings.max_epoch}",
                            leave=False, dynamic_ncols=True)

    def before_step(self, trainer) -> None:
        self._step_start = time.perf_counter()

    def after_step(self, trainer) -> None:
        stats, it, total = trainer.stats, trainer.iter, trainer.iters_this_epoch
        max_epoch = trainer.settings.max_epoch
        iter_time = time.perf_counter() - self._step_start
        if (it + 1) % self.period == 0 or it + 1 == total:
            left = total - it - 1 + (max_epoch - trainer.epoch - 1) * total
            eta = left * (iter_time + trainer.data_time)
            log_json_stats({
                "_type": "train_iter", "epoch": f"{trainer.epoch + 1}/{max_epoch}",
                "iter": f"{it + 1}/{total}", "time_diff": iter_time, "dt_data": trainer.data_time,
                "eta": time.strftime("%H:%M:%S", time.gmtime(eta)),
                "mem": peak_memory_mb(trainer.device), **stats,
            })
        if self.tb:
            for k, v in stats.items():
                if isinstance(v, (int, float)):
                    self.tb.add_scalar(f"train/{k}", v, trainer.global_iter)
        if self.bar:
            self.bar.set_postfix(loss=f"{stats['loss']:.4f}", lr=f"{stats['lr']:.3g}")
            self.bar.update(1)

    def after_epoch(self, trainer) -> None:
        if self.bar:
            self.bar.close()
            self.bar = None

    def after_train(self, trainer) -> None:
        if self.tb:
            self.tb.flush()
