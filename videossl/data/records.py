"""One row of a dataset's file list."""

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class VideoRecord:
    """A video (file or frame folder), its class, and its source group.

    ``source_id``: videos cut from the same source share it (UCF101 ``v_X_gYY``);
    otherwise it is the row index.  ``flow``: folder of ``flow_%05d.jpg`` frames
    for this video (CoCLR encoding), when flow is used.
    """

    path: str
    label: int
    source_id: int
    flow: Optional[str] = None
