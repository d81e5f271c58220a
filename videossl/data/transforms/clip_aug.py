"""Per-clip augmentation: draw every parameter once, apply it to each tensor of the clip.

:class:`ClipTransform` turns decoded ``uint8 T x H x W x 3`` frames into a
normalised float ``3 x T x S x S`` clip.  :meth:`ClipTransform.sample_train`
draws a :class:`ClipParams` (crop box, flip, colour, RandAugment/erasing
seeds) from a generator; :meth:`ClipTransform.test_params` gives the fixed
test crop.  :meth:`ClipTransform.apply` applies the same params to RGB and to
flow frames, so ``flow[i]`` lines up pixel for pixel with ``views[i]``.

Order of operations (crop first keeps the per-pixel work at the output size):
crop + resize (uint8, bilinear, antialiased) ->
[RandAugment] -> flip -> to float [0, 1] -> colour (jitter / grayscale /
blur, :mod:`.color`) -> (x - MEAN) / STD -> [random erasing] ->
``C x T x H x W``.  PySlowFast jitters colour before cropping; the pointwise
ops commute with the crop, the blur is applied at the output scale instead.
On CPU, everything after the crop (and RandAugment) runs as the fused numba
kernels of :mod:`.fused_cpu` unless ``fused=False``; they equal the torch
kernels of :mod:`.color` up to float rounding.

:func:`params_to_row` / :func:`params_from_row` carry a :class:`ClipParams`
as a float64 row, so a worker can hand its draws to the training step,
which augments the whole batch there (:mod:`.on_device`).
"""

import dataclasses
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from . import fused_cpu
from .color import ColorParams, apply_color_batch, sample_color
from .spatial import Box, crop_resize, jitter_crop_box, random_resized_crop_box, uniform_crop_box


@dataclass(frozen=True)
class ColorConfig:
    """The colour-augmentation settings (PySlowFast ``DATA.SSL_COLOR_*`` keys)."""

    bri_con_sat: Sequence[float] = (0.4, 0.4, 0.4)
    hue: float = 0.1
    gray_prob: float = 0.0
    mocov2: bool = False
    blur_sigma: Sequence[float] = (0.1, 2.0)  # spatial Gaussian-blur sigma range (MoCo-v2 branch only)


@dataclass(frozen=True)
class ClipParams:
    """Everything random about one augmented clip."""

    box: Box
    flip: bool = False
    color: Optional[ColorParams] = None
    extra_seed: Optional[int] = None  # RandAugment / random-erasing seed


