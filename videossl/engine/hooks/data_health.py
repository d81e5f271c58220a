"""Skipped videos: count them, log them per epoch, and stop when too many fail (one rule, one place)."""

from typing import Dict

import torch

from ...errors import DataError
from ...utils import distributed as du
from ...utils.logging import log_json_stats
from .base import Hook


def too_many_failed(failed: int, samples: int, max_fraction: float) -> bool:
    """The rule: ``failed / (failed + samples) > max_fraction`` (never with no sample and no failure)."""
    return failed + samples > 0 and failed / (failed + samples) > max_fraction


class DataHealth(Hook):
    """Counts ``batch["num_failed"]`` (videos replaced after a decode error) and the samples seen.

    * Early, over all ranks (one small all-reduce a step): as soon as the
      failures so far break the rule even if every remaining sample of the
      epoch decodes (``samples`` = the epoch's samples on all ranks), every
      rank stops at the same step.
    * At epoch end, over all ranks: logs ``train_epoch`` json_stats
      (``skipped_videos``, ``samples``, ``mem``) and applies the rule to the totals.

    Args:
        max_fraction: ``DATA_LOADER.MAX_FAILED_FRACTION``.
    """

    name = "data_health"

    def __init__(self, max_fraction: float):
        self.max_fraction = max_fraction
        self.epoch = -1
        self.failed = 0
        self.seen = 0

    def _error(self, failed: int, samples: int, epoch: int) -> DataError:
        return DataError(
            f"{failed} videos failed to decode in epoch {epoch + 1} against {samples} samples "
            f"(more than DATA_LOADER.MAX_FAILED_FRACTION={self.max_fraction}); "
            "check the dataset with tools/check_dataset.py")

    def before_epoch(self, trainer) -> None:
        if trainer.epoch != self.epoch:  # a new epoch (not one resumed mid-way)
            self.epoch, self.failed, self.seen = trainer.epoch, 0, 0

    def before_step(self, trainer) -> None:
        batch = trainer.batch
        if "num_failed" in batch:
            self.failed += int(batch["num_failed"].sum())
        self.seen += batch["label"].shape[0]
        # The ranks sum their counts, so all of them stop at the same step (none is left waiting in a collective).
        failed = int(du.sum_over_ranks([self.failed], trainer.device)[0])
        epoch_samples = trainer.iters_this_epoch * trainer.settings.global_batch
        if too_many_failed(failed, epoch_samples, self.max_fraction):
            raise self._error(failed, epoch_samples, trainer.epoch)

    def after_epoch(self, trainer) -> None:
        failed, seen = (int(v) for v in du.sum_over_ranks([self.failed, self.seen], trainer.device))
        log_json_stats({"_type": "train_epoch", "epoch": f"{trainer.epoch + 1}/{trainer.settings.max_epoch}",
                        "skipped_videos": failed, "samples": seen, "mem": peak_memory_mb(trainer.device)})
        if seen and too_many_failed(failed, seen, self.max_fraction):
            raise self._error(failed, seen, trainer.epoch)

    def state_dict(self) -> Dict:
        return {"epoch": self.epoch, "failed": self.failed, "seen": self.seen}

    def load_state_dict(self, state: Dict) -> None:
        self.epoch, self.failed, self.seen = state["epoch"], state["failed"], state["seen"]


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory of this process: CUDA allocations on a GPU, max RSS on a CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
