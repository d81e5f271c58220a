"""Person boxes through a clip's spatial augmentation (AVA): the crop, the resize and the flip of its pixels.

Boxes arrive normalised to the decoded frame, ``[x1, y1, x2, y2]`` in [0, 1],
and leave in pixels of the augmented clip, ``S x S`` for a train crop of side
``S``.  With the crop box ``(top, left, h, w)`` of :class:`~.clip_aug.ClipParams`
(pixels of the ``H x W`` frame)::

    x' = (x W - left) S / w,    y' = (y H - top) S / h,    clamped to [0, S]
    flipped:  x1' <- S - x2',   x2' <- S - x1'

which is where :func:`~.spatial.crop_resize` and the flip move the pixels.
A box cut off by the crop keeps its (possibly empty) clamped extent, as
PySlowFast's ``clip_boxes_to_image`` leaves it.
"""

import torch

from .clip_aug import ClipParams


def transform_boxes(boxes: torch.Tensor, params: ClipParams, height: int, width: int, size: int) -> torch.Tensor:
    """``K x 4`` normalised boxes of an ``height x width`` frame -> ``K x 4`` pixel boxes of the
    ``size x size`` clip that ``params`` cuts (float32)."""
    top, left, h, w = params.box
    b = boxes.to(torch.float32).reshape(-1, 4)
    x = (b[:, 0::2] * width - left) * (size / w)
    y = (b[:, 1::2] * height - top) * (size / h)
    x, y = x.clamp(0, size), y.clamp(0, size)
    if params.flip:
        x = size - x.flip(1)
    return torch.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], dim=1)
