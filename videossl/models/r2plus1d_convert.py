"""AVID-CMA ``.pth.tar`` checkpoints (``{"model"}``, the 15.4M R(2+1)D-18) -> the PySlowFast layout.

The ``avid`` checkpoint format of :mod:`videossl.models.convert`, beside the
model it maps onto (:class:`~videossl.models.r2plus1d.R2Plus1D`):
``video_model`` -> ``backbone``, ``video_proj.projection`` ->
``backbone.head.projection.projection``; the audio network is left unused.
"""

from collections import OrderedDict
from typing import List, Tuple

from .convert import StateDict, register_source


def _avid_to_ours(state: StateDict) -> Tuple[StateDict, List[str]]:
    out = OrderedDict()
    for k, v in state.items():
        if k.startswith("video_model."):
            out["backbone." + k[len("video_model."):]] = v
        elif k.startswith("video_proj.projection."):
            out["backbone.head.projection.projection." + k[len("video_proj.projection."):]] = v
        else:
            out[k] = v  # audio_model.*, audio_proj.*: not ours
    return out, []


def _ours_to_avid(state: StateDict) -> StateDict:
    out = OrderedDict()
    for k, v in state.items():
        if k.startswith("backbone.head.projection.projection."):
            out["video_proj.projection." + k[len("backbone.head.projection.projection."):]] = v
        elif k.startswith("backbone."):
            out["video_model." + k[len("backbone."):]] = v
        else:
            out[k] = v
    return out


register_source("avid", detect=lambda s, c: any(k.startswith("video_model.") for k in s),
                to_ours=_avid_to_ours, from_ours=_ours_to_avid, priority=40,
                doc="AVID-CMA .pth.tar {'model'} (module.video_model.*): video_model -> backbone, "
                    "video_proj.projection -> backbone.head.projection.projection")
