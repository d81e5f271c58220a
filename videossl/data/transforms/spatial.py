"""Spatial sampling as boxes: draw a crop box in source-frame pixels, then cut and resize once.

A box is ``(top, left, height, width)`` in integer pixels of the decoded
frame.  Drawing (which needs randomness) is separate from applying (which
does not), so one draw can be applied to every tensor of a clip (RGB, flow).
"""

import math
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

Box = Tuple[int, int, int, int]


def _clamp_box(top: float, left: float, h: float, w: float, height: int, width: int) -> Box:
    h = int(min(max(round(h), 1), height))
    w = int(min(max(round(w), 1), width))
    top = int(min(max(round(top), 0), height - h))
    left = int(min(max(round(left), 0), width - w))
    return top, left, h, w


def random_resized_crop_box(rng: np.random.Generator, height: int, width: int,
                            scale: Sequence[float] = (0.08, 1.0),
                            ratio: Sequence[float] = (3 / 4, 4 / 3), tries: int = 10) -> Box:
    """Inception-style crop: area ``U[scale]`` of the frame, aspect log-uniform in ``ratio``.

    Up to ``tries`` draws must fit in the frame; otherwise a centre crop with
    the aspect clamped to ``ratio`` (PySlowFast's / torchvision's fallback).
    """
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(tries):
        target = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = int(rng.integers(0, height - h + 1))
            left = int(rng.integers(0, width - w + 1))
            return top, left, h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return _clamp_box((height - h) / 2, (width - w) / 2, h, w, height, width)


def jitter_crop_box(rng: np.random.Generator, height: int, width: int, min_size: int, max_size: int,
                    crop: int, inverse_uniform: bool = False) -> Box:
    """Short side scaled to ``S ~ U[min_size, max_size]`` (or inverse-uniform), then a random ``crop`` square.

    Returned in source pixels: the square of side ``crop / s`` where ``s = S / short side``.
    """
    if inverse_uniform:
        size = int(round(1.0 / rng.uniform(1.0 / max_size, 1.0 / min_size)))
    else:
        size = int(rng.integers(min_size, max_size + 1))
    s = size / min(height, width)
    side = crop / s
    top = rng.uniform(0, max(height - side, 0))
    left = rng.uniform(0, max(width - side, 0))
    return _clamp_box(top, left, side, side, height, width)


def uniform_crop_box(height: int, width: int, crop_idx: int = 1, num_crops: int = 1) -> Box:
    """Test crop: the short side whole; along the long side left/centre/right (top/centre/bottom).

    With the short side then scaled to the crop size this is PySlowFast's
    ``uniform_crop``: ``crop_idx`` 0, 1, 2 of 3, or the centre for ``num_crops == 1``.
    """
    side = min(height, width)
    pos = 1 if num_crops == 1 else crop_idx
    frac = {0: 0.0, 1: 0.5, 2: 1.0}[pos]
    if height > width:
        return _clamp_box((height - side) * frac, 0, side, side, height, width)
    return _clamp_box(0, (width - side) * frac, side, side, height, width)


def crop_resize(frames: torch.Tensor, box: Box, size: Optional[int]) -> torch.Tensor:
    """``T x C x H x W`` (uint8 or float) -> the box resized to ``size x size`` (bilinear, antialiased).

    ``size=None`` returns the box uncropped in scale.
    """
    top, left, h, w = box
    out = frames[..., top:top + h, left:left + w]
    if size is None or (h == size and w == size):
        return out
    return TF.resize(out, [size, size], interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
