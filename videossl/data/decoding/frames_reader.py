"""A folder of per-frame images (``image_00001.jpg``, ``img_00001.jpg``, ``000001.jpg`` ...) as a video."""

import os
from typing import List, Optional, Sequence

import numpy as np
import torch
from PIL import Image

from .base import DecodeError, VideoReader, short_side_size

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def list_frames(folder: str) -> List[str]:
    """Image files of ``folder`` sorted by name (the frame order)."""
    try:
        names = os.listdir(folder)
    except OSError as err:
        raise DecodeError(f"cannot list frame folder {folder}: {err}") from None
    return sorted(n for n in names if n.lower().endswith(IMAGE_EXTENSIONS))


class FrameFolderReader(VideoReader):
    """Frames stored as images; frame ``i`` is the i-th image in name order.

    Args:
        folder: the directory.
        fps: the rate the frames were extracted at (folders carry no timing).
        max_short_side: downscale (never upscale) so the short side is at most this.
        frames: optional pre-computed sorted file names (saves a listdir).
    Raises:
        DecodeError: the folder is missing or holds no image.
    """

    def __init__(self, folder: str, fps: float = 30.0, max_short_side: Optional[int] = None,
                 frames: Optional[Sequence[str]] = None):
        self.path = str(folder)
        self.fps = float(fps)
        self.max_short_side = max_short_side
        self._names = list(frames) if frames is not None else list_frames(self.path)
        if not self._names:
            raise DecodeError(f"no frame images in {self.path}")

    @property
    def num_frames(self) -> int:
        return len(self._names)

    def _load(self, i: int) -> torch.Tensor:
        path = os.path.join(self.path, self._names[i])
        try:
            with Image.open(path) as img:
                h, w = short_side_size(img.height, img.width, self.max_short_side)
                if (h, w) != (img.height, img.width):
                    img.draft("RGB", (w, h))  # JPEG: decode at a reduced scale when possible
                    img = img.convert("RGB").resize((w, h), Image.BILINEAR)
                arr = np.asarray(img.convert("RGB"))
        except (OSError, ValueError, SyntaxError) as err:
            raise DecodeError(f"cannot decode frame {path}: {err}") from None
        return torch.from_numpy(arr.copy())

    def read(self, indices: Sequence[int]) -> torch.Tensor:
        clamped = [min(max(int(i), 0), self.num_frames - 1) for i in indices]
        cache = {i: self._load(i) for i in sorted(set(clamped))}
        return torch.stack([cache[i] for i in clamped])
