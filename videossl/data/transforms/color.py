"""Clip-consistent colour augmentation (PySlowFast's SSL colour jitter, MoCo-v2 style).

Parameters are drawn once per clip by :func:`sample_color` and applied to
every frame of the clip with the same values (contrast uses the mean grey
level of the whole clip), by one of two equivalent implementations:

* :func:`apply_color_uint8` (CPU, used by the loader): PIL on the clip laid out
  as one tall image, as PySlowFast's ``color_jitter_video_ssl`` does
  (~10x faster than tensor ops on a CPU core; uint8 after each op);
* :func:`apply_color` (float ``T x C x H x W`` in [0, 1], any device, used for
  augmentation on the GPU): torchvision's tensor ops.

They agree up to uint8 rounding and PIL's box approximation of the blur.
"""

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF


@dataclass(frozen=True)
class ColorParams:
    """What to do to one clip. ``jitter`` is None or (order of the 4 ops, (b, c, s, h))."""

    jitter: Optional[Tuple[Tuple[int, ...], Tuple[float, float, float, float]]] = None
    gray: bool = False
    gray_first: bool = False  # PySlowFast's non-MoCo-v2 branch: grayscale, then jitter
    blur_sigma: Optional[float] = None


def sample_color(rng: np.random.Generator, bri_con_sat: Sequence[float] = (0.4, 0.4, 0.4),
                 hue: float = 0.1, gray_prob: float = 0.0, mocov2: bool = False,
                 jitter_prob: float = 0.8, blur_prob: float = 0.5,
                 blur_sigma: Sequence[float] = (0.1, 2.0)) -> ColorParams:
    """Draw one clip's colour parameters.

    ``mocov2``: jitter with probability ``jitter_prob`` (0.8), then grayscale
    with ``gray_prob``, then Gaussian blur with probability ``blur_prob``
    (0.5), sigma ~ U[blur_sigma].  Otherwise: grayscale with ``gray_prob``,
    then jitter always (PySlowFast's ``color_jitter_video_ssl``).  Jitter
    factors: brightness/contrast/saturation ~ U[max(0, 1 - x), 1 + x], hue ~
    U[-hue, hue], applied in a random order (torchvision ``ColorJitter``; the
    hue shift is a YIQ rotation, see :func:`rotate_hue`).
    """
    order = tuple(int(i) for i in rng.permutation(4))
    factors = tuple(float(rng.uniform(max(0.0, 1 - x), 1 + x)) for x in bri_con_sat)
    h = float(rng.uniform(-hue, hue)) if hue > 0 else 0.0
    jitter = (order, factors + (h,))
    if mocov2:
        use_jitter = rng.uniform() < jitter_prob
        gray = rng.uniform() < gray_prob
        blur = rng.uniform() < blur_prob
        sigma = float(rng.uniform(*blur_sigma))
        return ColorParams(jitter if use_jitter else None, bool(gray), False, sigma if blur else None)
    gray = rng.uniform() < gray_prob
    return ColorParams(jitter, bool(gray), True, None)


def _gray(x: torch.Tensor) -> torch.Tensor:
    r, g, b = x.unbind(dim=-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(-3)


def _blend(a: torch.Tensor, b, ratio: float) -> torch.Tensor:
    return (ratio * a + (1.0 - ratio) * b).clamp_(0.0, 1.0)


def _jitter(x: torch.Tensor, order, factors) -> torch.Tensor:
    bri, con, sat, hue = factors
    for op in order:
        if op == 0 and bri != 1.0:
            x = (x * bri).clamp_(0.0, 1.0)
        elif op == 1 and con != 1.0:
            x = _blend(x, _gray(x).mean(), con)
        elif op == 2 and sat != 1.0:
            x = _blend(x, _gray(x), sat)
        elif op == 3 and hue != 0.0:
            x = TF.adjust_hue(x, hue)
    return x


def apply_color(x: torch.Tensor, p: ColorParams) -> torch.Tensor:
    """Apply ``p`` to a float clip ``T x 3 x H x W`` in [0, 1]; returns a new tensor."""
    if p.gray and p.gray_first:
        x = _gray(x).expand_as(x).contiguous()
    if p.jitter is not None:
        x = _jitter(x, *p.jitter)
    if p.gray and not p.gray_first:
        x = _gray(x).expand_as(x).contiguous()
    if p.blur_sigma is not None:
        k = blur_kernel_size(p.blur_sigma, min(x.shape[-2:]))
        if k >= 3:
            x = TF.gaussian_blur(x, kernel_size=[k, k], sigma=[p.blur_sigma, p.blur_sigma])
    return x


def blur_kernel_size(sigma: float, side: int) -> int:
    return min(2 * math.ceil(3 * sigma) + 1, _odd_below(side))


def _odd_below(n: int) -> int:
    return n if n % 2 else n - 1


def apply_color_uint8(frames: np.ndarray, p: ColorParams) -> np.ndarray:
    """Apply ``p`` to ``uint8 T x H x W x 3`` frames with PIL; returns a new array."""
    from PIL import Image, ImageEnhance, ImageFilter

    t, h, w, _ = frames.shape
    img = Image.fromarray(np.ascontiguousarray(frames).reshape(t * h, w, 3))  # one tall image: one mean
    if p.gray and p.gray_first:
        img = img.convert("L").convert("RGB")
    if p.jitter is not None:
        order, (bri, con, sat, hue) = p.jitter
        for op in order:
            if op == 0 and bri != 1.0:
                img = ImageEnhance.Brightness(img).enhance(bri)
            elif op == 1 and con != 1.0:
                img = ImageEnhance.Contrast(img).enhance(con)
            elif op == 2 and sat != 1.0:
                img = ImageEnhance.Color(img).enhance(sat)
            elif op == 3 and hue != 0.0:
                hsv = np.array(img.convert("HSV"))
                hsv[..., 0] += np.uint8(int(hue * 255) % 256)  # wraps around, as torchvision's PIL path
                img = Image.fromarray(hsv, "HSV").convert("RGB")
    if p.gray and not p.gray_first:
        img = img.convert("L").convert("RGB")
    out = np.array(img).reshape(t, h, w, 3)  # writable copy
    if p.blur_sigma is not None and blur_kernel_size(p.blur_sigma, min(h, w)) >= 3:
        blur = ImageFilter.GaussianBlur(radius=p.blur_sigma)
        out = np.stack([np.asarray(Image.fromarray(f).filter(blur)) for f in out])  # per frame: no bleeding
    return out
