#!/usr/bin/env python3
"""End-to-end training throughput: loader workers feeding the trainer, augmenting in the workers or on the device.

It writes ``--videos`` generated Kinetics-style videos: 340x256, 10 s at 30 fps, H.264
with a keyframe every 250 frames, as ``tools/benchmark_loader.py`` makes them. It also
writes a ``train.csv`` that cycles through them. Then it builds the trainer and the
training data of ``--cfg`` (default: MoCo Slow R50 8x8) and times the real loop:
next batch, to the device (with the on-device augmentation when it is on), then
``run_step``. It times ``--iters`` steps after ``--warmup``, once with the
augmentation in the workers and once with ``DATA.AUGMENT_ON_DEVICE``. It prints:

* clips/s (videos x ρ clips a second);
* the share of the time spent waiting for the next batch;
* peak memory.

    python benchmarks/bench_pipeline.py                    # GPU: MoCo Slow R50, ρ = 2, 16 videos a step, 8 workers, bf16
    python benchmarks/bench_pipeline.py --cfg configs/synthetic/contrastive_ssl/MoCo_R10.yaml \\
        --batch 4 --workers 2 --iters 6 --warmup 2 --videos 4 --opts DATA.TRAIN_CROP_SIZE 112   # CPU smoke run

Options after ``--opts`` are config overrides (``KEY VALUE ...``).
"""

import argparse
import os
import sys
import tempfile
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tools"))

from benchmark_loader import make_generated  # noqa: E402

from videossl.config import load_config  # noqa: E402
from videossl.engine.hooks.data_health import peak_memory_mb  # noqa: E402
from videossl.engine.loop import build_train_data, build_trainer  # noqa: E402
from videossl.methods import Progress  # noqa: E402


def write_list(folder: str, paths, lines: int) -> None:
    """``folder/train.csv``: ``lines`` rows cycling through ``paths`` (label 0)."""
    with open(os.path.join(folder, "train.csv"), "w") as f:
        for k in range(lines):
            f.write(f"{paths[k % len(paths)]} 0\n")


def time_loop(cfg, warmup: int, iters: int):
    """(clips/s, share of time waiting for data, peak memory in GiB) of ``iters`` steps of ``cfg``'s loop."""
    trainer = build_trainer(cfg, hooks=[])
    data = build_train_data(cfg, trainer.settings)
    device, rho = trainer.device, cfg.DATA.TRAIN_CROP_NUM_TEMPORAL
    cuda = device.type == "cuda"
    trainer.method.train()
    batches = iter(data.loader(0, 0))
    waited = 0.0
    clips = 0
    for i in range(warmup + iters):
        if i == warmup:
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats(device)
            start, waited, clips = time.perf_counter(), 0.0, 0
        t0 = time.perf_counter()
        batch = next(batches)
        waited += time.perf_counter() - t0
        clips += batch["views"][0].shape[0] * rho
        trainer.run_step(data.to_device(batch, device), Progress(0, i, i, 1000, 1))
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return clips / seconds, waited / seconds, peak_memory_mb(device) / 1024


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cfg", default="configs/Kinetics/contrastive_ssl/MoCo_SlowR50_8x8.yaml")
    p.add_argument("--rho", type=int, default=2, help="clips per video (DATA.TRAIN_CROP_NUM_TEMPORAL)")
    p.add_argument("--batch", type=int, default=16, help="videos a step")
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--videos", type=int, default=16, help="generated files (the list cycles through them)")
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--dir", default="", help="where the generated files go (default: a temporary folder)")
    p.add_argument("--opts", nargs=argparse.REMAINDER, default=[])
    args = p.parse_args(argv)

    folder = args.dir or os.path.join(tempfile.gettempdir(), "videossl-bench-pipeline")
    t0 = time.perf_counter()
    paths = make_generated(folder, 250, args.videos)
    print(f"{args.videos} generated videos in {folder} ({time.perf_counter() - t0:.0f} s)", flush=True)
    write_list(folder, paths, (args.warmup + args.iters + 2) * args.batch)
    cuda = torch.cuda.is_available()
    results = {}
    for on_device in (False, True):
        cfg = load_config([os.path.join(ROOT, args.cfg)], [
            "NUM_GPUS", "1" if cuda else "0", "TRAIN.BATCH_SIZE", str(args.batch),
            "TRAIN.DATASET", "kinetics", "DATA.PATH_TO_DATA_DIR", folder, "DATA.PATH_PREFIX", "",
            "DATA.TRAIN_CROP_NUM_TEMPORAL", str(args.rho), "DATA_LOADER.NUM_WORKERS", str(args.workers),
            "DATA.AUGMENT_ON_DEVICE", str(on_device), "TRAIN.MIXED_PRECISION", str(cuda),
            "TRAIN.MIXED_PRECISION_DTYPE", "bfloat16",
            "OUTPUT_DIR", tempfile.mkdtemp(prefix="videossl-pipeline-"), "LOG_MODEL_INFO", "False",
        ] + args.opts)
        name = "on-device augmentation" if on_device else "augmentation in the workers"
        speed, wait, memory = time_loop(cfg, args.warmup, args.iters)
        results[on_device] = speed
        print(f"{name:28s} {speed:8.1f} clips/s  waiting for data {wait:5.1%}  peak memory {memory:.2f} GiB",
              flush=True)
    device = torch.cuda.get_device_name(0) if cuda else f"CPU ({os.cpu_count()} cores)"
    print(f"{args.cfg}, ρ = {args.rho}, {args.batch} videos a step, {args.workers} workers, on {device}; "
          f"on-device / workers {results[True] / results[False]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
