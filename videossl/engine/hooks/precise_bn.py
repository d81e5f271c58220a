"""Precise BN: recompute BatchNorm statistics on training batches with the weights fixed (PySlowFast's
``BN.USE_PRECISE_STATS``), before the epoch's checkpoint or evaluation, through fvcore's ``update_bn_stats``."""

from torch import nn

from ...utils.logging import get_logger
from .base import Hook

logger = get_logger("precise_bn")


class _Forward(nn.Module):
    """Runs ``net`` on a batch's first view; its only child is ``net``, so only ``net``'s BN layers are updated."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, batch):
        return self.net(batch["views"][0])


class PreciseBN(Hook):
    """At the end of an epoch that writes a checkpoint or evaluates, recompute the BN statistics.

    The statistics become the population average over ``num_batches``
    training batches of this epoch's order (fvcore's ``update_bn_stats``:
    per-batch means and variances averaged, weighted by batch size), with no
    gradient.  The network updated is the method's encoder with its head
    (``checkpoint_layout().backbone``: ``net`` of a classifier, ``backbone``
    of an SSL method), run on ``views[0]``; BN layers in eval mode (a frozen
    backbone) are left alone.  Deviation from PySlowFast, which runs the whole
    model's forward: momentum copies and other method state (queues) are not
    touched.

    Args:
        num_batches: ``BN.NUM_BATCHES_PRECISE`` (capped by the loader's length).
        checkpoint_period, eval_period: epochs at which the checkpointer and the
            periodic evaluation run (the last epoch always counts).
    """

    name = "precise_bn"

    def __init__(self, num_batches: int, checkpoint_period: int, eval_period: int = 0):
        self.num_batches = num_batches
        self.checkpoint_period = checkpoint_period
        self.eval_period = eval_period

    def _due(self, done: int, max_epoch: int) -> bool:
        return (done % self.checkpoint_period == 0 or done == max_epoch
                or (self.eval_period > 0 and done % self.eval_period == 0))

    def after_epoch(self, trainer) -> None:
        from fvcore.nn.precise_bn import update_bn_stats

        if not self._due(trainer.epoch + 1, trainer.settings.max_epoch):
            return
        method = trainer.method
        net = method.get_submodule(method.checkpoint_layout().backbone.rstrip("."))
        loader = trainer.data.loader(trainer.epoch, 0)
        num = min(self.num_batches, len(loader))
        logger.info("precise BN: %d training batches", num)
        batches = (trainer.data.to_device(b, trainer.device) for b in loader)
        update_bn_stats(_Forward(net), batches, num)


def check_precise_bn_supported(net: nn.Module) -> None:
    """fvcore recomputes torch's BN layers only: refuse a network with videossl's all-reduce sync BN."""
    from ...models.sync_bn import AllReduceSyncBatchNorm

    if any(isinstance(m, AllReduceSyncBatchNorm) for m in net.modules()):
        from ...errors import InputError

        raise InputError("BN.USE_PRECISE_STATS is not supported with BN.NORM_TYPE sync_batchnorm "
                         "(videossl's all-reduce sync BN); use batchnorm")
