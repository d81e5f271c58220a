"""Clip-consistent RandAugment and random erasing (PySlowFast ``AUG.AA_TYPE`` / ``AUG.RE_*``), from timm.

Both apply timm's own transforms with **one parameter draw per clip**: every
frame gets the same ops, magnitudes, interpolation and erased box, as
PySlowFast's video versions of these timm transforms do.  RandAugment replays
the random state of timm's draws for each frame; random erasing treats the
clip's C*T planes as one image, so one box covers every frame.

Signatures (for the data pipeline, called once per clip)::

    ra = build_clip_randaug(cfg)          # None unless AUG.ENABLE and AUG.AA_TYPE
    frames = ra(frames, seed=s)           # uint8 T x H x W x C -> same shape/dtype
                                          # (before mean/std normalisation, as PySlowFast)
    re = build_clip_random_erasing(cfg)   # None unless AUG.ENABLE and AUG.RE_PROB > 0
    clip = re(clip, seed=s)               # float C x T x H x W (normalised) -> new tensor

``seed`` (an int derived from seed/epoch/index/clip) makes the draw
reproducible without touching the caller's global RNG; with ``seed=None`` a
seed is drawn from Python's ``random`` (one draw).
"""

import random
from typing import Optional, Sequence

import numpy as np
import torch
from PIL import Image
from timm.data import auto_augment as timm_aa
from timm.data.auto_augment import rand_augment_transform
from timm.data.random_erasing import RandomErasing
from timm.data.transforms import str_to_pil_interp

from ..errors import InputError


def _posterize(img: Image.Image, bits_to_keep: int, **kwargs) -> Image.Image:
    """timm's posterize, also for 0 bits.

    timm's ``PosterizeIncreasing`` keeps ``4 - int(0.4 * level)`` bits, i.e. 0 at
    magnitude 10 (reached by ``m9`` with ``mstd0.5``); Pillow 13 (the pinned one) refuses 0 bits,
    older Pillow returned a black image, which this reproduces.
    """
    if bits_to_keep <= 0:
        return Image.new(img.mode, img.size)
    return timm_aa.posterize(img, bits_to_keep, **kwargs)


def _seed_or_draw(seed: Optional[int]) -> int:
    return random.getrandbits(32) if seed is None else int(seed) % 2**32


class ClipRandAugment:
    """timm RandAugment (e.g. ``rand-m7-n4-mstd0.5-inc1``) with the same draw for all frames.

    Args:
        aa_type: timm config string; must start with ``rand``.
        interpolation: ``bicubic`` / ``bilinear`` / ... or ``random`` (timm's random choice).
        crop_size: short side of the frames; translations are 0.45 of it (PySlowFast).
        mean: fill colour of geometric ops, in [0, 1] per channel (None: timm's grey).
    """

    def __init__(self, aa_type: str, interpolation: str = "bicubic", crop_size: int = 224,
                 mean: Optional[Sequence[float]] = None):
        if not aa_type.startswith("rand"):
            raise InputError(f"AUG.AA_TYPE={aa_type!r}: only RandAugment ('rand-...') is supported")
        hparams = {"translate_const": int(crop_size * 0.45)}
        if interpolation and interpolation != "random":
            hparams["interpolation"] = str_to_pil_interp(interpolation)
        if mean is not None:
            hparams["img_mean"] = tuple(round(255 * m) for m in mean)
        self.transform = rand_augment_transform(aa_type, hparams)
        for op in self.transform.ops:
            if op.aug_fn is timm_aa.posterize:
                op.aug_fn = _posterize

    def __call__(self, frames: torch.Tensor, seed: Optional[int] = None) -> torch.Tensor:
        """``uint8 T x H x W x C -> uint8 T x H x W x C``."""
        seed = _seed_or_draw(seed)
        saved = random.getstate(), np.random.get_state()
        out = []
        try:
            for frame in frames.cpu().numpy():
                random.seed(seed)
                np.random.seed(seed)
                out.append(np.asarray(self.transform(Image.fromarray(frame))))
        finally:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
        return torch.from_numpy(np.stack(out))


class ClipRandomErasing:
    """timm RandomErasing with one box (or ``count`` boxes) shared by all frames of a clip.

    Args:
        prob: probability of erasing (``AUG.RE_PROB``).
        mode: ``const`` / ``rand`` / ``pixel`` fill (``AUG.RE_MODE``); ``pixel``
            draws N(0, 1) noise in normalised units for every erased value.
        count: maximum number of boxes (``AUG.RE_COUNT``).
    """

    def __init__(self, prob: float = 0.25, mode: str = "pixel", count: int = 1):
        self.eraser = RandomErasing(prob, mode=mode, max_count=count, device="cpu")

    def __call__(self, clip: torch.Tensor, seed: Optional[int] = None) -> torch.Tensor:
        """Normalised ``C x T x H x W`` float clip -> a new erased clip."""
        seed = _seed_or_draw(seed)
        c, t, h, w = clip.shape
        out = clip.clone().reshape(c * t, h, w)
        saved = random.getstate()
        try:
            random.seed(seed)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self.eraser(out)  # a 3-D input is one image: one box for all C*T planes
        finally:
            random.setstate(saved)
        return out.reshape(c, t, h, w)


def build_clip_randaug(cfg) -> Optional[ClipRandAugment]:
    """From AUG.ENABLE / AUG.AA_TYPE / AUG.INTERPOLATION / DATA.TRAIN_CROP_SIZE / DATA.MEAN."""
    if not cfg.AUG.ENABLE or not cfg.AUG.AA_TYPE:
        return None
    return ClipRandAugment(cfg.AUG.AA_TYPE, cfg.AUG.INTERPOLATION, cfg.DATA.TRAIN_CROP_SIZE, None)


def build_clip_random_erasing(cfg) -> Optional[ClipRandomErasing]:
    """From AUG.ENABLE / AUG.RE_PROB / AUG.RE_MODE / AUG.RE_COUNT."""
    if not cfg.AUG.ENABLE or cfg.AUG.RE_PROB <= 0:
        return None
    return ClipRandomErasing(cfg.AUG.RE_PROB, cfg.AUG.RE_MODE, cfg.AUG.RE_COUNT)
