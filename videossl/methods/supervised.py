"""Supervised classification: training from scratch, linear probe and finetune.

One method, three uses (the trainer does not know which):

* ``supervised`` / ``finetune``: the whole network trains (dropout, the
  classifier ``head.projection`` of PySlowFast's ResNetBasicHead);
* ``linear`` with protocol ``pyslowfast``: features are detached before the
  FC (``MODEL.DETACH_FINAL_FC``) while the backbone stays in train mode, so BN
  statistics keep updating, exactly as PySlowFast's linear configs;
* ``linear`` with protocol ``coclr``: the backbone is frozen in eval mode and
  the head is CoCLR's ``L2-normalise -> BatchNorm1d -> dropout -> Linear``.
"""

from typing import Dict, List, Set

import torch
import torch.nn.functional as F
from torch import nn

from ..models import build_model, head_spec_from_cfg
from .base import CheckpointLayout, Method
from .registry import register_method


class CoCLRLinearHead(nn.Module):
    """CoCLR's linear-probe classifier: ``FC(dropout(BN1d(L2-normalise(x))))``, B x D -> B x K.

    BN starts at weight 1, bias 0; the FC at N(0, 0.01) weights and zero bias.
    Parameter names map CoCLR's checkpoints directly: ``final_bn`` -> ``bn``,
    ``final_fc.1`` -> ``projection`` (see ``models/coclr_convert.py``).
    """

    def __init__(self, dim_in: int, num_classes: int, dropout: float):
        super().__init__()
        self.bn = nn.BatchNorm1d(dim_in)
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(dim_in, num_classes)
        nn.init.normal_(self.projection.weight, std=0.01)
        nn.init.zeros_(self.projection.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(self.dropout(self.bn(F.normalize(x, dim=1))))


class Supervised(Method):
    """Cross-entropy classifier on ``views`` (all views of a sample are used as extra samples).

    Args:
        net: backbone with a classifier head attached (``build_model``).
        freeze_backbone: keep the backbone frozen and in eval mode (coclr protocol).
        mixup: optional ``callable(views, labels) -> (views, soft_targets)``.
        label_smoothing: for hard-label cross entropy.
    """

    #: The network (backbone + classifier head) is ``net``.
    LAYOUT = CheckpointLayout(backbone="net.")

    def __init__(self, net: nn.Module, freeze_backbone: bool = False, mixup=None,
                 label_smoothing: float = 0.0):
        super().__init__()
        self.net = net
        self.freeze_backbone = freeze_backbone
        self.mixup = mixup
        self.label_smoothing = label_smoothing
        if freeze_backbone:
            for name, p in self.net.named_parameters():
                if not name.startswith("head."):
                    p.requires_grad_(False)

    @property
    def pretrain_target(self) -> nn.Module:
        """The module TRAIN.CHECKPOINT_FILE_PATH loads into (PySlowFast keys: s1..., head...)."""
        return self.net

    def frozen_modules(self) -> List[str]:
        """With ``freeze_backbone``: every part of ``net`` but its head stays in eval mode."""
        if not self.freeze_backbone:
            return []
        return [f"net.{name}" for name, _ in self.net.named_children() if name != "head"]

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        if self.freeze_backbone:
            with torch.no_grad():
                feats = self.net.forward_features(x)
            return self.net.head(feats)
        return self.net(x)

    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:
        views = batch["views"]
        labels = batch["label"]
        if self.mixup is not None:
            views, targets = self.mixup(views, labels)
        x = views[0] if len(views) == 1 else torch.cat(views, dim=0)  # one view: no copy
        logits = self._logits(x)
        if self.mixup is not None:
            targets = torch.cat([targets] * (x.shape[0] // targets.shape[0]), dim=0)
            loss = torch.sum(-targets * F.log_softmax(logits, dim=-1), dim=-1).mean()
            return {"loss": loss}
        y = labels if len(views) == 1 else labels.repeat(len(views))
        loss = F.cross_entropy(logits, y, label_smoothing=self.label_smoothing)
        top1_err = (logits.argmax(1) != y).float().mean() * 100.0
        return {"loss": loss, "top1_err": top1_err.detach()}

    def predict(self, batch: Dict) -> torch.Tensor:
        return self._logits(batch["views"][0])

    def features(self, batch: Dict) -> torch.Tensor:
        return self.net.forward_features(batch["views"][0])

    def no_weight_decay_names(self) -> Set[str]:
        inner = getattr(self.net, "no_weight_decay", None)
        return {f"net.{n}" for n in inner()} if callable(inner) else set()


@register_method("supervised")
def build(cfg) -> Supervised:
    """Classifier for TASK supervised / linear / finetune."""
    from ..engine.tasks import get_task

    coclr = get_task(cfg.TASK).probe and cfg.LINEAR.PROTOCOL == "coclr"
    spec = head_spec_from_cfg(cfg)
    net = build_model(cfg, spec)
    if coclr:
        net.head = CoCLRLinearHead(net.feature_dim, cfg.MODEL.NUM_CLASSES, cfg.MODEL.DROPOUT_RATE)
    mixup = None
    if cfg.MIXUP.ENABLE:
        from ..data.mixup import build_mixup

        mixup = build_mixup(cfg)
    # Label smoothing comes with mixup (MIXUP.LABEL_SMOOTH_VALUE, in the soft targets), as in PySlowFast.
    return Supervised(net, freeze_backbone=coclr, mixup=mixup)
