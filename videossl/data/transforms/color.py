"""Clip-consistent colour augmentation (PySlowFast's SSL colour jitter, MoCo-v2 style), batched.

Parameters are drawn once per clip by :func:`sample_color` and applied to
every frame of the clip with the same values (contrast uses the mean grey
level of the whole clip).  One implementation serves the loader's workers
(one clip) and the training step (a batch of clips with their own
parameters, :func:`apply_color_batch`): float tensors in [0, 1], laid out
``N x T x 3 x H x W``, with torchvision's tensor semantics (its
``ColorJitter``, ``Grayscale`` and ``GaussianBlur``), so the two paths agree
up to float rounding.

Kernels (each takes per-clip factors as a tensor of shape ``N``):

* brightness ``clamp(f x)``, contrast ``clamp(f x + (1 - f) mean(grey(clip)))``,
  saturation ``clamp(f x + (1 - f) grey(x))`` with ``grey = 0.2989 r + 0.587 g + 0.114 b``;
* hue: the HSV hue shift of ``torchvision.transforms.v2.functional.adjust_hue``
  computed directly: the shift keeps each pixel's max ``M`` and min ``m``, and
  channel ``c`` becomes ``m + (M - m) ramp_c(6 h + 6 f mod 6)`` (the piecewise-linear
  HSV->RGB ramps), about 3x fewer tensor ops than the RGB->HSV->RGB round trip;
* Gaussian blur: separable, reflect padding, kernel size ``2 ceil(3 sigma) + 1``
  (torchvision's), as ``r + 1`` shifted multiply-adds per axis at the output size.

Deviations from PySlowFast (which runs torchvision's PIL ``ColorJitter`` on the
clip as one tall uint8 image, before the crop): the ops run in float without
rounding to uint8 after each op; the hue shift is exact HSV rather than
PIL's 8-bit HSV; the blur is a true Gaussian per frame rather than PIL's
box approximation over the tall image (which also bleeds between frames);
the colour runs after the crop, at the output size (the pointwise ops commute
with the crop; the contrast mean is the crop's).  ``tests/test_colour_kernels.py``
bounds the difference from the PIL path.
"""

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F


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
    U[-hue, hue], applied in a random order (torchvision ``ColorJitter``).
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


