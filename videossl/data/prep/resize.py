"""Re-encode a video to a short side and a dense keyframe interval (mmaction2's ``--dense``, ``-g 16``)."""

import os
from fractions import Fraction
from typing import Optional, Tuple

import av

from ..decoding.base import short_side_size


def _even(x: int) -> int:
    return max(2, x - x % 2)


def resize_video(src: str, dst: str, short_side: Optional[int] = 256, gop: int = 16, crf: int = 23,
                 preset: str = "veryfast", keep_audio: bool = False,
                 size: Optional[Tuple[int, int]] = None) -> dict:
    """Write ``src`` as H.264 ``dst`` with short side ``short_side`` (never upscaled; None keeps the size)
    or, with ``size = (width, height)``, exactly that size (aspect ratio not kept: every video of a
    dataset the same size, so that resolution and shape cannot tell classes apart),
    and a keyframe every ``gop`` frames; same frame rate and timestamps.  Audio is dropped unless
    ``keep_audio``.  Written to ``dst + '.tmp'`` and renamed, so an interrupted run leaves no
    half-written file.  Returns ``{"frames", "width", "height", "fps"}``.
    """
    os.makedirs(os.path.dirname(os.path.abspath(dst)) or ".", exist_ok=True)
    tmp = dst + ".tmp" + os.path.splitext(dst)[1]
    frames = 0
    with av.open(src) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        if size is not None:
            w, h = size
        else:
            h, w = short_side_size(vin.codec_context.height, vin.codec_context.width, short_side)
        h, w = _even(h), _even(w)
        rate = vin.average_rate or vin.guessed_rate or Fraction(30)
        with av.open(tmp, "w") as out:
            vout = out.add_stream("libx264", rate=rate)
            vout.width, vout.height, vout.pix_fmt = w, h, "yuv420p"
            vout.time_base = vin.time_base
            vout.options = {"crf": str(crf), "preset": preset,
                            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
            aout = None
            if keep_audio and inp.streams.audio:
                ain = inp.streams.audio[0]
                aout = out.add_stream("aac", rate=ain.rate)
            streams = [vin] + ([inp.streams.audio[0]] if aout is not None else [])
            for packet in inp.demux(*streams):
                for frame in packet.decode():
                    if packet.stream.type == "video":
                        frame = frame.reformat(width=w, height=h, format="yuv420p")
                        frame.pict_type = av.video.frame.PictureType.NONE
                        for p in vout.encode(frame):
                            out.mux(p)
                        frames += 1
                    else:
                        frame.pts = None
                        for p in aout.encode(frame):
                            out.mux(p)
            for p in vout.encode():
                out.mux(p)
            if aout is not None:
                for p in aout.encode():
                    out.mux(p)
    os.replace(tmp, dst)
    return {"frames": frames, "width": w, "height": h, "fps": float(rate)}
