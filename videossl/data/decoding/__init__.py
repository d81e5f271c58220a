"""Video decoding: readers that open a video once and decode only the frames asked for.

``open_video(path, backend="pyav")`` returns a :class:`VideoReader`
(``fps``, ``num_frames``, ``read(indices) -> uint8 N x H x W x 3``).  A
directory is read as a folder of per-frame images.  ``backend="torchcodec"``
uses torchcodec when it imports and falls back to PyAV for any file it fails
on.
"""

from .base import DecodeError, VideoReader
from .open import available_backends, open_video

__all__ = ["DecodeError", "VideoReader", "open_video", "available_backends"]
