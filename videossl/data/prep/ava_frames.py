"""Cut AVA's 15-minute clips into 30 fps frame folders and write PySlowFast's frame lists.

AVA annotates seconds 902-1798 of each movie; PySlowFast reads the cut
[900 s, 1800 s) as 30 fps JPEG frames ``<video>/<video>_%06d.jpg`` (1-based),
so keyframe second ``s`` is frame ``(s - 900) * 30``. The resampling is
ffmpeg's ``-r 30``: output frame ``k`` shows the last source frame whose
timestamp is at or before ``start + k / fps``.
"""

import os
import shutil
from typing import Optional, Sequence, Tuple

from PIL import Image

from ..decoding.pyav_reader import PyAVReader

TEMPLATE = "{video}_{index:06d}.jpg"


def extract_ava_frames(src: str, dst_dir: str, video: str, start: float = 900.0, end: float = 1800.0,
                       fps: float = 30.0, short_side: Optional[int] = None, quality: int = 95) -> int:
    """Write the ``[start, end)`` seconds of ``src`` at ``fps`` into ``dst_dir``; returns the frame count.

    Frames before the first decoded one repeat it; after the video ends the
    last one repeats (the cut is always ``(end - start) * fps`` frames, as the
    frame lists expect). Written into a temporary folder renamed at the end.
    """
    tmp = dst_dir.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    total = int(round((end - start) * fps))
    try:
        reader = PyAVReader(src, max_short_side=short_side, threads=0)
        try:
            container, stream = reader._container, reader._stream
            tb = float(stream.time_base)
            container.seek(int(max(start - 1.0, 0) / tb), stream=stream, backward=True, any_frame=False)
            k, last = 0, None
            for frame in container.decode(stream):
                t = frame.pts * tb if frame.pts is not None else None
                if t is None:
                    continue
                while k < total and start + k / fps < t - 1e-6:  # output times before this frame: the previous one
                    if last is None:
                        last = reader._to_rgb(frame)
                    Image.fromarray(last).save(os.path.join(tmp, TEMPLATE.format(video=video, index=k + 1)),
                                               quality=quality)
                    k += 1
                last = reader._to_rgb(frame)
                if k >= total:
                    break
            while k < total and last is not None:  # the video ended before the cut did
                Image.fromarray(last).save(os.path.join(tmp, TEMPLATE.format(video=video, index=k + 1)),
                                           quality=quality)
                k += 1
        finally:
            reader.close()
        if os.path.isdir(dst_dir):
            shutil.rmtree(dst_dir)
        os.rename(tmp, dst_dir)
        return k
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_frame_list(path: str, videos: Sequence[Tuple[str, int]]) -> None:
    """PySlowFast's frame list for ``(video, number of frames)`` pairs: a header, then
    ``original_vido_id video_id frame_id path labels`` per frame (``labels`` empty: ``""``)."""
    with open(path, "w") as f:
        f.write("original_vido_id video_id frame_id path labels\n")
        for idx, (video, n) in enumerate(videos):
            for k in range(n):
                f.write(f'{video} {idx} {k} {video}/{TEMPLATE.format(video=video, index=k + 1)} ""\n')
