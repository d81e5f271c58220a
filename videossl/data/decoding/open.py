"""Pick a reader for a path: frame folder, PyAV, or torchcodec with a PyAV fallback."""

import logging
import os
from typing import Optional, Tuple

from ...errors import InputError
from .base import DecodeError, VideoReader
from .frames_reader import FrameFolderReader
from .pyav_reader import PyAVReader

logger = logging.getLogger(__name__)

BACKENDS = ("pyav", "torchcodec")


def available_backends() -> Tuple[str, ...]:
    """The backends that work in this environment (torchcodec only if it imports)."""
    from .torchcodec_reader import torchcodec_available

    return BACKENDS if torchcodec_available() else ("pyav",)


def open_video(path: str, backend: str = "pyav", max_short_side: Optional[int] = None,
               frame_fps: float = 30.0, threads: int = 1) -> VideoReader:
    """Open ``path`` (a file, or a directory of frame images read at ``frame_fps``).

    A missing ``a/b.mp4`` whose frames were extracted to the folder ``a/b/``
    reads that folder, so any dataset's list works with frame folders.

    ``backend`` "torchcodec" uses torchcodec when it is importable and the file
    opens with it; otherwise (and for any later torchcodec failure, see
    :class:`~.torchcodec_reader.FallbackReader`) PyAV reads the file.
    Raises :class:`DecodeError` naming the file if it cannot be opened.
    """
    if os.path.isdir(path):
        return FrameFolderReader(path, fps=frame_fps, max_short_side=max_short_side)
    if not os.path.exists(path):
        stem = os.path.splitext(path)[0]
        if stem != path and os.path.isdir(stem):  # frames extracted into a folder named like the video
            return FrameFolderReader(stem, fps=frame_fps, max_short_side=max_short_side)
        raise DecodeError(f"video file not found: {path}")
    if backend == "torchcodec":
        from .torchcodec_reader import FallbackReader, torchcodec_available

        if torchcodec_available():
            return FallbackReader(path, max_short_side=max_short_side, threads=threads)
    elif backend != "pyav":
        raise InputError(f"DATA.DECODING_BACKEND={backend!r} is not one of {BACKENDS}")
    return PyAVReader(path, max_short_side=max_short_side, threads=threads)
