#!/usr/bin/env python3
"""Validate an AVA folder as a config's AVA.* keys describe it: frame lists, frames, box files, label map.

    python tools/check_ava.py --cfg configs/ava/X.yaml [KEY VALUE ...]

Reports every problem with its file (malformed rows, boxes outside [0, 1],
unknown action ids, videos missing from the frame lists, clips that leave
the listed frames, missing frame files) and exits with status 1 if there is
any.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402


def main(argv=None) -> int:
    from videossl.config import get_cfg
    from videossl.data.prep.ava_check import check_ava
    from videossl.engine.ava_map import read_label_map

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cfg", default="", help="a config with the AVA.* keys")
    p.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides")
    a = p.parse_args(argv)
    cfg = get_cfg()
    if a.cfg:
        cfg.merge_from_file(a.cfg)
    cfg.merge_from_list(a.opts)
    ava = cfg.AVA

    def ann(name):
        return os.path.join(ava.ANNOTATION_DIR, name)

    lists = [os.path.join(ava.FRAME_LIST_DIR, f) for f in list(ava.TRAIN_LISTS) + list(ava.TEST_LISTS)]
    boxes = [(ann(f), True) for f in ava.TRAIN_GT_BOX_LISTS] + [(ann(ava.GROUNDTRUTH_FILE), True)] + \
        [(ann(f), False) for f in list(ava.TRAIN_PREDICT_BOX_LISTS) + list(ava.TEST_PREDICT_BOX_LISTS)]
    _, class_ids = read_label_map(ann(ava.LABEL_MAP_FILE))
    problems = check_ava(lists, ava.FRAME_DIR, boxes, class_ids, cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE)
    for line in problems:
        print(line)
    print(f"check_ava: {len(problems)} problem(s) in {len(lists)} frame list(s) and {len(boxes)} box file(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(run_main("check_ava", main))
