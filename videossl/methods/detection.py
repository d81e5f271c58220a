"""AVA action detection: the backbone with PySlowFast's RoIAlign head, one sigmoid per action and box.

The network is :class:`~videossl.methods.supervised.Supervised`'s ``net``
(``DETECTION.ENABLE`` gives it the :class:`~videossl.models.heads.RoIHead`),
so checkpoints, initialisation from a pretraining run (``backbone.`` ->
``net.``) and the PySlowFast ``.pyth`` layout are the classifier's. The loss
is binary cross-entropy of every box's K logits against its multi-hot
actions, averaged over boxes and classes.

Deviation from PySlowFast: its head applies the sigmoid in training too and
its ``bce`` loss takes probabilities; here the head returns logits in
training and the loss is ``binary_cross_entropy_with_logits`` (the same
function, computed stably).
"""

from typing import Dict

import torch
import torch.nn.functional as F

from ..errors import InputError
from ..models import build_model
from .registry import register_method
from .supervised import Supervised


class Detector(Supervised):
    """Per-box multi-label classifier on ``views[0]`` and ``boxes`` (N x 5: batch index, x1, y1, x2, y2)."""

    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:
        logits = self.net(batch["views"][0], boxes=batch["boxes"])
        loss = F.binary_cross_entropy_with_logits(logits, batch["box_labels"].to(logits.dtype))
        return {"loss": loss}

    def predict(self, batch: Dict) -> torch.Tensor:
        """N x K action scores of the boxes (the head's sigmoid, in eval mode)."""
        return self.net(batch["views"][0], boxes=batch["boxes"])


@register_method("detection")
def build(cfg) -> Detector:
    """The AVA detector (TASK detection): needs DETECTION.ENABLE True."""
    if not cfg.DETECTION.ENABLE:
        raise InputError("TASK detection needs DETECTION.ENABLE True (the RoIAlign head)")
    return Detector(build_model(cfg))
