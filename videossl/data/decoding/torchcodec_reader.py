"""torchcodec reader (optional), with PyAV as the fallback for files torchcodec fails on."""

import functools
import logging
from typing import Optional, Sequence

import torch

from .base import DecodeError, VideoReader, short_side_size
from .pyav_reader import PyAVReader

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def torchcodec_available() -> bool:
    """True when torchcodec imports and has loaded FFmpeg's shared libraries.

    Recent torchcodec imports without FFmpeg (then ``torchcodec.ffmpeg_major_version``
    is None) and fails only when a decoder opens a file.
    """
    try:
        import torchcodec
        from torchcodec.decoders import VideoDecoder  # noqa: F401
    except Exception:  # noqa: BLE001 - ImportError, OSError or RuntimeError from missing libs
        return False
    return getattr(torchcodec, "ffmpeg_major_version", 0) is not None


class TorchCodecReader(VideoReader):
    """torchcodec's ``VideoDecoder`` in exact seek mode; ``read`` sorts indices itself.

    Raises:
        DecodeError: torchcodec cannot open the file.
    """

    def __init__(self, path: str, max_short_side: Optional[int] = None, threads: int = 1):
        from torchcodec.decoders import VideoDecoder

        self.path = str(path)
        self.max_short_side = max_short_side
        try:
            self._dec = VideoDecoder(self.path, dimension_order="NHWC", num_ffmpeg_threads=threads,
                                     seek_mode="exact")
            meta = self._dec.metadata
        except Exception as err:  # noqa: BLE001 - torchcodec raises RuntimeError/ValueError
            raise DecodeError(f"torchcodec cannot open {self.path}: {err}") from None
        self.fps = float(meta.average_fps or 30.0)
        self._num = int(meta.num_frames or 0)
        if self._num <= 0:
            raise DecodeError(f"torchcodec found no frames in {self.path}")

    @property
    def num_frames(self) -> int:
        return self._num

    def read(self, indices: Sequence[int]) -> torch.Tensor:
        clamped = [min(max(int(i), 0), self._num - 1) for i in indices]
        unique = sorted(set(clamped))
        try:
            frames = self._dec.get_frames_at(indices=unique).data  # N x H x W x 3 uint8
        except Exception as err:  # noqa: BLE001
            raise DecodeError(f"torchcodec cannot decode {self.path}: {err}") from None
        h, w = short_side_size(frames.shape[1], frames.shape[2], self.max_short_side)
        if (h, w) != tuple(frames.shape[1:3]):
            x = frames.permute(0, 3, 1, 2).float()
            x = torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", antialias=True,
                                                align_corners=False)
            frames = x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        pos = {i: k for k, i in enumerate(unique)}
        return frames[[pos[i] for i in clamped]].contiguous()


class FallbackReader(VideoReader):
    """torchcodec first; PyAV when torchcodec fails to open or to decode the file."""

    def __init__(self, path: str, max_short_side: Optional[int] = None, threads: int = 1):
        self.path = str(path)
        self._args = dict(max_short_side=max_short_side, threads=threads)
        try:
            self._reader: VideoReader = TorchCodecReader(path, **self._args)
            self.backend = "torchcodec"
        except DecodeError as err:
            logger.debug("falling back to PyAV: %s", err)
            self._reader = PyAVReader(path, **self._args)
            self.backend = "pyav"
        self.fps = self._reader.fps

    @property
    def num_frames(self) -> int:
        return self._reader.num_frames

    def read(self, indices: Sequence[int]) -> torch.Tensor:
        try:
            return self._reader.read(indices)
        except DecodeError as err:
            if self.backend == "pyav":
                raise
            logger.debug("falling back to PyAV: %s", err)
            self._reader.close()
            self._reader = PyAVReader(self.path, **self._args)
            self.backend = "pyav"
            return self._reader.read(indices)

    def close(self) -> None:
        self._reader.close()
