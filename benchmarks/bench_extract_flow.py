#!/usr/bin/env python3
"""TV-L1 extraction throughput of tools/extract_flow.py: flow frames/s with 1 and with 2 processes.

    python benchmarks/bench_extract_flow.py [--videos 8] [--short-side 128] [--data ../shared/data/fight-surveillance]

Takes the first ``--videos`` clips of the real dataset (sorted by name), runs
the tool on them into a temporary folder, once per process count, and prints
flow frames/s and the speed-up of 2 processes over 1.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from tools.extract_flow import main as extract  # noqa: E402
from videossl.data.prep.splits import list_videos  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "fight-surveillance"))
    p.add_argument("--videos", type=int, default=8)
    p.add_argument("--short-side", type=int, default=128)
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    a = p.parse_args(argv)
    work = tempfile.mkdtemp(prefix="bench_flow_")
    try:
        src = os.path.join(work, "src")
        for rel in list_videos(a.data)[: a.videos]:
            os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
            os.symlink(os.path.abspath(os.path.join(a.data, rel)), os.path.join(src, rel))
        rates = {}
        for n in a.processes:
            out = os.path.join(work, f"out{n}")
            start = time.perf_counter()
            if extract([src, out, "--workers", str(n), "--short-side", str(a.short_side)]) != 0:
                return 1
            seconds = time.perf_counter() - start
            frames = sum(len(files) for _, _, files in os.walk(out))
            rates[n] = frames / seconds
            print(f"{n} process(es): {frames} flow frames of {a.videos} videos at short side {a.short_side} "
                  f"in {seconds:.1f} s = {rates[n]:.1f} frames/s")
        if 1 in rates:
            for n, r in rates.items():
                print(f"speed-up with {n} process(es): {r / rates[1]:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
