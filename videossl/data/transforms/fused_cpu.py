"""One clip's float conversion, flip, colour, blur and normalisation as fused CPU kernels (numba).

The loader's workers spend most of their augmentation time in the per-pixel colour ops: each torch
op of :mod:`.color` streams the whole clip through memory, and the hue alone takes about 20 of
them.  :func:`augment_clip` does the same work in a few passes, compiled by numba
(:mod:`._numba_kernels`):

1. uint8 -> float ``x / 255`` into the planar ``3 x T x H x W`` output, mirrored if flipped;
2. the colour ops in the clip's order (grey, jitter, grey), all of them on a 2048-pixel chunk
   while it sits in L1 (a contrast op first sums the whole clip for its mean);
3. the Gaussian blur (rows, then columns, 13 taps with the ones past the radius zero) with the
   normalisation ``(x - MEAN) / STD`` folded into the column pass.

Same formulas, same float32 operations in the same order as the torch kernels, so the output
equals :meth:`ClipTransform.apply`'s torch path up to float rounding (``tests/test_fused_cpu.py``:
within 2e-6 on [0, 1] values; clips without colour or blur are bit-identical).
Without numba (:func:`available` False), or for a blur wider than 13 taps or a side under 7
pixels, the torch kernels do that part.
"""

from typing import Optional, Sequence

import numpy as np
import torch

from .color import IDENTITY_FACTORS, ColorParams, apply_color_batch, blur_kernel_size, gaussian_weights

_kernels = None


def available() -> bool:
    """Whether numba imports (the kernels compile on first use, then load from numba's disk cache)."""
    global _kernels
    if _kernels is None:
        try:
            from . import _numba_kernels
        except ImportError:
            _kernels = False
        else:
            _kernels = _numba_kernels
    return _kernels is not False


def _op_list(color: Optional[ColorParams]):
    """(op codes, factors) of ``color``'s pointwise ops in the order :func:`.color.apply_color_batch` runs them."""
    k = _kernels
    ops = []
    if color is not None:
        if color.gray and color.gray_first:
            ops.append((k.GREY, 0.0))
        if color.jitter is not None:
            order, values = color.jitter
            codes = (k.BRIGHTNESS, k.CONTRAST, k.SATURATION, k.HUE)
            ops += [(codes[op], values[op]) for op in order if values[op] != IDENTITY_FACTORS[op]]
        if color.gray and not color.gray_first:
            ops.append((k.GREY, 0.0))
    return np.array([c for c, _ in ops], dtype=np.int64), np.array([f for _, f in ops], dtype=np.float32)


def augment_clip(frames: torch.Tensor, flip: bool, color: Optional[ColorParams],
                 mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 ``T x H x W x 3`` (CPU) -> float32 ``3 x T x H x W``: ``frames / 255``, mirrored if ``flip``,
    ``color`` applied, normalised by ``mean`` / ``std``; as the torch path of :meth:`ClipTransform.apply`
    after its crop.  Needs :func:`available`.

    Example::

        >>> clip = augment_clip(torch.zeros(8, 112, 112, 3, dtype=torch.uint8), False, None, [0.5] * 3, [0.25] * 3)
        >>> clip.shape, float(clip[0, 0, 0, 0])
        (torch.Size([3, 8, 112, 112]), -2.0)
    """
    if not available():
        raise RuntimeError("augment_clip needs numba (pip install numba); ClipTransform falls back by itself")
    if frames.dtype != torch.uint8 or frames.dim() != 4 or frames.shape[-1] != 3 or frames.device.type != "cpu":
        raise ValueError(f"augment_clip takes uint8 T x H x W x 3 frames on the CPU, "
                         f"got {frames.dtype} {tuple(frames.shape)} on {frames.device}")
    mean32, std32 = np.asarray(mean, dtype=np.float32), np.asarray(std, dtype=np.float32)
    if mean32.shape != (3,) or std32.shape != (3,):
        raise ValueError(f"augment_clip needs 3 means and 3 stds, got {list(mean)} and {list(std)}")
    k = _kernels
    t, h, w, _ = frames.shape
    src = frames.numpy()
    if not src.flags.c_contiguous:
        src = np.ascontiguousarray(src)
    out = np.empty((3, t, h, w), dtype=np.float32)
    k.to_unit(src, out, bool(flip))
    codes, factors = _op_list(color)
    if len(codes):
        k.pointwise(out.reshape(3, -1), codes, factors)
    sigma = None if color is None else color.blur_sigma
    radius = 0 if sigma is None else blur_kernel_size(sigma, min(h, w)) // 2
    result = torch.from_numpy(out)
    if radius == 0:  # the torch path skips kernels of size 1 too
        k.blur_normalize(out, np.zeros(k.MAX_RADIUS + 1, np.float32), mean32, std32, False)
    elif radius <= k.MAX_RADIUS and min(h, w) > k.MAX_RADIUS:
        taps = np.zeros(k.MAX_RADIUS + 1, np.float32)
        taps[: radius + 1] = gaussian_weights([sigma], min(h, w))[0].numpy()
        k.blur_normalize(out, taps, mean32, std32, True)
    else:  # a wider kernel, or a tiny clip: torch's blur (in place on ``out``), then the normalisation
        apply_color_batch(result.transpose(0, 1).unsqueeze(0), [ColorParams(blur_sigma=sigma)])
        k.blur_normalize(out, np.zeros(k.MAX_RADIUS + 1, np.float32), mean32, std32, False)
    return result
