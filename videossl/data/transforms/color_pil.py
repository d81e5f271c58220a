"""PySlowFast's colour augmentation with PIL, kept as the reference for the tensor kernels.

PySlowFast (``color_jitter_video_ssl``) runs torchvision's PIL ``ColorJitter``
/ ``RandomGrayscale`` / PIL ``GaussianBlur`` on the clip laid out as one tall
uint8 image; this project did the same, after the crop and with the blur per
frame, until 2026-12-06.  :func:`apply_color_pil` is that path.  The loader uses
:mod:`.color`; ``tests/test_colour_kernels.py`` bounds the difference and
``benchmarks/bench_augment.py`` times both.
"""

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from .color import ColorParams


def apply_color_pil(frames: np.ndarray, p: ColorParams) -> np.ndarray:
    """``p`` applied to ``uint8 T x H x W x 3`` frames with PIL (uint8 after every op); a new array."""
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
    out = np.array(img).reshape(t, h, w, 3)
    if p.blur_sigma is not None:
        blur = ImageFilter.GaussianBlur(radius=p.blur_sigma)
        out = np.stack([np.asarray(Image.fromarray(f).filter(blur)) for f in out])  # per frame
    return out
