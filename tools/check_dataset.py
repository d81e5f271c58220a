#!/usr/bin/env python3
"""Check every video of a dataset: opens, decodes (first/middle/last frame, or all with --full), length, fps.

    python tools/check_dataset.py --cfg X.yaml [KEY VALUE ...] [--splits train val test]
    python tools/check_dataset.py --list data/train.csv [--prefix DIR]
    python tools/check_dataset.py --dir videos/

Writes a CSV report (``--out``, default ``bad_videos.csv``) of the bad files
(``--all`` to list every file) with path, frames, fps, size and error, prints a
summary, and exits with status 1 if any file is bad.  Videos shorter than
``--min-frames`` count as bad.
"""

import argparse
import csv
import multiprocessing
import os
import sys
from dataclasses import asdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from videossl.data.prep import VideoReport, check_video  # noqa: E402


def _paths(a):
    if a.dir:
        from videossl.data.prep.splits import list_videos

        return [os.path.join(a.dir, rel) for rel in list_videos(a.dir)]
    if a.list:
        from videossl.data.lists import read_kinetics_csv

        d, name = os.path.split(os.path.abspath(a.list))
        return [r.path for r in read_kinetics_csv(d, os.path.splitext(name)[0], a.prefix, a.sep)]
    from videossl.config import load_config
    from videossl.data.build import DATASETS, dataset_name

    cfg = load_config([a.cfg] if a.cfg else [], a.opts)
    paths = []
    for split in a.splits:
        paths += [r.path for r in DATASETS[dataset_name(cfg, split)](cfg, split).records]
    return list(dict.fromkeys(paths))


def _check(args):
    path, backend, min_frames, full = args
    return check_video(path, backend, min_frames, full)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--cfg", default="")
    src.add_argument("--list", help="a Kinetics-style CSV")
    src.add_argument("--dir", help="a folder of videos")
    p.add_argument("--prefix", default="", help="DATA.PATH_PREFIX for --list")
    p.add_argument("--sep", default=" ")
    p.add_argument("--splits", nargs="+", default=["train", "val", "test"])
    p.add_argument("--backend", default="pyav")
    p.add_argument("--min-frames", type=int, default=1)
    p.add_argument("--full", action="store_true", help="decode every frame")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--out", default="bad_videos.csv")
    p.add_argument("--all", action="store_true", help="report every file, not only bad ones")
    p.add_argument("opts", nargs="*", help="KEY VALUE config overrides")
    a = p.parse_args(argv)
    if not (a.cfg or a.list or a.dir or a.opts):
        p.error("give --cfg/overrides, --list or --dir")
    try:
        paths = _paths(a)
    except (FileNotFoundError, ValueError) as err:
        print(f"check_dataset: {err}", file=sys.stderr)
        return 2
    jobs = [(path, a.backend, a.min_frames, a.full) for path in paths]
    with multiprocessing.Pool(max(a.workers, 1)) as pool:
        reports = list(pool.imap(_check, jobs, chunksize=4))
    bad = [r for r in reports if not r.ok]
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(asdict(VideoReport("", True)).keys()))
        w.writeheader()
        for r in reports if a.all else bad:
            w.writerow(asdict(r))
    good = [r for r in reports if r.ok]
    if good:
        fps = sorted(r.fps for r in good)
        frames = sorted(r.num_frames for r in good)
        print(f"{len(good)} good videos: frames {frames[0]}..{frames[-1]} (median {frames[len(frames) // 2]}), "
              f"fps {fps[0]:.2f}..{fps[-1]:.2f}")
    print(f"{len(bad)} bad of {len(reports)} videos; report: {a.out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
