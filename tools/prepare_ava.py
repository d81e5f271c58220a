#!/usr/bin/env python3
"""Prepare AVA from its raw movies: 30 fps frame folders of the 15-minute cut, and the frame lists.

    python tools/prepare_ava.py VIDEOS_DIR OUT_DIR --train ava_train_v2.2.csv --val ava_val_v2.2.csv \\
        [--short-side 320] [--workers N]

Writes ``OUT_DIR/frames/<video>/<video>_%06d.jpg`` (seconds 900-1800 at 30
fps) and ``OUT_DIR/frame_lists/{train,val}.csv`` for the videos each
annotation file names (``<video>.*`` in VIDEOS_DIR). Set ``AVA.FRAME_DIR``
and ``AVA.FRAME_LIST_DIR`` to them, then check everything with
``tools/check_ava.py``. Finished videos are skipped, so a rerun resumes; a
video that fails is reported and the others go on (exit status 1).
"""

import argparse
import functools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402


def _videos_of(path):
    with open(path) as f:
        return sorted({line.split(",", 1)[0] for line in f if line.strip()})


def _one(src, dst, short_side, start, end):
    """Frames of one video (skipped when its folder is complete); ``(video, number of frames)``."""
    from videossl.data.prep.ava_frames import extract_ava_frames

    video = os.path.basename(dst)
    expected = int(round((end - start) * 30))
    if os.path.isdir(dst) and len(os.listdir(dst)) == expected:
        return video, expected
    return video, extract_ava_frames(src, dst, video, start=start, end=end, short_side=short_side or None)


def main(argv=None) -> int:
    from videossl.data.prep.ava_frames import write_frame_list
    from videossl.data.prep.pool import map_files

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("videos")
    p.add_argument("out")
    p.add_argument("--train", required=True, help="ava_train_v2.2.csv (its videos go to train.csv)")
    p.add_argument("--val", required=True, help="ava_val_v2.2.csv (its videos go to val.csv)")
    p.add_argument("--short-side", type=int, default=0, help="0 keeps the size")
    p.add_argument("--start", type=float, default=900.0)
    p.add_argument("--end", type=float, default=1800.0)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    a = p.parse_args(argv)
    files = {os.path.splitext(n)[0]: os.path.join(a.videos, n) for n in os.listdir(a.videos)}
    splits = {"train": _videos_of(a.train), "val": _videos_of(a.val)}
    missing = [v for vs in splits.values() for v in vs if v not in files]
    for v in missing:
        print(f"prepare_ava: no video file for {v} in {a.videos}", file=sys.stderr)
    frames_dir = os.path.join(a.out, "frames")
    os.makedirs(frames_dir, exist_ok=True)
    jobs = [(files[v], os.path.join(frames_dir, v)) for vs in splits.values() for v in vs if v in files]
    fn = functools.partial(_one, short_side=a.short_side, start=a.start, end=a.end)
    results, failed_jobs = map_files(fn, jobs, a.workers, bar="prepare_ava")
    counts = dict(results)
    failed = len(missing) + len(failed_jobs)
    os.makedirs(os.path.join(a.out, "frame_lists"), exist_ok=True)
    for split, vs in splits.items():
        write_frame_list(os.path.join(a.out, "frame_lists", f"{split}.csv"), [(v, counts[v]) for v in vs if v in counts])
    print(f"prepare_ava: {len(counts)} videos written to {frames_dir}, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_main("prepare_ava", main))
