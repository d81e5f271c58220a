"""TV-L1 optical flow of a video, stored as CoCLR stores it (``flow_%05d.jpg``, see ``videossl/data/flow.py``).

OpenCV is an optional extra (``pip install opencv-contrib-python-headless``):
only this module imports it, and only when called.
"""

import os
import shutil
from typing import Optional

import numpy as np

from ...errors import InputError
from ..decoding.pyav_reader import PyAVReader
from ..flow import BOUND, FLOW_TEMPLATE, write_flow_jpeg


def tvl1():
    """OpenCV's Dual TV-L1 estimator with its default parameters (as CoCLR's extraction script)."""
    try:
        import cv2
    except ImportError:
        raise InputError("optical flow needs OpenCV's contrib modules: "
                         "pip install opencv-contrib-python-headless") from None
    if hasattr(cv2, "optflow"):
        return cv2.optflow.DualTVL1OpticalFlow_create()
    raise InputError("this OpenCV has no cv2.optflow (TV-L1): pip install opencv-contrib-python-headless")


def gray(rgb: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 RGB -> H x W uint8 luma (ITU-R 601, as ``cv2.COLOR_RGB2GRAY``)."""
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def flow_between(estimator, prev_gray: np.ndarray, next_gray: np.ndarray) -> np.ndarray:
    """H x W x 2 float32 flow (x, y) in pixels from ``prev_gray`` to ``next_gray``, clipped to +-BOUND."""
    flow = estimator.calc(prev_gray, next_gray, None)
    return np.clip(flow, -BOUND, BOUND)


def extract_flow(src: str, dst_dir: str, short_side: Optional[int] = None, quality: int = 95,
                 threads: int = 0) -> int:
    """TV-L1 flow between consecutive frames of ``src`` into ``dst_dir/flow_%05d.jpg`` (N - 1 files).

    Frames are downscaled to ``short_side`` first if given (use the size the
    RGB frames are stored at, so that flow and frames share pixel indices).
    Written into a temporary folder renamed at the end, so an interrupted or
    failed video leaves nothing behind and a finished one is complete.
    ``threads``: OpenCV's threads in this process (0 = OpenCV's default, all cores).
    Returns the number of flow images.
    """
    tmp = dst_dir.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        estimator = tvl1()
        if threads:
            import cv2

            cv2.setNumThreads(threads)
        reader = PyAVReader(src, max_short_side=short_side, threads=0)
        try:
            prev, count = None, 0
            for frame in reader._container.decode(reader._stream):  # sequential: every frame once
                cur = gray(reader._to_rgb(frame))
                if prev is not None:
                    count += 1
                    write_flow_jpeg(os.path.join(tmp, FLOW_TEMPLATE.format(count)),
                                    flow_between(estimator, prev, cur), quality=quality)
                prev = cur
        finally:
            reader.close()
        if count == 0:
            raise InputError(f"{src}: fewer than 2 frames, no flow")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if os.path.isdir(dst_dir):
        shutil.rmtree(dst_dir)
    os.replace(tmp, dst_dir)
    return count
