#!/usr/bin/env python3
"""Extract the frames of a tree of videos as JPEG folders (``<video without extension>/image_%05d.jpg``).

    python tools/prepare_frames.py SRC_DIR DST_DIR [--short-side 256] [--quality 95] [--workers N]

A list that names ``a/b.mp4`` then reads the folder ``a/b/`` when the file is
absent (set DATA.PATH_PREFIX / the data dir to DST_DIR), and
``DATA.FRAME_FPS`` gives the rate.  Existing folders are skipped unless --overwrite.
"""

import argparse
import functools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402
from videossl.data.prep import extract_frames  # noqa: E402
from videossl.data.prep.pool import map_files  # noqa: E402
from videossl.data.prep.splits import list_videos  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--short-side", type=int, default=0, help="0 keeps the size")
    p.add_argument("--quality", type=int, default=95)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    jobs = []
    for rel in list_videos(a.src):
        dst = os.path.join(a.dst, os.path.splitext(rel)[0])
        if a.overwrite or not os.path.isdir(dst):
            jobs.append((os.path.join(a.src, rel), dst))
    fn = functools.partial(extract_frames, short_side=a.short_side or None, quality=a.quality)
    counts, failed = map_files(fn, jobs, a.workers)
    total = sum(counts)
    print(f"extracted {total} frames of {len(jobs) - len(failed)} videos into {a.dst} ({len(failed)} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_main("prepare_frames", main))
