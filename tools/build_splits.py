#!/usr/bin/env python3
"""Write Kinetics-style CSVs (``train.csv``, ``val.csv``, ``test.csv``: ``path label``) for any dataset.

    # from a folder-per-class tree, holding out a stable hashed fraction
    python tools/build_splits.py --folders ROOT --out DIR [--test-fraction 0.3] [--val-fraction 0]
    # from a dataset's official lists (ucf101, hmdb51, ssv2, ...) via the config keys
    python tools/build_splits.py --dataset ucf101 --out DIR DATA.PATH_TO_DATA_DIR data/ucf101 DATA.SPLIT 1

The CSVs work with ``TRAIN.DATASET kinetics`` (PySlowFast's way of running
UCF101), with ``DATA.PATH_PREFIX`` = ROOT for --folders (paths are relative)
and absolute paths for --dataset.  ``classes.txt`` lists the class names in
label order (for --folders).  With --group-regex (e.g. ``(v_.+_g\\d+)`` for
UCF101 names) clips of one group always land in the same split.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402
from videossl.data.prep.splits import folder_rows, split_rows, write_csv  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--folders", help="ROOT/<class>/<video> tree")
    src.add_argument("--dataset", help="a registered dataset name (lists read through its config keys)")
    p.add_argument("--out", required=True)
    p.add_argument("--test-fraction", type=float, default=0.3)
    p.add_argument("--val-fraction", type=float, default=0.0, help="0: val.csv = test.csv")
    p.add_argument("--group-regex", default="", help="hash this group of the file name instead of the path")
    p.add_argument("--seed", default="0", help="salt of the hashed split")
    p.add_argument("--sep", default=" ")
    p.add_argument("opts", nargs="*", help="KEY VALUE config overrides (--dataset)")
    a = p.parse_args(argv)
    counts = {}
    if a.folders:
        rows, classes = folder_rows(a.folders)
        group = None
        if a.group_regex:
            rx = re.compile(a.group_regex)

            def group(path):
                m = rx.search(os.path.basename(path))
                return m.group(1) if m and m.groups() else (m.group(0) if m else path)

        parts = split_rows(rows, a.test_fraction, group, salt=a.seed)
        test = parts["test"]
        if a.val_fraction > 0:
            inner = split_rows(parts["train"], a.val_fraction / (1 - a.test_fraction), group, salt=a.seed + "val")
            train, val = inner["train"], inner["test"]
        else:
            train, val = parts["train"], test
        for name, r in (("train", train), ("val", val), ("test", test)):
            counts[name] = write_csv(os.path.join(a.out, f"{name}.csv"), r, a.sep)
        with open(os.path.join(a.out, "classes.txt"), "w") as f:
            f.write("\n".join(classes) + "\n")
    else:
        from videossl.config import get_cfg
        from videossl.data.build import DATASETS

        cfg = get_cfg()
        cfg.merge_from_list(a.opts)
        name = a.dataset.lower()
        if name not in DATASETS:
            print(f"build_splits: unknown dataset {name!r}; known: {sorted(DATASETS)}", file=sys.stderr)
            return 2
        for split in ("train", "val", "test"):
            records = DATASETS[name](cfg, split).records
            counts[split] = write_csv(os.path.join(a.out, f"{split}.csv"),
                                      [(os.path.abspath(r.path), r.label) for r in records], a.sep)
    print(", ".join(f"{k}.csv: {v} rows" for k, v in counts.items()) + f" in {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main("build_splits", main))
