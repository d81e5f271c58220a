#!/usr/bin/env python3
"""Masked pretraining step at mask ratio 0.9 vs 0: what encoding only the visible tokens buys.

ViT-S (384 wide, 6 heads, 12 blocks) on 16 frames at 112^2 with 2x16x16
tubelets (8x7x7 = 392 tokens), VideoMAE-S decoder (4 blocks, 192 wide) and
targets.  One training step = forward + backward + AdamW step.  At ratio 0.9
the encoder sees 40 tokens per clip; at ratio 0 it sees all 392 and the same
decoder reconstructs every token.  Both runs use the same model and batches,
interleaved, in one process; the median step time of each and their ratio are
printed.

    python benchmarks/bench_mae.py [--batch 4 --iters 6 --decoder-dim 192 --threads 2]
"""

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from videossl.methods.mae import MAE  # noqa: E402
from videossl.methods.masking import MaskGenerator  # noqa: E402
from videossl.models.vit import vit_from_size  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--ratio", type=float, default=0.9)
    p.add_argument("--mask-type", default="tube", choices=["tube", "random"])
    p.add_argument("--decoder-dim", type=int, default=192)
    p.add_argument("--decoder-depth", type=int, default=4)
    p.add_argument("--iters", type=int, default=6)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    torch.manual_seed(0)
    backbone = vit_from_size("S", num_frames=args.frames, crop_size=args.size, pos_embed="sincos",
                             use_cls_token=False, use_mean_pooling=True)
    gens = {"masked": MaskGenerator(args.ratio, args.mask_type), "full": MaskGenerator(0.0, args.mask_type)}
    mae = MAE(backbone, gens["masked"], decoder_dim=args.decoder_dim, decoder_depth=args.decoder_depth,
              time_stride_loss=False, per_channel=True).to(device).train()
    opt = torch.optim.AdamW(mae.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05)
    g = torch.Generator().manual_seed(0)
    batch = {"views": [torch.randn(args.batch, 3, args.frames, args.size, args.size, generator=g).to(device)]}
    tokens = backbone.grid[0] * backbone.grid[1] * backbone.grid[2]

    seen = {}
    backbone.blocks[0].register_forward_hook(lambda m, i, o: seen.__setitem__("tokens", i[0].shape[1]))

    def step():
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss = mae(batch)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    times = {"masked": [], "full": []}
    encoder_tokens = {}
    for it in range(args.warmup + args.iters):
        for name in ("masked", "full"):
            mae.mask_generator = gens[name]
            dt = step()
            encoder_tokens[name] = seen["tokens"]
            if it >= args.warmup:
                times[name].append(dt)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"device {device}, threads {torch.get_num_threads()}, ViT-S {args.frames}x{args.size}^2, "
          f"{tokens} tokens, batch {args.batch}, decoder {args.decoder_depth}x{args.decoder_dim}, "
          f"{args.mask_type} masking")
    for name in ("masked", "full"):
        ratio = args.ratio if name == "masked" else 0.0
        print(f"  ratio {ratio:.2f}: encoder sees {encoder_tokens[name]:4d} tokens/clip, "
              f"step {med[name] * 1000:8.1f} ms (median of {len(times[name])}), "
              f"{args.batch / med[name]:6.2f} clips/s")
    print(f"speed-up of masked pretraining (ratio {args.ratio} vs 0): {med['full'] / med['masked']:.2f}x")


if __name__ == "__main__":
    main()
