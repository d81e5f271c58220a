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


def make_ucf101(root: str, classes: Sequence[str] = ("ApplyEyeMakeup", "Archery", "Basketball"),
                groups: int = 2, clips: int = 2, num_frames: int = 24, frame_folders: bool = False) -> str:
    """Official UCF101 layout: ``root/ucfTrainTestlist/{classInd,trainlist0N,testlist0N}.txt`` and
    ``root/UCF-101/<Class>/v_<Class>_gYY_cZZ.avi`` (H.264 in .avi).  Split N puts group ``N`` of each
    class in the test list.  ``frame_folders``: frames as JPEG folders instead of videos."""
    lists = os.path.join(root, "ucfTrainTestlist")
    os.makedirs(lists, exist_ok=True)
    with open(os.path.join(lists, "classInd.txt"), "w") as f:
        f.write("".join(f"{i + 1} {c}\n" for i, c in enumerate(classes)))
    rows = []
    for ci, cls in enumerate(classes):
        for g in range(1, groups + 1):
            for c in range(1, clips + 1):
                rel = f"{cls}/v_{cls}_g{g:02d}_c{c:02d}.avi"
                path = os.path.join(root, "UCF-101", rel)
                if frame_folders:
                    write_frame_folder(os.path.splitext(path)[0], numbered_frames(num_frames, offset=ci))
                else:
                    write_numbered_video(path, num_frames, offset=ci)
                rows.append((rel, ci, g))
    for fold in (1, 2, 3):
        with open(os.path.join(lists, f"trainlist0{fold}.txt"), "w") as f:
            f.write("".join(f"{rel} {ci + 1}\n" for rel, ci, g in rows if g != fold))
        with open(os.path.join(lists, f"testlist0{fold}.txt"), "w") as f:
            f.write("".join(f"{rel}\n" for rel, ci, g in rows if g == fold))
    return root


def make_hmdb51(root: str, classes: Sequence[str] = ("brush_hair", "cartwheel"), per_class: int = 4,
                num_frames: int = 24) -> str:
    """Official HMDB51 layout: ``root/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt`` and
    ``root/videos/<class>/<name>.avi``.  In split N, video k is train (1) unless ``k % 3 == N - 1``
    (test, 2); the last video of each class is unused (0) in split 3."""
    lists = os.path.join(root, "testTrainMulti_7030_splits")
    os.makedirs(lists, exist_ok=True)
    for ci, cls in enumerate(classes):
        names = [f"{cls}_video_{k}_f_cm_np1_fr_med_{k}.avi" for k in range(per_class)]
        for name in names:
            write_numbered_video(os.path.join(root, "videos", cls, name), num_frames, offset=ci)
        for fold in (1, 2, 3):
            marks = ["2" if k % 3 == fold - 1 else "1" for k in range(per_class)]
            if fold == 3:
                marks[-1] = "0"
            with open(os.path.join(lists, f"{cls}_test_split{fold}.txt"), "w") as f:
                f.write("".join(f"{n} {m} \n" for n, m in zip(names, marks)))
    return root


def make_ssv2(root: str, templates: Sequence[str] = ("Pushing something from left to right",
                                                     "Pushing something from right to left"),
              train: int = 4, val: int = 2, num_frames: int = 24, frame_folders: bool = False) -> str:
    """Official SSv2 layout: ``root/labels.json``, ``root/something-something-v2-{train,validation}.json``
    and ``root/20bn-something-something-v2/<id>.webm`` (VP9) or frame folders ``<id>/``."""
    import json

    videos = os.path.join(root, "20bn-something-something-v2")
    os.makedirs(videos, exist_ok=True)
    with open(os.path.join(root, "labels.json"), "w") as f:
        json.dump({t: str(i) for i, t in enumerate(templates)}, f)
    vid = 1000
    for split, n in (("train", train), ("validation", val)):
        entries = []
        for k in range(n):
            ti = k % len(templates)
            vid += 1
            frames = numbered_frames(num_frames, offset=ti)
            if frame_folders:
                write_frame_folder(os.path.join(videos, str(vid)), frames)
            else:
                write_video(os.path.join(videos, f"{vid}.webm"), frames, fps=12, codec="libvpx-vp9", gop=None,
                            crf=None, options={"threads": "1", "deadline": "realtime", "cpu-used": "8", "lossless": "1"})
            template = templates[ti].replace("something", "[something]")
            entries.append({"id": str(vid), "label": templates[ti].lower(), "template": template,
                            "placeholders": ["something"]})
        with open(os.path.join(root, f"something-something-v2-{split}.json"), "w") as f:
            json.dump(entries, f)
    return root