# -- kernels on N x T x 3 x H x W float clips in [0, 1] ------------------------------------------
def _per_clip(f: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return f.to(x.dtype).view(-1, 1, 1, 1, 1)


def grey(x: torch.Tensor) -> torch.Tensor:
    """``... x 3 x H x W`` -> ``... x 1 x H x W`` luma (torchvision's weights and op order)."""
    r, g, b = x.unbind(dim=-3)
    return torch.mul(r, 0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).unsqueeze(-3)


def adjust_brightness(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    return x.mul_(_per_clip(f, x)).clamp_(0.0, 1.0)


def adjust_contrast(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    f = _per_clip(f, x)
    means = x.mean(dim=(1, 3, 4), keepdim=True)  # N x 1 x 3 x 1 x 1: the clip's grey mean from its channel means
    mean = grey(means)
    return x.mul_(f).add_((1.0 - f) * mean).clamp_(0.0, 1.0)


def adjust_saturation(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    f = _per_clip(f, x)
    g = grey(x).mul_(1.0 - f)  # before x changes
    return x.mul_(f).add_(g).clamp_(0.0, 1.0)


def adjust_hue(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """HSV hue shift by ``f`` (in turns, ``[-0.5, 0.5]``), as torchvision's ``adjust_hue``; in place."""
    r, g, b = x.unbind(dim=-3)
    hi = torch.maximum(r, g)
    hi = torch.maximum(hi, b, out=hi)
    lo = torch.minimum(r, g)
    lo = torch.minimum(lo, b, out=lo)
    chroma = hi - lo
    # 6 * hue * chroma, by which channel holds the max (red wins ties, then green, as torchvision);
    # selected by float masks and lerp (exact at weights 0 and 1, and ~10x faster than a bool where on a CPU)
    is_g = torch.eq(hi, g, out=torch.empty_like(hi))
    is_r = torch.eq(hi, r, out=torch.empty_like(hi))
    h6 = torch.lerp((r - g).add_(chroma, alpha=4.0), (b - r).add_(chroma, alpha=2.0), is_g)
    h6 = torch.lerp(h6, g - b, is_r)
    h6 = h6.div_(chroma.clamp(min=torch.finfo(x.dtype).tiny))
    h6 = h6.add_(6.0 * f.to(x.dtype).view(-1, 1, 1, 1))
    h6 = h6.sub_(torch.div(h6, 6.0).floor_().mul_(6.0))  # mod 6 (torch.remainder's formula)
    # channel = lo + chroma * ramp(h6): red ramps up from |h6 - 3| = 1, green and blue fall from hi
    torch.addcmul(lo, (h6 - 3.0).abs_().sub_(1.0).clamp_(0.0, 1.0), chroma, out=r)
    torch.addcmul(hi, (h6 - 2.0).abs_().sub_(1.0).clamp_(0.0, 1.0), chroma, value=-1.0, out=g)
    torch.addcmul(hi, (h6 - 4.0).abs_().sub_(1.0).clamp_(0.0, 1.0), chroma, value=-1.0, out=b)
    return x


def to_grey(x: torch.Tensor) -> torch.Tensor:
    return x.copy_(grey(x).expand_as(x))


def blur_kernel_size(sigma: float, side: int) -> int:
    """torchvision's ``2 ceil(3 sigma) + 1``, capped at the largest odd size that fits ``side``."""
    return min(2 * math.ceil(3 * sigma) + 1, side if side % 2 else side - 1)


def gaussian_weights(sigmas: Sequence[float], side: int) -> torch.Tensor:
    """Per-clip half kernels ``N x (R + 1)`` (tap 0 is the centre), zero beyond each clip's radius;
    each full kernel sums to 1."""
    radii = [blur_kernel_size(s, side) // 2 for s in sigmas]
    out = torch.zeros(len(sigmas), max(radii) + 1, dtype=torch.float64)
    for n, (s, r) in enumerate(zip(sigmas, radii)):
        t = torch.arange(r + 1, dtype=torch.float64)
        w = torch.exp(-0.5 * (t / s) ** 2)
        out[n, : r + 1] = w / (w[0] + 2 * w[1:].sum())
    return out.float()


def gaussian_blur(x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Blur each frame of ``N x T x C x H x W`` with the per-clip separable kernels of
    :func:`gaussian_weights` (reflect padding); returns a new tensor."""
    n, t, c, h, w = x.shape
    radius = weights.shape[1] - 1
    if n == 1:  # one clip (the workers' path): scalar taps, the fastest multiply-adds
        taps = weights[0].tolist()
    else:
        taps = [weights[:, i].to(x.device, x.dtype).view(-1, 1, 1, 1, 1) for i in range(radius + 1)]

    def along(y: torch.Tensor, dim: int, length: int) -> torch.Tensor:
        pad = (radius, radius, 0, 0) if dim == -1 else (0, 0, radius, radius)
        p = F.pad(y.reshape(n * t, c, *y.shape[-2:]), pad, mode="reflect")
        p = p.view(n, t, c, *p.shape[-2:])
        out = p.narrow(dim, radius, length) * taps[0]
        for i in range(1, radius + 1):
            for side in (p.narrow(dim, radius - i, length), p.narrow(dim, radius + i, length)):
                if n == 1:
                    out.add_(side, alpha=taps[i])
                else:
                    out.addcmul_(side, taps[i])
        return out

    return along(along(x, -1, w), -2, h)


# -- a clip's or a batch's colour parameters ------------------------------------------------------
_JITTER_OPS = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)
#: The jitter factors (brightness, contrast, saturation, hue) that leave a clip unchanged; those ops are skipped.
IDENTITY_FACTORS = (1.0, 1.0, 1.0, 0.0)


def _apply_to(x: torch.Tensor, rows: torch.Tensor, op, *args) -> None:
    """``x[rows] = op(x[rows], *args)`` (in place when ``rows`` is every clip)."""
    if len(rows) == x.shape[0]:
        out = op(x, *args)
        if out is not x:
            x.copy_(out)
        return
    idx = rows.to(x.device)
    x.index_copy_(0, idx, op(x.index_select(0, idx), *args))


def apply_color_batch(x: torch.Tensor, params: Sequence[Optional[ColorParams]]) -> torch.Tensor:
    """Apply ``params[n]`` to clip ``n`` of ``x`` (float ``N x T x 3 x H x W`` in [0, 1], any device),
    in place; ``None`` leaves a clip unchanged.  The op order may differ per clip: at each of the
    four positions, each op runs once on the clips that take it there."""
    def rows(select) -> torch.Tensor:
        return torch.tensor([n for n, p in enumerate(params) if p is not None and select(p)], dtype=torch.long)

    def run(select, op, value=None) -> None:
        r = rows(select)
        if len(r):
            args = () if value is None else (torch.tensor([value(params[n]) for n in r.tolist()]),)
            _apply_to(x, r, op, *args)

    run(lambda p: p.gray and p.gray_first, to_grey)
    for pos in range(4):
        for op in range(4):
            run(lambda p: (p.jitter is not None and p.jitter[0][pos] == op
                           and p.jitter[1][op] != IDENTITY_FACTORS[op]), _JITTER_OPS[op], lambda p: p.jitter[1][op])
    run(lambda p: p.gray and not p.gray_first, to_grey)
    side = min(x.shape[-2:])
    blurred = rows(lambda p: p.blur_sigma is not None and blur_kernel_size(p.blur_sigma, side) >= 3)
    if len(blurred):
        weights = gaussian_weights([params[n].blur_sigma for n in blurred.tolist()], side)
        _apply_to(x, blurred, gaussian_blur, weights)
    return x


def apply_color(x: torch.Tensor, p: ColorParams) -> torch.Tensor:
    """Apply ``p`` to one float clip ``T x 3 x H x W`` in [0, 1]; returns a new tensor."""
    return apply_color_batch(x.unsqueeze(0).clone(), [p])[0]
