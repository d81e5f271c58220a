"""The two input streams of CoCLR and ViCC: RGB clips (``batch["views"]``) and optical flow (``batch["flow"]``)."""

from typing import Dict, List

import torch

from ..errors import InputError

#: stream name -> batch field
STREAMS = {"rgb": "views", "flow": "flow"}


def check_stream(stream: str) -> str:
    """``stream`` if it is "rgb" or "flow"; else a one-line error naming ``SSL.COCLR_STREAM``."""
    if stream not in STREAMS:
        raise InputError(f"SSL.COCLR_STREAM={stream!r} is not one of {tuple(STREAMS)}")
    return stream


def other_stream(stream: str) -> str:
    return "flow" if stream == "rgb" else "rgb"


def stream_clips(batch: Dict, stream: str, who: str) -> List[torch.Tensor]:
    """The two clips (B x C x T x H x W each) of ``stream`` in ``batch``; ``who`` names the method in errors."""
    field = STREAMS[stream]
    if field not in batch:
        raise InputError(f"{who} on the {stream} stream needs batch[{field!r}]: set DATA.USE_FLOW True")
    clips = list(batch[field])
    if len(clips) != 2:
        raise InputError(f"{who} takes exactly 2 clips per video (DATA.TRAIN_CROP_NUM_TEMPORAL 2), "
                         f"got {len(clips)}")
    return clips
