"""tools/check_ava.py: a clean synthetic AVA passes; each kind of broken file is reported with its file and line."""

import os
import sys

from videossl.data.prep.ava_check import check_ava
from videossl.data.synthetic_ava import LABEL_MAP, SyntheticAvaSettings, write_synthetic_ava

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.check_ava import main  # noqa: E402


def _ava(tmp_path):
    paths = write_synthetic_ava(SyntheticAvaSettings(num_videos=2, num_keyframes=2, height=24, width=32), str(tmp_path))
    ann = paths["annotations"]
    lists = [os.path.join(paths["frame_lists"], f) for f in ("train.csv", "val.csv")]
    boxes = [(os.path.join(ann, "ava_train_v2.2.csv"), True), (os.path.join(ann, "ava_val_v2.2.csv"), True),
             (os.path.join(ann, "ava_val_predicted_boxes.csv"), False)]
    return paths, lists, boxes


def _opts(paths):
    return ["AVA.FRAME_DIR", paths["frames"], "AVA.FRAME_LIST_DIR", paths["frame_lists"],
            "AVA.ANNOTATION_DIR", paths["annotations"], "AVA.TRAIN_LISTS", "['train.csv']",
            "AVA.TEST_LISTS", "['val.csv']", "AVA.TRAIN_PREDICT_BOX_LISTS", "['ava_train_predicted_boxes.csv']",
            "AVA.TEST_PREDICT_BOX_LISTS", "['ava_val_predicted_boxes.csv']", "DATA.NUM_FRAMES", "8",
            "DATA.SAMPLING_RATE", "8"]


def test_a_clean_folder_passes_and_each_fault_is_named(tmp_path, capsys):
    paths, lists, boxes = _ava(tmp_path)
    assert check_ava(lists, paths["frames"], boxes, range(1, 7), 8, 8) == []
    assert main(_opts(paths)) == 0
    gt = boxes[0][0]
    with open(gt, "a") as f:
        f.write("synth000,0902,0.1,0.1,1.2,0.5,1,0\n")   # line 'n+1': box outside [0, 1]
        f.write("synth000,0902,0.1,0.1,0.2,0.5,99,0\n")  # unknown action
        f.write("ghost,0902,0.1,0.1,0.2,0.5,1,0\n")      # video not in the frame lists
        f.write("synth000,0902,0.1,oops\n")              # malformed
    n = sum(1 for _ in open(gt))
    os.remove(os.path.join(paths["frames"], "synth000", "synth000_000061.jpg"))  # frame 60: second 902's keyframe
    problems = check_ava(lists, paths["frames"], boxes, range(1, 7), 8, 8)
    text = "\n".join(problems)
    assert f"ava_train_v2.2.csv:{n - 3}: box (0.1, 0.1, 1.2, 0.5) is not inside [0, 1]" in text
    assert f"ava_train_v2.2.csv:{n - 2}: action '99' is not in the label map" in text
    assert f"ava_train_v2.2.csv:{n - 1}: video 'ghost' is not in the frame lists" in text
    assert f"ava_train_v2.2.csv:{n}: malformed row" in text
    assert "missing frame " + os.path.join(paths["frames"], "synth000", "synth000_000061.jpg") in text
    assert len(problems) == 5, problems
    capsys.readouterr()
    assert main(_opts(paths)) == 1
    assert "check_ava: 5 problem(s)" in capsys.readouterr().out


def test_a_clip_that_leaves_the_listed_frames_is_reported(tmp_path):
    paths, lists, boxes = _ava(tmp_path)
    problems = check_ava(lists, paths["frames"], boxes, range(1, 7), 32, 8)  # 256 frames around each keyframe
    assert problems and all("is outside synth00" in p and "listed frames" in p for p in problems), problems
    assert os.path.isfile(os.path.join(paths["annotations"], LABEL_MAP))
