#!/usr/bin/env python3
"""Training-step throughput and peak memory of the small backbone through the trainer.

Measures ``Trainer.run_step`` (method contract, LR schedule, AMP plumbing,
clipping hooks, optimizer) on in-memory batches, against a bare PyTorch loop
(forward, cross-entropy, backward, SGD step) on the same model and batches in
the same run, and prints iterations/s, clips/s, peak memory and the
trainer/bare ratio (trainer overhead).

    python benchmarks/bench_train_step.py [--depth 10 --width 8 --frames 8 --size 56 --batch 8 --iters 20]
"""

import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from videossl.config import load_config  # noqa: E402
from videossl.engine.loop import build_trainer  # noqa: E402
from videossl.methods import Progress  # noqa: E402


def _peak_mb(device):
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--size", type=int, default=56)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--amp", action="store_true", help="bf16 autocast")
    args = p.parse_args()

    cfg = load_config([], [
        "MODEL.ARCH", "slow", "RESNET.DEPTH", str(args.depth), "RESNET.WIDTH_PER_GROUP", str(args.width),
        "MODEL.NUM_CLASSES", "8", "DATA.NUM_FRAMES", str(args.frames), "TRAIN.BATCH_SIZE", str(args.batch),
        "DATA.TRAIN_CROP_SIZE", str(args.size), "LOG_MODEL_INFO", "False", "OUTPUT_DIR", "/tmp/videossl-bench",
        "TRAIN.MIXED_PRECISION", str(args.amp), "TRAIN.MIXED_PRECISION_DTYPE", "bfloat16",
        "NUM_GPUS", "1" if torch.cuda.is_available() else "0",
    ])
    trainer = build_trainer(cfg)
    device = trainer.device
    g = torch.Generator().manual_seed(0)
    batches = [{
        "views": [torch.randn(args.batch, 3, args.frames, args.size, args.size, generator=g).to(device)],
        "label": torch.randint(0, 8, (args.batch,), generator=g).to(device),
    } for _ in range(4)]

    def run_trainer(n):
        for i in range(n):
            trainer.run_step(batches[i % 4], Progress(0, i, i, 1000, 1))

    net = trainer.method.net
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def run_bare(n):
        for i in range(n):
            b = batches[i % 4]
            loss = torch.nn.functional.cross_entropy(net(b["views"][0]), b["label"])
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

    results = {}
    for name, fn in (("bare loop", run_bare), ("videossl trainer", run_trainer)):
        fn(args.warmup)
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn(args.iters)
        if device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        results[name] = args.iters / dt
        print(f"{name:18s} {args.iters / dt:8.2f} it/s  {args.iters * args.batch / dt:8.1f} clips/s")
    print(f"peak memory {_peak_mb(device):.0f} MB ({device.type}); "
          f"trainer/bare speed ratio {results['videossl trainer'] / results['bare loop']:.3f}")
    print(f"model: slow R{args.depth} width {args.width}, batch {args.batch}x3x{args.frames}x{args.size}^2, "
          f"{sum(p.numel() for p in net.parameters()):,} params, threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
