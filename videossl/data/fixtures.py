"""Tiny on-disk datasets for tests and examples, in the real datasets' layouts.

Videos are real H.264 files written with PyAV.  :func:`numbered_frames` makes
frames whose grey level encodes the frame number, so a test can tell exactly
which frames a decoder returned (:func:`frame_numbers`).
"""

import os
from typing import List, Optional, Sequence

import numpy as np

from .video_writer import write_video

STEP = 4  # grey-level step between consecutive frames (frame i has level STEP * i + 2, mod 256)


def numbered_frames(num_frames: int, height: int = 32, width: int = 48, offset: int = 0) -> np.ndarray:
    """``T x H x W x 3`` uint8 frames; frame ``i`` is flat grey ``STEP * (i + offset) + 2`` (mod 256)
    with a small bright square that moves right by one pixel per frame (so there is motion)."""
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    for i in range(num_frames):
        frames[i] = (STEP * (i + offset) + 2) % 256
        x = i % max(width - 4, 1)
        frames[i, 1:4, x:x + 3] = 255
    return frames


def frame_numbers(frames, offset: int = 0) -> List[int]:
    """Recover the frame numbers of decoded :func:`numbered_frames` (``N x H x W x 3``, any array)."""
    arr = np.asarray(frames)
    level = arr[:, -4:, :, :].reshape(len(arr), -1).mean(axis=1)  # bottom rows: no square
    return [int(round((v - 2) / STEP)) - offset for v in level]


def write_numbered_video(path: str, num_frames: int, height: int = 32, width: int = 48, fps: float = 30.0,
                         gop: int = 16, offset: int = 0) -> str:
    """A lossless-luma H.264 file of :func:`numbered_frames` (``crf 0``)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_video(path, numbered_frames(num_frames, height, width, offset), fps=fps, gop=gop, crf=0)
    return path


def write_frame_folder(folder: str, frames: np.ndarray, template: str = "image_{:05d}.jpg") -> str:
    """Save frames as JPEGs ``image_00001.jpg`` ... (1-based, as CoCLR / mmaction2 extract them)."""
    from PIL import Image

    os.makedirs(folder, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(os.path.join(folder, template.format(i + 1)), quality=95)
    return folder


def make_kinetics(root: str, labels: Sequence[int] = (0, 1, 2, 0, 1, 2), num_frames: int = 40,
                  splits: Sequence[str] = ("train", "val", "test"), prefix_dir: Optional[str] = None,
                  height: int = 32, width: int = 48, gop: int = 16) -> str:
    """``root/{split}.csv`` + videos ``root/videos/{split}_{k}.mp4`` (PySlowFast Kinetics layout).

    With ``prefix_dir`` the CSV holds paths relative to it (for ``DATA.PATH_PREFIX``).
    """
    video_dir = prefix_dir or os.path.join(root, "videos")
    os.makedirs(root, exist_ok=True)
    for split in splits:
        lines = []
        for k, label in enumerate(labels):
            name = f"{split}_{k}.mp4"
            write_numbered_video(os.path.join(video_dir, name), num_frames, height, width, gop=gop, offset=k)
            lines.append(f"{name if prefix_dir else os.path.join(video_dir, name)} {label}")
        with open(os.path.join(root, f"{split}.csv"), "w") as f:
            f.write("\n".join(lines) + "\n")
    return root
