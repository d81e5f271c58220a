#!/usr/bin/env python3
"""TV-L1 optical flow for a tree of videos, in CoCLR's format (``<video without extension>/flow_%05d.jpg``).

    python tools/extract_flow.py SRC_DIR DST_DIR [--short-side 256] [--workers N] [--overwrite]

Flow from frame i to i+1 goes to ``flow_{i+1:05d}.jpg``. Each image is a
3-channel JPEG, read as RGB ``(128, enc(y), enc(x))`` with
``enc(f) = (f + 20) * 255 / 40`` after clipping to +-20 px. Point
``DATA.PATH_TO_FLOW_DIR`` at DST_DIR and set ``DATA.USE_FLOW True``; the RGB
frames come from ``tools/prepare_frames.py`` (same folder names, same
``--short-side``). Videos whose folder exists are skipped, so an interrupted
run resumes. A video that fails is reported and skipped; the exit status is 1
if any failed. Needs ``pip install opencv-contrib-python-headless``.
"""

import argparse
import functools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402
from videossl.data.prep.optical_flow import extract_flow, tvl1  # noqa: E402
from videossl.data.prep.pool import map_files  # noqa: E402
from videossl.data.prep.splits import list_videos  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--short-side", type=int, default=0, help="downscale first (0 keeps the size)")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--overwrite", action="store_true", help="redo videos whose flow folder exists")
    a = p.parse_args(argv)
    tvl1()  # no OpenCV: one line now, not one per video
    rels = list_videos(a.src)
    jobs = []
    for rel in rels:
        dst = os.path.join(a.dst, os.path.splitext(rel)[0])
        if a.overwrite or not os.path.isdir(dst):
            jobs.append((os.path.join(a.src, rel), dst))
    print(f"{len(rels)} videos, {len(rels) - len(jobs)} already done, {len(jobs)} to do", flush=True)
    # several processes: one OpenCV thread each, so that the processes do not oversubscribe the cores
    fn = functools.partial(extract_flow, short_side=a.short_side or None, quality=a.quality,
                           threads=1 if a.workers > 1 else 0)
    # spawn, not fork: OpenCV's thread pool, already started in this process, can deadlock a forked child
    counts, failed = map_files(fn, jobs, a.workers, bar="flow", start_method="spawn")
    print(f"wrote {sum(counts)} flow images of {len(jobs) - len(failed)} videos into {a.dst} ({len(failed)} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_main("extract_flow", main))
