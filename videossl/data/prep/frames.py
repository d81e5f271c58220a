"""Extract a video's frames as JPEG images (``image_00001.jpg`` ..., as CoCLR / mmaction2)."""

import os
import shutil
from typing import Optional

from PIL import Image

from ..decoding.pyav_reader import PyAVReader


def extract_frames(src: str, dst_dir: str, short_side: Optional[int] = None, quality: int = 95,
                   template: str = "image_{:05d}.jpg") -> int:
    """Decode every frame of ``src`` (downscaled to ``short_side`` if given) into ``dst_dir``.

    Written into a temporary folder renamed at the end (removed if decoding fails).  Returns the
    number of frames.
    """
    tmp = dst_dir.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        reader = PyAVReader(src, max_short_side=short_side, threads=0)
        try:
            count = 0
            for frame in reader._container.decode(reader._stream):  # sequential: every frame once
                count += 1
                Image.fromarray(reader._to_rgb(frame)).save(os.path.join(tmp, template.format(count)),
                                                            quality=quality)
        finally:
            reader.close()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed video leaves nothing behind
        raise
    if os.path.isdir(dst_dir):
        shutil.rmtree(dst_dir)
    os.replace(tmp, dst_dir)
    return count
