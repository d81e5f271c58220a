#!/usr/bin/env python3
"""Forward+backward time of our S3D / R(2+1)D backbones against torchvision's, in one run.

    python benchmarks/bench_backbones.py [--batch 2 --frames 8 --size 112 --iters 3 --threads 1]

Each network maps a B x 3 x T x H x W clip to pooled features (no classifier),
and one step is forward, ``features.mean().backward()``.  The steps of a pair
are interleaved (ours, reference, ours, ...) so that both see the same load on
a shared machine.  Printed: parameters, fvcore GMACs of the forward pass (a
load-independent cost), median seconds per step, and the time ratio to the
torchvision network it is compared with.

* ``S3D`` (ours, CoCLR layout) vs ``torchvision s3d``: the same architecture
  (7,910,048 parameters each).  torchvision's ``s3d`` ends in a fixed
  ``AvgPool3d((2, 7, 7))`` that needs >= 16 x 224^2 inputs, so its pool is
  replaced by a global average here (the convolutions are untouched), which
  lets all networks run at the same small clip (default 2 x 3 x 8 x 112^2).
* ``R2Plus1D`` (ours, 15.4M R(2+1)D-18) and ``R2Plus1DNet`` (ours, ViCC's
  14.4M) vs ``torchvision r2plus1d_18`` (31.3M backbone): different networks
  that share the name; the ratio shows what each costs.
"""

import argparse
import os
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from videossl.models.model_info import count_params, flops_gmac  # noqa: E402
from videossl.models.r2plus1d import R2Plus1D, R2Plus1DNet  # noqa: E402
from videossl.models.s3d import S3D  # noqa: E402


class _TorchvisionS3D(nn.Module):
    def __init__(self):
        super().__init__()
        from torchvision.models.video import s3d

        self.features = s3d().features
        self.pool = nn.AdaptiveAvgPool3d(1)

    def forward(self, x):
        return self.pool(self.features(x)).flatten(1)


class _TorchvisionR2Plus1D(nn.Module):
    def __init__(self):
        super().__init__()
        from torchvision.models.video import r2plus1d_18

        self.net = r2plus1d_18()
        self.net.fc = nn.Identity()

    def forward(self, x):
        return self.net(x)


class _Features(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.forward_features(x)


def _step(net: nn.Module, x: torch.Tensor) -> float:
    net.zero_grad(set_to_none=True)
    start = time.perf_counter()
    net(x).mean().backward()
    return time.perf_counter() - start


def _time_pair(a: nn.Module, b: nn.Module, x: torch.Tensor, iters: int, warmup: int):
    """Median s/step of ``a`` and ``b``, their steps interleaved so both see the same machine load."""
    a.train()
    b.train()
    times_a, times_b = [], []
    for i in range(warmup + iters):
        ta, tb = _step(a, x), _step(b, x)
        if i >= warmup:
            times_a.append(ta)
            times_b.append(tb)
    return statistics.median(times_a), statistics.median(times_b)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1: steadiest on a shared machine; 0: leave as is)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, args.frames, args.size, args.size)
    pairs = [
        ("S3D (ours)", lambda: _Features(S3D()), "torchvision s3d", _TorchvisionS3D),
        ("R2Plus1D-18 (ours, 15.4M)", lambda: _Features(R2Plus1D(18)), "torchvision r2plus1d_18", _TorchvisionR2Plus1D),
        ("R2Plus1DNet (ours, ViCC)", lambda: _Features(R2Plus1DNet()), "torchvision r2plus1d_18", _TorchvisionR2Plus1D),
    ]
    print(f"forward+backward, input {tuple(x.shape)}, {torch.get_num_threads()} threads, "
          f"median of {args.iters} after {args.warmup} warm-up")
    print(f"| {'network':<26} | {'params':>11} | {'GMACs':>6} | {'s/step':>7} | {'reference':<23} | "
          f"{'params':>11} | {'GMACs':>6} | {'s/step':>7} | {'ratio':>5} |")
    print(f"|{'-' * 28}|{'-' * 13}|{'-' * 8}|{'-' * 9}|{'-' * 25}|{'-' * 13}|{'-' * 8}|{'-' * 9}|{'-' * 7}|")
    shape = tuple(x.shape)
    for name, make, ref_name, make_ref in pairs:
        ours, ref = make(), make_ref()
        g_ours, g_ref = flops_gmac(ours, shape), flops_gmac(ref, shape)
        t_ours, t_ref = _time_pair(ours, ref, x, args.iters, args.warmup)
        print(f"| {name:<26} | {count_params(ours):>11,} | {g_ours:6.2f} | {t_ours:7.3f} | {ref_name:<23} | "
              f"{count_params(ref):>11,} | {g_ref:6.2f} | {t_ref:7.3f} | {t_ours / t_ref:5.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
