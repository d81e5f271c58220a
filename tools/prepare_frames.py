#!/usr/bin/env python3
"""Extract the frames of a tree of videos as JPEG folders (``<video without extension>/image_%05d.jpg``).

    python tools/prepare_frames.py SRC_DIR DST_DIR [--short-side 256] [--quality 95] [--workers N]

A list that names ``a/b.mp4`` then reads the folder ``a/b/`` when the file is
absent (set DATA.PATH_PREFIX / the data dir to DST_DIR), and
``DATA.FRAME_FPS`` gives the rate.  Existing folders are skipped unless --overwrite.
"""

import argparse
import multiprocessing
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from videossl.data.prep import extract_frames  # noqa: E402
from videossl.data.prep.splits import list_videos  # noqa: E402


def _job(args):
    src, dst, short_side, quality = args
    try:
        return src, None, extract_frames(src, dst, short_side, quality)
    except Exception as err:  # noqa: BLE001
        return src, f"{type(err).__name__}: {err}", 0


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
            jobs.append((os.path.join(a.src, rel), dst, a.short_side or None, a.quality))
    failed, total = [], 0
    with multiprocessing.Pool(max(a.workers, 1)) as pool:
        for src, err, n in pool.imap_unordered(_job, jobs):
            total += n
            if err:
                failed.append((src, err))
    for src, err in failed:
        print(f"FAILED {src}: {err}", file=sys.stderr)
    print(f"extracted {total} frames of {len(jobs) - len(failed)} videos into {a.dst} ({len(failed)} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
