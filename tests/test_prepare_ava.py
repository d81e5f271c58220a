"""tools/prepare_ava.py: the 15-minute cut at 30 fps (ffmpeg -r semantics), frame lists PySlowFast reads, resumable."""

import math
import os
import sys

import numpy as np
from PIL import Image

from videossl.data.fixtures import frame_numbers, write_numbered_video
from videossl.data.lists.ava import read_frame_lists
from videossl.data.prep.ava_frames import extract_ava_frames

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.prepare_ava import main  # noqa: E402


def test_the_cut_is_resampled_to_30_fps_from_its_start(tmp_path):
    src = write_numbered_video(str(tmp_path / "v.mp4"), 60, fps=25.0, gop=8)  # 2.4 s
    n = extract_ava_frames(src, str(tmp_path / "out"), "v", start=1.0, end=2.0)
    assert n == 30
    frames = np.stack([np.asarray(Image.open(tmp_path / "out" / f"v_{k + 1:06d}.jpg")) for k in range(30)])
    # output frame k shows the last source frame at or before 1 + k / 30 s: floor((1 + k/30) * 25)
    assert frame_numbers(frames) == [math.floor((1 + k / 30) * 25 + 1e-9) for k in range(30)]
    # past the end of the video the last frame repeats, so the cut keeps its length
    assert extract_ava_frames(src, str(tmp_path / "tail"), "v", start=2.0, end=3.0) == 30
    tail = np.stack([np.asarray(Image.open(tmp_path / "tail" / f"v_{k + 1:06d}.jpg")) for k in (0, 29)])
    assert frame_numbers(tail) == [50, 59]


def test_the_tool_writes_frame_lists_per_split_and_reports_missing_videos(tmp_path, capsys):
    videos = tmp_path / "videos"
    write_numbered_video(str(videos / "vidA.mp4"), 75, fps=30.0)
    write_numbered_video(str(videos / "vidB.mkv"), 75, fps=30.0)
    (tmp_path / "train.csv").write_text("vidA,0902,0.1,0.1,0.2,0.2,1,0\nvidA,0903,0.1,0.1,0.2,0.2,1,0\n")
    (tmp_path / "val.csv").write_text("vidB,0902,0.1,0.1,0.2,0.2,1,0\nvidC,0902,0.1,0.1,0.2,0.2,1,0\n")
    out = tmp_path / "ava"
    args = [str(videos), str(out), "--train", str(tmp_path / "train.csv"), "--val", str(tmp_path / "val.csv"),
            "--start", "0", "--end", "2", "--workers", "1"]
    assert main(args) == 1  # vidC has no video file
    assert "no video file for vidC" in capsys.readouterr().err
    names, frames = read_frame_lists([str(out / "frame_lists" / "train.csv")], str(out / "frames"))
    assert names == ["vidA"] and len(frames[0]) == 60 and all(os.path.isfile(p) for p in frames[0])
    names, frames = read_frame_lists([str(out / "frame_lists" / "val.csv")], str(out / "frames"))
    assert names == ["vidB"] and frames[0][0].endswith("vidB/vidB_000001.jpg")
    stamp = os.path.getmtime(frames[0][0])
    assert main(args) == 1 and os.path.getmtime(frames[0][0]) == stamp  # a rerun skips finished videos
