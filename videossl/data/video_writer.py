"""Write uint8 frames to a video file with PyAV (H.264 by default; used by the synthetic set, tools and tests)."""

from fractions import Fraction
from typing import Iterable, Optional

import av
import numpy as np

from ..errors import InputError


def write_video(path: str, frames: Iterable[np.ndarray], fps: float = 30.0, codec: str = "libx264",
                gop: Optional[int] = 16, crf: Optional[int] = 18, preset: str = "veryfast",
                pix_fmt: str = "yuv420p", bframes: Optional[int] = None,
                options: Optional[dict] = None) -> int:
    """Encode ``frames`` (each ``H x W x 3`` uint8 RGB, H and W even for yuv420p) into ``path``.

    Args:
        gop: keyframe interval in frames (``-g``); None keeps the encoder's default.
        crf: x264 constant rate factor (lower = better); ignored by other codecs.
        bframes: x264 B-frames (None: encoder default).
        options: extra encoder options (default ``threads=1``).
    Returns the number of frames written.  Output bytes are reproducible for
    frame sizes that are multiples of 16 (x264 with one thread); other sizes
    decode to the same frames within codec noise but may differ in bytes.
    """
    rate = Fraction(fps).limit_denominator(1001)
    count = 0
    with av.open(str(path), mode="w") as container:
        stream = None
        for frame in frames:
            arr = np.ascontiguousarray(frame, dtype=np.uint8)
            if stream is None:
                stream = container.add_stream(codec, rate=rate)
                stream.height, stream.width = arr.shape[:2]
                stream.pix_fmt = pix_fmt
                opts = {"threads": "1"}  # many small files: thread start-up would dominate
                if codec in ("libx264", "h264", "libx265"):
                    opts["preset"] = preset
                    if crf is not None:
                        opts["crf"] = str(crf)
                    if bframes is not None:
                        opts["bf"] = str(bframes)
                if gop is not None:
                    stream.codec_context.gop_size = int(gop)
                    if codec in ("libx264", "h264"):
                        opts["x264-params"] = f"keyint={int(gop)}:min-keyint={int(gop)}:scenecut=0"
                opts.update(options or {})
                stream.options = opts
            video_frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            if pix_fmt != "rgb24":
                # convert here, not inside encode(): the encoder's own conversion made output bytes
                # depend on uninitialised memory (same frames, different files)
                video_frame = video_frame.reformat(format=pix_fmt)
            for packet in stream.encode(video_frame):
                container.mux(packet)
            count += 1
        if stream is None:
            raise InputError(f"no frames to write to {path}")
        for packet in stream.encode():
            container.mux(packet)
    return count
