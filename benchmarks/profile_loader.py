#!/usr/bin/env python3
"""Where one epoch of the train loader spends its time: a cProfile of ``bench_loader``'s training set.

    python benchmarks/profile_loader.py [--real-dir ../shared/data/fight-surveillance] [--rho 4]
        [--samples 24] [--top 30]

The set is :func:`tools.benchmark_loader.train_dataset`'s (MoCo-v2 augmentation at 224²,
ρ clips of 8 frames x stride 8, short side <= 256) over the first 30 videos of ``--real-dir``,
loaded at 0 workers, batch 4, one torch thread, after one warm-up epoch.  It prints the
functions by cumulative time, then by own time.  Divide by the clip count it prints for
milliseconds a clip (decode: ``PyAVReader.read``; augmentation: ``ClipTransform.apply``).
"""

import argparse
import cProfile
import glob
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from tools.benchmark_loader import train_dataset  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--real-dir", default=os.path.join("..", "shared", "data", "fight-surveillance"))
    p.add_argument("--rho", type=int, default=4)
    p.add_argument("--samples", type=int, default=24)
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args(argv)
    paths = sorted(glob.glob(os.path.join(args.real_dir, "*", "*.mp4")))[:30]
    if not paths:
        raise SystemExit(f"no .mp4 videos under {args.real_dir}/*/")
    torch.set_num_threads(1)
    cfg, ds = train_dataset(paths, args.rho, 256, args.samples, 224, 8, 8)
    cfg.DATA_LOADER.NUM_WORKERS = 0
    cfg.DATA_LOADER.PERSISTENT_WORKERS = False

    from videossl.data import build_loader

    def epoch() -> int:
        return sum(b["views"][0].shape[0] * len(b["views"]) for b in build_loader(cfg, ds, train=True, batch_size=4))

    epoch()  # warm-up
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    clips = epoch()
    prof.disable()
    print(f"{clips} clips in {time.perf_counter() - start:.2f} s (profiled) from {len(paths)} videos, rho {args.rho}")
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
