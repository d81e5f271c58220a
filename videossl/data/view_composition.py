"""Which sampled clip each training view is cut from, and whether it gets colour augmentation.

By default every sampled clip gives its own views, each with the full
augmentation (``"clips"``).  CoCLR and ViCC compose their two views
differently (CoCLR's ``TransformController``), which :func:`coclr_plan`
draws for one sample:

* with probability 1/2, **TwoClip**: view v comes from clip v, and gets the
  ``base`` augmentation (crop, colour jitter p 0.8, grey p 0.2, blur p 0.5,
  flip) with probability ``p_color`` (0.3), else ``null`` (crop and flip
  only);
* otherwise **OneClip**: one of the two clips, chosen uniformly, gives both
  views, one ``base`` and one ``null`` (which of the two views is ``base`` is
  uniform too); the other clip is not used.

So a view is coloured with probability 1/2·0.3 + 1/2·1/2 = 0.4, and the two
views share their frames half of the time.  Crops and flips are always drawn
independently per view.
"""

from typing import NamedTuple, Tuple

import numpy as np

from ..errors import InputError

COMPOSITIONS = ("clips", "coclr")


class ViewPlan(NamedTuple):
    """One training view: the index of its clip among the sampled clips, and colour on or off."""

    clip: int
    color: bool


def coclr_plan(rng: np.random.Generator, p_color: float = 0.3) -> Tuple[ViewPlan, ViewPlan]:
    """CoCLR's TwoClip(p_color) / OneClip choice for one sample of two clips: two :class:`ViewPlan`."""
    if rng.uniform() < 0.5:  # TwoClip
        return ViewPlan(0, bool(rng.uniform() < p_color)), ViewPlan(1, bool(rng.uniform() < p_color))
    clip = int(rng.uniform() < 0.5)
    base_first = bool(rng.uniform() < 0.5)
    return ViewPlan(clip, base_first), ViewPlan(clip, not base_first)


def check_composition(name: str, num_clips: int, num_augs: int) -> None:
    """Raise a one-line error unless ``name`` is known and fits ``num_clips`` x ``num_augs`` views."""
    if name not in COMPOSITIONS:
        raise InputError(f"DATA.SSL_VIEW_COMPOSITION={name!r} is not one of {COMPOSITIONS}")
    if name == "coclr" and (num_clips != 2 or num_augs != 1):
        raise InputError(
            "DATA.SSL_VIEW_COMPOSITION coclr composes two views from two clips: it needs "
            f"DATA.TRAIN_CROP_NUM_TEMPORAL 2 and one augmentation per clip (got {num_clips} clips x {num_augs})"
        )
