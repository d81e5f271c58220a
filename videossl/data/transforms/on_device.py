"""Augmentation after collation, on the GPU (optional).

The loader normally augments in its CPU workers.  When the CPUs are the
bottleneck, the workers can instead return the decoded ``uint8`` clips and the
per-clip parameters (``ClipTransform.sample_train`` is cheap and has no
tensors to move), and the training loop augments the whole batch on the GPU::

    frames = batch_frames.to("cuda", non_blocking=True)      # B x T x H x W x 3 uint8
    views = augment_batch(frames, params_per_sample, transform)  # B x 3 x T x S x S float

Every op of :class:`ClipTransform.apply` (crop/resize, flip, colour, blur,
normalisation) runs on the tensor's device, so the result equals the CPU
pipeline's up to floating-point rounding.  RandAugment (PIL based) is skipped
on the GPU path.
"""

from typing import Optional, Sequence

import torch

from ...errors import InputError
from .clip_aug import ClipParams, ClipTransform


def augment_batch(frames: torch.Tensor, params: Sequence[ClipParams], transform: ClipTransform,
                  size: Optional[int] = None, is_flow: bool = False) -> torch.Tensor:
    """``uint8 B x T x H x W x 3`` (any device) + one :class:`ClipParams` per sample ->
    normalised float ``B x 3 x T x size x size`` on the same device."""
    if len(params) != frames.shape[0]:
        raise InputError(f"{frames.shape[0]} clips but {len(params)} parameter sets")
    randaug, transform.randaug = transform.randaug, None
    try:
        return torch.stack([transform.apply(f, p, size=size, is_flow=is_flow) for f, p in zip(frames, params)])
    finally:
        transform.randaug = randaug
