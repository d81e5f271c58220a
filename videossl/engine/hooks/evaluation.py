"""Periodic evaluation during training (PySlowFast's kNN monitor of SSL pretraining)."""

from typing import Callable, Dict

from ...utils.logging import log_json_stats
from .base import Hook


class PeriodicEval(Hook):
    """Runs an evaluator every ``period`` epochs, except after the last one.

    The result is logged as ``<name>_epoch`` json_stats and, with TensorBoard,
    ``<name>/top1_acc``.

    Args:
        make_evaluator: ``() -> evaluator`` (:mod:`videossl.engine.evaluators`),
            called at the first evaluation (a run that never evaluates builds no
            evaluation data).
        period: epochs between evaluations.
        name: the evaluator's name in logs.
    """

    name = "periodic_eval"

    def __init__(self, make_evaluator: Callable[[], Callable[..., Dict]], period: int, name: str):
        self.make_evaluator = make_evaluator
        self.evaluator = None
        self.period = period
        self.eval_name = name

    def after_epoch(self, trainer) -> None:
        done = trainer.epoch + 1
        if done % self.period or done >= trainer.settings.max_epoch:
            return
        if self.evaluator is None:
            self.evaluator = self.make_evaluator()
        result = self.evaluator(trainer.method, trainer.device)
        log_json_stats({"_type": f"{self.eval_name}_epoch", "epoch": f"{done}/{trainer.settings.max_epoch}",
                        **result})
        if trainer.tensorboard is not None and "top1_acc" in result:
            trainer.tensorboard.add_scalar(f"{self.eval_name}/top1_acc", result["top1_acc"], done)
