"""Stop on a non-finite or exploding loss before the optimizer step, keeping the last good checkpoint."""

from typing import Dict, Optional

import torch

from ...errors import VideosslError
from ...utils import distributed as du
from .base import Hook


class NonFiniteLossError(VideosslError, FloatingPointError):
    """Raised when the loss is NaN/inf (or explodes); the last good checkpoint is kept."""


class LossGuard(Hook):
    """Checks every step's loss after backward (the decision is agreed over ranks).

    Args:
        explosion_factor: stop when a loss exceeds this multiple of the previous
            step's (``TRAIN.KILL_LOSS_EXPLOSION_FACTOR``); 0 = off.
    """

    name = "loss_guard"

    def __init__(self, explosion_factor: float = 0.0):
        self.explosion_factor = explosion_factor
        self.prev_loss: Optional[float] = None

    def _where(self, trainer) -> str:
        p = trainer.progress
        return (f"at epoch {p.epoch + 1} iteration {p.iter_in_epoch + 1}: training stopped. "
                f"Last good checkpoint: {trainer.last_checkpoint or 'none written yet'}")

    def after_backward(self, trainer, out: Dict) -> None:
        loss = out["loss"].detach()
        if du.any_rank(not bool(torch.isfinite(loss).all()), trainer.device):
            raise NonFiniteLossError(f"loss is {loss.float().item()} {self._where(trainer)}")
        value = float(loss)
        factor = self.explosion_factor
        if factor > 0 and self.prev_loss is not None and value > factor * self.prev_loss:
            raise NonFiniteLossError(
                f"loss exploded ({value:.4g} > {factor} x {self.prev_loss:.4g}; "
                f"TRAIN.KILL_LOSS_EXPLOSION_FACTOR) {self._where(trainer)}")
        self.prev_loss = value

    def state_dict(self) -> Dict:
        return {"prev_loss": self.prev_loss}

    def load_state_dict(self, state: Dict) -> None:
        self.prev_loss = state.get("prev_loss")
