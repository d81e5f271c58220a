"""AVA frame lists, box files and keyframes, read as PySlowFast's ava_helper reads them."""

import os

import pytest

from videossl.data.lists.ava import keyframes, read_box_files, read_frame_lists, sec_to_frame
from videossl.errors import InputError


def _write(path, text):
    path.write_text(text)
    return str(path)


def test_frame_lists_group_frames_by_video_in_first_seen_order(tmp_path):
    a = _write(tmp_path / "train.csv", "original_vido_id video_id frame_id path labels\n"
               "vidB 0 0 vidB/vidB_000001.jpg \"\"\nvidB 0 1 vidB/vidB_000002.jpg \"\"\n"
               "vidA 1 0 vidA/vidA_000001.jpg \"\"\n")
    b = _write(tmp_path / "more.csv", "header\nvidA 1 1 vidA/vidA_000002.jpg \"\"\n\n")
    names, frames = read_frame_lists([a, b], "/frames")
    assert names == ["vidB", "vidA"]
    assert frames == [["/frames/vidB/vidB_000001.jpg", "/frames/vidB/vidB_000002.jpg"],
                      ["/frames/vidA/vidA_000001.jpg", "/frames/vidA/vidA_000002.jpg"]]
    bad = _write(tmp_path / "bad.csv", "header\nvidA 1 0 vidA/x.jpg\n")
    with pytest.raises(InputError, match=r"bad.csv:2: an AVA frame list row has 5 columns.*got 4"):
        read_frame_lists([bad], "/frames")
    with pytest.raises(FileNotFoundError, match="AVA frame list not found: .*missing.csv"):
        read_frame_lists([str(tmp_path / "missing.csv")], "/frames")


def test_box_files_merge_actions_of_one_box_and_filter_proposals(tmp_path):
    gt = _write(tmp_path / "gt.csv",
                "v1,0902,0.1,0.2,0.5,0.9,12,0\n"
                "v1,0902,0.1,0.2,0.5,0.9,80,0\n"     # same person, a second action
                "v1,0902,0.6,0.1,0.9,0.8,14,1\n"
                "v1,0903,0.1,0.2,0.5,0.9,12,0\n"
                "v2,1798,0.0,0.0,1.0,1.0,1,0\n")
    pred = _write(tmp_path / "pred.csv",
                  "v1,0904,0.2,0.2,0.4,0.4,,0.95\n"  # a proposal without a label, kept
                  "v1,0904,0.5,0.5,0.7,0.7,,0.5\n")   # below the threshold
    table = read_box_files([(gt, True), (pred, False)], score_thresh=0.9)
    assert table["v1"][902] == [((0.1, 0.2, 0.5, 0.9), [12, 80]), ((0.6, 0.1, 0.9, 0.8), [14])]
    assert table["v1"][904] == [((0.2, 0.2, 0.4, 0.4), [-1])]
    assert table["v2"][1798] == [((0.0, 0.0, 1.0, 1.0), [1])]


def test_sample_rate_keeps_seconds_divisible_by_it(tmp_path):
    gt = _write(tmp_path / "gt.csv", "".join(f"v,{s},0.1,0.1,0.2,0.2,1,0\n" for s in range(902, 910)))
    assert sorted(read_box_files([(gt, True)], sample_rate=4)["v"]) == [904, 908]
    assert sorted(read_box_files([(gt, True)])["v"]) == list(range(902, 910))


def test_malformed_box_rows_name_the_file_and_line(tmp_path):
    bad = _write(tmp_path / "gt.csv", "v1,0902,0.1,0.2,0.5,0.9,12,0\nv1,0902,0.1,oops,0.5,0.9,12,0\n")
    with pytest.raises(InputError, match=r"gt.csv:2: malformed AVA box row"):
        read_box_files([(bad, True)])
    short = _write(tmp_path / "pred.csv", "v1,0902,0.1,0.2,0.5,0.9,\n")
    with pytest.raises(InputError, match=r"pred.csv:1: malformed AVA box row"):
        read_box_files([(short, False)], score_thresh=0.5)
    with pytest.raises(FileNotFoundError, match="AVA box file not found"):
        read_box_files([(os.path.join(tmp_path, "nope.csv"), True)])


def test_keyframes_are_the_valid_seconds_with_boxes_at_30_fps_from_second_900(tmp_path):
    gt = _write(tmp_path / "gt.csv",
                "v1,0903,0.1,0.2,0.5,0.9,12,0\n"
                "v1,0902,0.1,0.2,0.5,0.9,12,0\nv1,0902,0.1,0.2,0.5,0.9,17,0\n"
                "v1,0901,0.1,0.2,0.5,0.9,12,0\n"     # before the first keyframe second
                "v1,1799,0.1,0.2,0.5,0.9,12,0\n"     # after the last
                "v3,1000,0.1,0.1,0.3,0.3,5,0\n")     # a video that is not in the frame lists
    frames = keyframes(["v0", "v1"], read_box_files([(gt, True)]))
    assert [(k.video, k.sec, k.frame) for k in frames] == [(1, 902, 60), (1, 903, 90)]
    assert frames[0].labels == ((12, 17),) and frames[0].boxes == ((0.1, 0.2, 0.5, 0.9),)
    assert sec_to_frame(902) == 60 and sec_to_frame(1798) == 26940