class ClipTransform:
    """Crop, flip, colour and normalise clips.

    Args:
        crop_size: output side S for train clips (``DATA.TRAIN_CROP_SIZE``).
        test_size: output side for test clips (``DATA.TEST_CROP_SIZE``).
        mean, std: per-channel normalisation of [0, 1] values.
        jitter_scales: short-side range for the jitter crop (``DATA.TRAIN_JITTER_SCALES``).
        relative_scale / relative_aspect: if ``relative_scale`` is given, random
            resized crop with area fraction ``U[relative_scale]`` and log-uniform aspect
            in ``relative_aspect`` instead of the jitter crop.
        inverse_uniform: draw the jitter scale inverse-uniformly (``DATA.INV_UNIFORM_SAMPLE``).
        random_flip: horizontal flip with probability 0.5.
        color: colour augmentation settings, or None for none.
        flow_color: also apply the colour params to flow (CoCLR feeds flow like RGB).
        randaug: optional ``callable(uint8 T x H x W x C, seed) -> same`` on RGB crops.
        erasing: optional ``callable(float C x T x H x W, seed) -> same`` on normalised clips.
        fused: on CPU, run the float conversion, flip, colour, blur and normalisation as the fused
            numba kernels of :mod:`.fused_cpu` (equal up to float rounding; the torch kernels
            when numba is missing).
    """

    def __init__(self, crop_size: int, test_size: int, mean: Sequence[float], std: Sequence[float],
                 jitter_scales: Sequence[int] = (256, 320), relative_scale: Optional[Sequence[float]] = None,
                 relative_aspect: Optional[Sequence[float]] = None, inverse_uniform: bool = False,
                 random_flip: bool = True, color: Optional[ColorConfig] = None, flow_color: bool = True,
                 randaug: Optional[Callable] = None, erasing: Optional[Callable] = None, fused: bool = True):
        self.crop_size = int(crop_size)
        self.test_size = int(test_size)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1, 1)
        self.jitter_scales = tuple(int(s) for s in jitter_scales)
        self.relative_scale = tuple(relative_scale) if relative_scale else None
        self.relative_aspect = tuple(relative_aspect) if relative_aspect else (3 / 4, 4 / 3)
        self.inverse_uniform = inverse_uniform
        self.random_flip = random_flip
        self.color = color
        self.flow_color = flow_color
        self.randaug = randaug
        self.erasing = erasing
        self.fused_cpu = fused and len(mean) == 3 and len(std) == 3
        self._mean_list, self._std_list = [float(v) for v in mean], [float(v) for v in std]

    # -- parameters -------------------------------------------------------------
    def sample_train(self, rng: np.random.Generator, height: int, width: int) -> ClipParams:
        """Draw one clip's parameters for frames of ``height x width``."""
        if self.relative_scale:
            box = random_resized_crop_box(rng, height, width, self.relative_scale, self.relative_aspect)
        else:
            box = jitter_crop_box(rng, height, width, self.jitter_scales[0], self.jitter_scales[-1],
                                  self.crop_size, self.inverse_uniform)
        flip = bool(self.random_flip and rng.uniform() < 0.5)
        color = None
        if self.color is not None:
            c = self.color
            color = sample_color(rng, c.bri_con_sat, c.hue, c.gray_prob, c.mocov2, blur_sigma=c.blur_sigma)
        extra = int(rng.integers(0, 2**31)) if (self.randaug or self.erasing) else None
        return ClipParams(box, flip, color, extra)

    def test_params(self, height: int, width: int, crop_idx: int, num_crops: int) -> ClipParams:
        """The fixed test crop ``crop_idx`` of ``num_crops`` (1: centre; 3: left/centre/right)."""
        return ClipParams(uniform_crop_box(height, width, crop_idx, num_crops))

    # -- application ------------------------------------------------------------
    def apply(self, frames: torch.Tensor, params: ClipParams, size: Optional[int] = None,
              is_flow: bool = False) -> torch.Tensor:
        """``uint8 T x H x W x 3`` -> normalised float ``3 x T x size x size`` (default: train size)."""
        size = self.crop_size if size is None else size
        x = crop_resize(frames.permute(0, 3, 1, 2), params.box, size)  # T x C x S x S uint8, channels-last
        if self.randaug is not None and params.extra_seed is not None and not is_flow and x.device.type == "cpu":
            x = self.randaug(x.permute(0, 2, 3, 1), seed=params.extra_seed).permute(0, 3, 1, 2)
        color = (self.flow_params(params) if is_flow else params).color
        if (self.fused_cpu and x.device.type == "cpu" and x.dtype == torch.uint8 and x.shape[1] == 3
                and fused_cpu.available()):
            x = fused_cpu.augment_clip(x.permute(0, 2, 3, 1), params.flip, color, self._mean_list, self._std_list)
        else:
            if params.flip:
                x = x.flip(-1)
            x = torch.div(x, 255.0, out=torch.empty(x.shape, dtype=torch.float32, device=x.device))  # planar
            if color is not None:
                x = apply_color_batch(x.unsqueeze(0), [color])[0]
            x = self.normalize(x)
        if self.erasing is not None and params.extra_seed is not None:
            x = self.erasing(x, seed=params.extra_seed)
        return x

    def flow_params(self, params: ClipParams) -> ClipParams:
        """What a flow clip gets of ``params``: all of it, or without the colour unless ``flow_color``."""
        return params if self.flow_color or params.color is None else dataclasses.replace(params, color=None)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Float ``... x T x C x H x W`` in [0, 1] -> ``(x - MEAN) / STD`` laid out ``... x C x T x H x W``."""
        x = x.transpose(-4, -3)
        out = torch.empty(x.shape, dtype=x.dtype, device=x.device)
        torch.sub(x, self.mean.to(x.device), out=out)
        return out.div_(self.std.to(x.device))


#: The fields of a :class:`ClipParams` row (:func:`params_to_row`), in order.
ROW_FIELDS = ("top", "left", "height", "width", "flip", "jitter", "order0", "order1", "order2", "order3",
              "brightness", "contrast", "saturation", "hue", "gray", "gray_first", "blur_sigma",
              "frame_height", "frame_width")
_COL = {name: k for k, name in enumerate(ROW_FIELDS)}


def params_to_row(p: ClipParams, frame_height: int = 0, frame_width: int = 0) -> torch.Tensor:
    """``p`` as a float64 row of :data:`ROW_FIELDS` (no colour: zeros; no blur: sigma 0).
    RandAugment / erasing seeds are not carried.  The frame size locates boxes (AVA)."""
    row = torch.zeros(len(ROW_FIELDS), dtype=torch.float64)
    row[0:4] = torch.tensor(p.box, dtype=torch.float64)
    row[_COL["flip"]] = float(p.flip)
    c = p.color
    if c is not None:
        if c.jitter is not None:
            row[_COL["jitter"]] = 1.0
            row[_COL["order0"]:_COL["order3"] + 1] = torch.tensor(c.jitter[0], dtype=torch.float64)
            row[_COL["brightness"]:_COL["hue"] + 1] = torch.tensor(c.jitter[1], dtype=torch.float64)
        row[_COL["gray"]], row[_COL["gray_first"]] = float(c.gray), float(c.gray_first)
        row[_COL["blur_sigma"]] = 0.0 if c.blur_sigma is None else c.blur_sigma
    row[_COL["frame_height"]], row[_COL["frame_width"]] = frame_height, frame_width
    return row


def params_from_row(row: Sequence[float]) -> ClipParams:
    """The :class:`ClipParams` of a :func:`params_to_row` row (colour None when it does nothing)."""
    v = [float(x) for x in row]
    box = tuple(int(v[k]) for k in range(4))
    jitter = None
    if v[_COL["jitter"]]:
        order = tuple(int(v[_COL[f"order{k}"]]) for k in range(4))
        jitter = (order, tuple(v[_COL["brightness"]:_COL["hue"] + 1]))
    gray, gray_first, sigma = bool(v[_COL["gray"]]), bool(v[_COL["gray_first"]]), v[_COL["blur_sigma"]]
    color = None
    if jitter is not None or gray or sigma > 0:
        color = ColorParams(jitter, gray, gray_first, sigma if sigma > 0 else None)
    return ClipParams(box, bool(v[_COL["flip"]]), color)
