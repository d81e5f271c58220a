"""Batch-level Mixup / CutMix with label smoothing for video clips (PySlowFast ``MIXUP.*``).

timm's ``Mixup`` cuts boxes out of dims (2, 3), which for a video batch
``B x C x T x H x W`` are T and H; this wrapper keeps timm's sampling rules
and its helpers (``cutmix_bbox_and_lam``, ``mixup_target``) and applies the
box to the last two dims, i.e. the same box on every frame.  All views of a
batch (the rho clips x crops of each video) are mixed with the same lambda,
box and partner (the batch reversed, as timm's "batch" mode), so one soft
target row per video fits every view.

Signature used by the trainer / methods::

    mixup = build_mixup(cfg)            # None unless MIXUP.ENABLE
    views, soft_targets = mixup(views, labels)
    # views: list of B x C x T x H x W tensors (new tensors, inputs untouched)
    # labels: LongTensor[B]; soft_targets: FloatTensor[B, MODEL.NUM_CLASSES]

Randomness comes from numpy's global RNG (as timm's), which the trainer
seeds and checkpoints per rank.
"""

from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from timm.data.mixup import cutmix_bbox_and_lam, mixup_target

from ..errors import InputError


class VideoMixup:
    """Mixup (``mixup_alpha``) or CutMix (``cutmix_alpha``) of a batch with its reverse.

    Args:
        num_classes: width of the soft targets.
        mixup_alpha, cutmix_alpha: Beta parameters; 0 disables that mode.
        prob: probability of mixing a batch at all (``MIXUP.PROB``).
        switch_prob: probability of CutMix when both are enabled (``MIXUP.SWITCH_PROB``).
        label_smoothing: smoothing of the one-hot targets (``MIXUP.LABEL_SMOOTH_VALUE``).
        cutmix_minmax: optional (min, max) box size ratio instead of alpha.
        correct_lam: recompute lambda from the clipped box area (timm default).
    """

    def __init__(self, num_classes: int, mixup_alpha: float = 0.8, cutmix_alpha: float = 1.0,
                 prob: float = 1.0, switch_prob: float = 0.5, label_smoothing: float = 0.1,
                 cutmix_minmax: Optional[Tuple[float, float]] = None, correct_lam: bool = True):
        if mixup_alpha <= 0 and cutmix_alpha <= 0 and cutmix_minmax is None:
            raise InputError("mixup needs MIXUP.ALPHA > 0 or MIXUP.CUTMIX_ALPHA > 0")
        self.num_classes = num_classes
        self.mixup_alpha = mixup_alpha
        self.cutmix_alpha = cutmix_alpha
        self.prob = prob
        self.switch_prob = switch_prob
        self.label_smoothing = label_smoothing
        self.cutmix_minmax = cutmix_minmax
        self.correct_lam = correct_lam

    def sample(self) -> Tuple[float, bool]:
        """(lambda, use_cutmix) for one batch, timm's rules."""
        if np.random.rand() >= self.prob:
            return 1.0, False
        cutmix_on = self.cutmix_alpha > 0 or self.cutmix_minmax is not None
        if self.mixup_alpha > 0 and cutmix_on:
            use_cutmix = bool(np.random.rand() < self.switch_prob)
        else:
            use_cutmix = cutmix_on
        if use_cutmix:
            lam = np.random.beta(self.cutmix_alpha, self.cutmix_alpha) if self.cutmix_minmax is None else 1.0
        else:
            lam = np.random.beta(self.mixup_alpha, self.mixup_alpha)
        return float(lam), use_cutmix

    def mix(self, views: Sequence[torch.Tensor], lam: float, use_cutmix: bool) -> Tuple[List[torch.Tensor], float]:
        """Mix every view with its batch-reversed self; returns the views and the (corrected) lambda."""
        if lam >= 1.0:
            return list(views), 1.0
        shapes = {tuple(v.shape[-2:]) for v in views}
        if len(shapes) != 1:
            raise InputError(f"mixup needs views of one spatial size, got {sorted(shapes)}")
        if not use_cutmix:
            return [v * lam + v.flip(0) * (1.0 - lam) for v in views], lam
        (yl, yh, xl, xh), lam = cutmix_bbox_and_lam(views[0].shape, lam, ratio_minmax=self.cutmix_minmax,
                                                    correct_lam=self.correct_lam)
        out = []
        for v in views:
            mixed = v.clone()
            mixed[..., yl:yh, xl:xh] = v.flip(0)[..., yl:yh, xl:xh]
            out.append(mixed)
        return out, float(lam)

    def __call__(self, views: Sequence[torch.Tensor], labels: torch.Tensor):
        lam, use_cutmix = self.sample()
        views, lam = self.mix(views, lam, use_cutmix)
        targets = mixup_target(labels, self.num_classes, lam, self.label_smoothing)
        return views, targets


def build_mixup(cfg) -> Optional[VideoMixup]:
    """``VideoMixup`` from MIXUP.* and MODEL.NUM_CLASSES, or None when MIXUP.ENABLE is off."""
    if not cfg.MIXUP.ENABLE:
        return None
    m = cfg.MIXUP
    return VideoMixup(cfg.MODEL.NUM_CLASSES, mixup_alpha=m.ALPHA, cutmix_alpha=m.CUTMIX_ALPHA,
                      prob=m.PROB, switch_prob=m.SWITCH_PROB, label_smoothing=m.LABEL_SMOOTH_VALUE)
