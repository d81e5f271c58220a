"""The reader interface every decoding backend implements, and its error type."""

from typing import List, Optional, Sequence

import numpy as np
import torch

from ...errors import VideosslError


class DecodeError(VideosslError, RuntimeError):
    """A video could not be opened or the requested frames could not be decoded.

    The message names the file.
    """


class VideoReader:
    """An open video: metadata first, then one ``read`` of the frames a sample needs.

    Attributes:
        path: the file (or frame folder) read.
        fps: native frames per second (average rate for variable-rate files).
        num_frames: number of frames (from the container's metadata where it
            has one; otherwise counted by decoding the whole video once).
    """

    path: str
    fps: float

    @property
    def num_frames(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, indices: Sequence[int]) -> torch.Tensor:
        """Frames ``indices`` (any order, repeats allowed) as ``uint8 len(indices) x H x W x 3``.

        Indices are clamped to ``[0, num_frames - 1]``; an index past the
        last frame that really decodes (metadata that over-counts, a
        truncated tail) repeats the last decoded frame.  Raises
        :class:`DecodeError` if no requested frame can be decoded.
        """
        raise NotImplementedError  # pragma: no cover - interface

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def gather(decoded: dict, indices: Sequence[int], path: str) -> torch.Tensor:
    """Stack ``decoded[i]`` (``H x W x 3`` uint8 arrays) in the order of ``indices``.

    An index with no decoded frame takes the nearest decoded frame before it
    (or, failing that, after it).
    """
    if not decoded:
        raise DecodeError(f"no frame could be decoded from {path}")
    have = np.array(sorted(decoded))
    out: List[np.ndarray] = []
    for i in indices:
        if i in decoded:
            out.append(decoded[i])
            continue
        pos = int(np.searchsorted(have, i, side="right")) - 1
        out.append(decoded[int(have[max(pos, 0)])])
    return torch.from_numpy(np.stack(out))


def short_side_size(height: int, width: int, max_short: Optional[int]) -> tuple:
    """(height, width) scaled so the short side is at most ``max_short`` (never upscaled)."""
    if not max_short or min(height, width) <= max_short:
        return height, width
    scale = max_short / min(height, width)
    return max(int(round(height * scale)), 1), max(int(round(width * scale)), 1)
