"""Data-prep tools: dense-keyframe resize, frame extraction, dataset check, split building."""

import csv
import os
import shutil
import sys

import av
import pytest

from videossl.data.decoding import open_video
from videossl.data.fixtures import frame_numbers, make_ucf101, write_numbered_video

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import build_splits  # noqa: E402
import check_dataset  # noqa: E402
import prepare_frames  # noqa: E402
import prepare_resize  # noqa: E402


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("tree")
    for cls, offset in (("jump", 0), ("run", 5)):
        for k in range(3):
            write_numbered_video(str(root / "src" / cls / f"{cls}_g{k}_c1.avi"), 40, height=48, width=64,
                                 gop=250, offset=offset)
    return root


def test_resize_to_short_side_with_dense_keyframes(tree):
    dst = tree / "resized"
    assert prepare_resize.main([str(tree / "src"), str(dst), "--short-side", "32", "--gop", "8",
                                "--workers", "2"]) == 0
    out = dst / "jump" / "jump_g1_c1.mp4"
    with av.open(str(out)) as c:
        keys = [f.key_frame for f in c.decode(video=0)]
        assert (c.streams.video[0].height, c.streams.video[0].width) == (32, 42)
    assert len(keys) == 40 and [i for i, k in enumerate(keys) if k] == [0, 8, 16, 24, 32]
    with open_video(str(out)) as r:
        assert frame_numbers(r.read([0, 17, 39])) == [0, 17, 39]  # same frames, same order
    assert len(os.listdir(dst / "run")) == 3 and not any(n.endswith(".tmp.mp4") for n in os.listdir(dst / "run"))


def test_extract_frames_tree(tree):
    dst = tree / "frames"
    assert prepare_frames.main([str(tree / "src"), str(dst), "--workers", "1"]) == 0
    folder = dst / "run" / "run_g0_c1"
    names = sorted(os.listdir(folder))
    assert names[0] == "image_00001.jpg" and len(names) == 40
    with open_video(str(folder)) as r:
        assert frame_numbers(r.read([3, 30]), offset=5) == [3, 30]


def test_check_dataset_reports_bad_files(tree, tmp_path):
    bad_dir = tmp_path / "videos"
    bad_dir.mkdir()
    good = write_numbered_video(str(bad_dir / "good.mp4"), 12)
    (bad_dir / "broken.mp4").write_bytes(b"\x00" * 500)
    short = write_numbered_video(str(bad_dir / "short.mp4"), 2)
    report = tmp_path / "report.csv"
    rc = check_dataset.main(["--dir", str(bad_dir), "--out", str(report), "--min-frames", "4", "--workers", "1"])
    assert rc == 1
    rows = list(csv.DictReader(open(report)))
    assert {os.path.basename(r["path"]) for r in rows} == {"broken.mp4", "short.mp4"}
    assert all(r["ok"] == "False" and r["error"] for r in rows)
    rc = check_dataset.main(["--dir", str(bad_dir), "--out", str(report), "--all", "--workers", "1"])
    rows = {os.path.basename(r["path"]): r for r in csv.DictReader(open(report))}
    assert rows["good.mp4"]["num_frames"] == "12" and float(rows["good.mp4"]["fps"]) == 30.0
    assert rows["good.mp4"]["height"] == "32" and rows["short.mp4"]["ok"] == "True"
    del good, short


def test_check_dataset_from_config(tmp_path):
    root = make_ucf101(str(tmp_path / "ucf"), classes=("A", "B"), groups=2, clips=1)
    os.remove(tmp_path / "ucf" / "UCF-101" / "A" / "v_A_g01_c01.avi")
    report = tmp_path / "r.csv"
    rc = check_dataset.main(["--out", str(report), "--workers", "1", "TRAIN.DATASET", "ucf101", "TEST.DATASET",
                             "ucf101", "DATA.PATH_TO_DATA_DIR", str(tmp_path / "ucf")])
    rows = list(csv.DictReader(open(report)))
    assert rc == 1 and len(rows) == 1 and rows[0]["path"].endswith("v_A_g01_c01.avi")


def test_build_splits_from_folders_keeps_groups_together(tree, tmp_path):
    out = tmp_path / "lists"
    assert build_splits.main(["--folders", str(tree / "src"), "--out", str(out), "--test-fraction", "0.5",
                              "--group-regex", r"(\w+_g\d)_c"]) == 0
    train = [ln.split() for ln in open(out / "train.csv").read().splitlines()]
    test = [ln.split() for ln in open(out / "test.csv").read().splitlines()]
    assert len(train) + len(test) == 6 and open(out / "val.csv").read() == open(out / "test.csv").read()
    assert {label for _, label in train + test} == {"0", "1"}
    assert all(p.startswith("jump/") == (label == "0") for p, label in train + test)
    assert open(out / "classes.txt").read().split() == ["jump", "run"]
    again = tmp_path / "again"
    build_splits.main(["--folders", str(tree / "src"), "--out", str(again), "--test-fraction", "0.5",
                       "--group-regex", r"(\w+_g\d)_c"])
    assert open(again / "test.csv").read() == open(out / "test.csv").read()  # stable, not random


def test_build_splits_from_official_lists(tmp_path):
    root = make_ucf101(str(tmp_path / "ucf"), classes=("A", "B"), groups=3, clips=1)
    out = tmp_path / "csv"
    assert build_splits.main(["--dataset", "ucf101", "--out", str(out), "DATA.PATH_TO_DATA_DIR", root,
                              "DATA.SPLIT", "2"]) == 0
    test = open(out / "test.csv").read().splitlines()
    assert len(test) == 2 and all("_g02_" in ln and os.path.isabs(ln.split()[0]) for ln in test)
    assert len(open(out / "train.csv").read().splitlines()) == 4


def test_resize_to_one_fixed_size(tree):
    dst = tree / "fixed"
    assert prepare_resize.main([str(tree / "src"), str(dst), "--size", "40x24", "--workers", "1"]) == 0
    sizes = set()
    for folder in os.listdir(dst):
        for name in os.listdir(dst / folder):
            with av.open(str(dst / folder / name)) as c:
                sizes.add((c.streams.video[0].width, c.streams.video[0].height))
    assert sizes == {(40, 24)}
    with pytest.raises(SystemExit):
        prepare_resize.main([str(tree / "src"), str(dst), "--size", "40by24"])


def test_a_bad_file_is_reported_and_the_others_are_still_prepared(tree, tmp_path, capsys):
    src = tmp_path / "src"
    shutil.copytree(tree / "src", src)
    (src / "run" / "broken.mp4").write_bytes(b"not a video")
    for tool, dst in ((prepare_resize, tmp_path / "resized"), (prepare_frames, tmp_path / "frames")):
        assert tool.main([str(src), str(dst), "--workers", "2"]) == 1
        err = capsys.readouterr().err
        assert err.count("FAILED") == 1 and "broken.mp4" in err
        good = [n for n in os.listdir(dst / "run") if "broken" not in n]
        assert len(good) == 3 and not any("broken" in n for n in os.listdir(dst / "run"))
