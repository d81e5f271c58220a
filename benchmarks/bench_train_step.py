#!/usr/bin/env python3
"""Training-step throughput and peak memory of the small backbone through the trainer.

Measures ``Trainer.run_step`` (method contract, LR schedule, AMP plumbing,
clipping hooks, optimizer) on in-memory batches, against a bare PyTorch loop
(forward, cross-entropy, backward, optimizer step) on the same model and batches in
the same run, with the same optimizer (the config's SGD, momentum, weight decay and
param groups, built by ``build_optimizer_from_cfg``), and prints iterations/s, clips/s, peak memory and the
trainer/bare ratio (trainer overhead).  A third line adds the on-device
augmentation (``DATA.AUGMENT_ON_DEVICE``) to each trainer step: uint8 frames
of ``1.25 x --size`` (4:3) with MoCo-v2 colour parameters, cropped, resized
and coloured on the step's device, as ``TrainData.to_device`` does.

Timing interleaves the three at a fine grain: ``--blocks`` blocks of ``--block``
steps each (default 1 step on a CPU, 20 on a GPU, where a block ends with a
synchronise), rotating which of the three goes first, and each reports its
median seconds a step.  On the shared 2-core machine, whole-second rounds
drift by 10-15% from one to the next; steps interleaved one by one share
the drift.

    python benchmarks/bench_train_step.py [--depth 10 --width 8 --frames 8 --size 56 --batch 8 --blocks 300]
"""

import argparse
import itertools
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from videossl.config import load_config  # noqa: E402
from videossl.engine.hooks.data_health import peak_memory_mb  # noqa: E402
from videossl.engine.loop import build_trainer  # noqa: E402
from videossl.engine.optim import build_optimizer_from_cfg  # noqa: E402
from videossl.methods import Progress  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--size", type=int, default=56)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--blocks", type=int, default=300, help="timed blocks per loop, interleaved")
    p.add_argument("--block", type=int, default=0, help="steps a block (default: 1 on CPU, 20 on GPU)")
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

    # each loop counts its own steps across blocks (which batch, the Progress it reports)
    trainer_steps, on_device_steps, bare_steps = itertools.count(), itertools.count(), itertools.count()

    def run_trainer(n):
        for i in itertools.islice(trainer_steps, n):
            trainer.run_step(batches[i % 4], Progress(0, i, i, 1000, 1))

    from videossl.data.build import build_transform
    from videossl.data.transforms import BatchAugmenter, params_to_row
    from videossl.engine.loop import TrainData

    cfg.defrost()
    cfg.DATA.SSL_COLOR_JITTER, cfg.DATA.SSL_MOCOV2_AUG, cfg.DATA.COLOR_RND_GRAYSCALE = True, True, 0.2
    cfg.DATA.TRAIN_JITTER_SCALES_RELATIVE, cfg.DATA.TRAIN_JITTER_ASPECT_RELATIVE = [0.2, 0.766], [0.75, 1.3333]
    transform = build_transform(cfg)
    h, w = int(args.size * 1.25), int(args.size * 1.25 * 4 / 3)
    raw = []
    for k in range(4):
        rows = torch.stack([params_to_row(transform.sample_train(np.random.default_rng(k * 100 + i), h, w), h, w)
                            for i in range(args.batch)])
        frames = torch.randint(0, 256, (args.batch, args.frames, h, w, 3), dtype=torch.uint8, generator=g)
        raw.append({"views": [frames], "view_params": [rows], "label": batches[k]["label"].cpu()})
    data = TrainData(None, None, BatchAugmenter(args.size, cfg.DATA.MEAN, cfg.DATA.STD))

    def run_on_device(n):
        for i in itertools.islice(on_device_steps, n):
            trainer.run_step(data.to_device(raw[i % 4], device), Progress(0, i, i, 1000, 1))

    net = trainer.method.net
    # the trainer's own optimizer recipe (its param groups, momentum, weight decay): the ratio is the
    # trainer's overhead, not the cost of the recipe's weight decay
    opt = build_optimizer_from_cfg(cfg, trainer.method, lr=0.01)

    def run_bare(n):
        for i in itertools.islice(bare_steps, n):
            b = batches[i % 4]
            loss = torch.nn.functional.cross_entropy(net(b["views"][0]), b["label"])
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

    runs = [("bare loop", run_bare), ("videossl trainer", run_trainer), ("+ on-device aug", run_on_device)]
    for _, fn in runs:
        fn(args.warmup)
    block = args.block or (20 if device.type == "cuda" else 1)
    seconds = {name: [] for name, _ in runs}
    for k in range(args.blocks):  # interleaved blocks, the first loop rotating: drift is shared by all three
        for name, fn in runs[k % 3:] + runs[:k % 3]:
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            fn(block)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds[name].append((time.perf_counter() - t0) / block)
    results = {}
    for name, _ in runs:
        results[name] = 1.0 / statistics.median(seconds[name])
        print(f"{name:18s} {results[name]:8.2f} it/s  {results[name] * args.batch:8.1f} clips/s")
    print(f"peak memory {peak_memory_mb(device):.0f} MB ({device.type}); "
          f"trainer/bare speed ratio {results['videossl trainer'] / results['bare loop']:.3f}; "
          f"with on-device augmentation {results['+ on-device aug'] / results['videossl trainer']:.3f} of the "
          "trainer's speed")
    print(f"model: slow R{args.depth} width {args.width}, batch {args.batch}x3x{args.frames}x{args.size}^2, "
          f"{sum(p.numel() for p in net.parameters()):,} params, threads {torch.get_num_threads()}; "
          f"median of {args.blocks} interleaved blocks of {block} step(s)")


if __name__ == "__main__":
    main()
