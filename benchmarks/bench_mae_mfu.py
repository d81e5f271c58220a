#!/usr/bin/env python3
"""MAE pretraining through the trainer: step time, model FLOPs utilisation (MFU) and peak memory.

Builds the trainer of a shipped MAE config (default: MAE-ST ViT-B 16x4, random
90% masking, 4 clips per video), feeds it in-memory clips of the config's
shape, and prints:

* the model FLOPs of one step (forward + backward): ``torch.utils.flop_counter``
  counts them on a real step (matmuls, the patch convolution and attention; only
  the visible tokens pass through the encoder). For ViT-B MAE-ST (4 clips) the count,
  1.091 TFLOP, is within 0.2% of the transformer formula ``3 (24 n d^2 + 4 n^2 d)``
  per block plus the linear layers and the patch convolution (2026-12-07;
  ``tests/test_bench_mae_mfu.py`` checks a small ViT the same way);
* the median step time over ``--iters`` synchronised steps, after ``--warmup``;
* achieved TFLOP/s and MFU = achieved / the device's dense bf16 peak. The peak is
  looked up by device name (H100 SXM 989, H100 PCIe 756, H200 989, A100 312
  TFLOP/s); ``--peak-tflops`` gives it otherwise. On a CPU, MFU is printed only
  when ``--peak-tflops`` is given;
* peak memory (CUDA: ``max_memory_allocated``; CPU: peak RSS).

    python benchmarks/bench_mae_mfu.py                                  # GPU: 8 videos x 4 clips a step, bf16
    python benchmarks/bench_mae_mfu.py --cfg configs/masked_ssl/videomae/k400_VIT_B_16x4_PT.yaml
    python benchmarks/bench_mae_mfu.py --cfg configs/masked_ssl/synthetic/mae_st_vit_tiny_PT.yaml --videos 2  # CPU

Options after ``--opts`` are config overrides (``KEY VALUE ...``).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from videossl.config import load_config  # noqa: E402
from videossl.engine.hooks.data_health import peak_memory_mb  # noqa: E402
from videossl.engine.loop import build_trainer  # noqa: E402
from videossl.methods import Progress  # noqa: E402

# dense (no sparsity) bf16 tensor-core peaks, TFLOP/s, by a substring of torch.cuda.get_device_name()
PEAK_BF16_TFLOPS = (("H100 PCIe", 756.0), ("H100", 989.0), ("H200", 989.0), ("GH200", 989.0), ("A100", 312.0))


def peak_tflops(device: torch.device, given: float) -> float:
    """The dense bf16 peak of ``device`` (0 when unknown: a CPU, or a GPU not in the table)."""
    if given:
        return given
    if device.type != "cuda":
        return 0.0
    name = torch.cuda.get_device_name(device)
    return next((tf for key, tf in PEAK_BF16_TFLOPS if key in name), 0.0)


def step_flops(trainer, batch) -> int:
    """Model FLOPs of one training step (forward + backward) on ``batch``, counted on a real step.

    Attention runs as SDPA's math backend for this count only: its matmuls are counted on every
    device (the CPU's fused kernel has no FLOP formula), and they are the FLOPs a fused kernel does
    (``4 n^2 d`` forward, twice that backward)."""
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        trainer.run_step(batch, Progress(0, 0, 0, 1000, 1))
    return counter.get_total_flops()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cfg", default="configs/masked_ssl/k400_VIT_B_16x4_MAE_PT.yaml")
    p.add_argument("--videos", type=int, default=8, help="videos a step (each gives the config's clips per video)")
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    p.add_argument("--peak-tflops", type=float, default=0.0, help="the device's dense peak at --dtype")
    p.add_argument("--opts", nargs=argparse.REMAINDER, default=[])
    args = p.parse_args(argv)

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cuda = torch.cuda.is_available()
    cfg = load_config([os.path.join(root, args.cfg)], [
        "NUM_GPUS", "1" if cuda else "0", "TRAIN.BATCH_SIZE", str(args.videos),
        "TRAIN.MIXED_PRECISION", str(args.dtype != "float32"), "TRAIN.MIXED_PRECISION_DTYPE",
        args.dtype if args.dtype != "float32" else "bfloat16",
        "OUTPUT_DIR", tempfile.mkdtemp(prefix="videossl-mfu-"), "LOG_MODEL_INFO", "False",
    ] + args.opts)
    trainer = build_trainer(cfg, hooks=[])
    device = trainer.device
    rho, t, s = cfg.DATA.TRAIN_CROP_NUM_TEMPORAL, cfg.DATA.NUM_FRAMES, cfg.DATA.TRAIN_CROP_SIZE
    g = torch.Generator().manual_seed(0)
    batch = {"views": [torch.randn(args.videos, 3, t, s, s, generator=g).to(device) for _ in range(rho)]}
    trainer.method.train()

    flops = step_flops(trainer, batch)
    for i in range(args.warmup):
        trainer.run_step(batch, Progress(0, i, i, 1000, 1))
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for i in range(args.iters):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        trainer.run_step(batch, Progress(0, i, i, 1000, 1))
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    achieved = flops / step / 1e12
    peak = peak_tflops(device, args.peak_tflops)
    memory = peak_memory_mb(device) / 1024
    name = torch.cuda.get_device_name(device) if cuda else f"CPU, {torch.get_num_threads()} threads"
    params = sum(q.numel() for q in trainer.method.parameters())
    print(f"{args.cfg}: {params / 1e6:.1f}M parameters, {args.videos} videos x {rho} clips of {t}x{s}^2 a step, "
          f"{args.dtype}, on {name}")
    print(f"step {step * 1e3:.1f} ms (median of {len(times)}), {args.videos * rho / step:.1f} clips/s")
    print(f"model FLOPs a step {flops / 1e12:.3f} TFLOP (forward + backward); achieved {achieved:.2f} TFLOP/s")
    print(f"MFU {achieved / peak:.1%} of {peak:g} TFLOP/s" if peak else
          "MFU n/a (unknown peak: give --peak-tflops)")
    print(f"peak memory {memory:.2f} GiB ({'CUDA allocated' if cuda else 'RSS'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
