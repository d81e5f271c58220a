"""Learning-rate schedules as a pure function of the fractional epoch (PySlowFast semantics)."""

import math
from dataclasses import dataclass
from typing import Sequence

from ..errors import InputError


@dataclass(frozen=True)
class LRSchedule:
    """Plain parameters of ``SOLVER.*`` (LRs already scaled by shards)."""

    policy: str  # cosine | steps_with_relative_lrs | constant
    base_lr: float
    max_epoch: float
    cosine_end_lr: float = 0.0
    cosine_after_warmup: bool = False
    warmup_epochs: float = 0.0
    warmup_start_lr: float = 0.0
    steps: Sequence[float] = ()
    lrs: Sequence[float] = ()

    def _policy_lr(self, epoch: float) -> float:
        if self.policy == "cosine":
            offset = self.warmup_epochs if self.cosine_after_warmup else 0.0
            progress = (epoch - offset) / max(self.max_epoch - offset, 1e-12)
            return self.cosine_end_lr + (self.base_lr - self.cosine_end_lr) * (
                math.cos(math.pi * progress) + 1.0
            ) * 0.5
        if self.policy == "steps_with_relative_lrs":
            index = 0
            for i, step in enumerate(self.steps):
                if epoch >= step:
                    index = i
            return self.lrs[index] * self.base_lr
        if self.policy == "constant":
            return self.base_lr
        raise InputError(f"SOLVER.LR_POLICY={self.policy!r} is not implemented")

    def lr_at(self, epoch: float) -> float:
        """LR at fractional ``epoch``; linear warmup from ``warmup_start_lr`` to the policy's value."""
        if epoch < self.warmup_epochs:
            end = self._policy_lr(self.warmup_epochs)
            return self.warmup_start_lr + (end - self.warmup_start_lr) * epoch / self.warmup_epochs
        return self._policy_lr(epoch)


def build_lr_schedule(cfg, scale) -> LRSchedule:
    """From SOLVER.* and the shard-scaled LRs of :func:`videossl.config.compute_scale`."""
    s = cfg.SOLVER
    return LRSchedule(
        policy=s.LR_POLICY, base_lr=scale.base_lr, max_epoch=s.MAX_EPOCH,
        cosine_end_lr=scale.cosine_end_lr, cosine_after_warmup=s.COSINE_AFTER_WARMUP,
        warmup_epochs=s.WARMUP_EPOCHS, warmup_start_lr=scale.warmup_start_lr,
        steps=tuple(s.STEPS), lrs=tuple(s.LRS),
    )
