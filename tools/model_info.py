#!/usr/bin/env python3
"""Parameter count and fvcore GFLOPs (multiply-adds) of the backbones, one table row each.

    python tools/model_info.py                      # the reference backbones at their papers' inputs
    python tools/model_info.py --only s3d r2plus1d_18 --no-flops
    python tools/model_info.py --cfg configs/X.yaml [KEY VALUE ...]   # whatever a config builds

Params are counted for the backbone alone and with a 400-class linear head;
GFLOPs are for one clip through the backbone (``forward_features``).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from videossl.config import load_config  # noqa: E402
from videossl.models import build_backbone  # noqa: E402
from videossl.models.model_info import count_params, flops_gmac  # noqa: E402

# name -> (config overrides, input C x T x H x W at which the source reports / trains it)
PRESETS = {
    "slow_r50_8x8": (["MODEL.ARCH", "slow", "RESNET.DEPTH", "50"], (3, 8, 224, 224)),
    "slow_r50_8x8@256": (["MODEL.ARCH", "slow", "RESNET.DEPTH", "50"], (3, 8, 256, 256)),
    "slow_r50_16x4": (["MODEL.ARCH", "slow", "RESNET.DEPTH", "50"], (3, 16, 224, 224)),
    # PySlowFast's depth 18 = 2-2-2-2 bottleneck blocks at R50 widths (its basic_transform keeps
    # the 256..2048 widths too, which makes a 320M-parameter network).
    "slow_r18_8x8": (["MODEL.ARCH", "slow", "RESNET.DEPTH", "18"], (3, 8, 224, 224)),
    "slow_r101_8x8": (["MODEL.ARCH", "slow", "RESNET.DEPTH", "101"], (3, 8, 224, 224)),
    "i3d_r50_8x8": (["MODEL.ARCH", "i3d", "RESNET.DEPTH", "50"], (3, 8, 224, 224)),
    "s3d": (["MODEL.ARCH", "s3d"], (3, 32, 128, 128)),
    "s3dg": (["MODEL.ARCH", "s3dg"], (3, 32, 128, 128)),
    "r2plus1d_18": (["MODEL.ARCH", "r2plus1d_18"], (3, 32, 112, 112)),
    "r21d_vcop": (["MODEL.ARCH", "r21d_vcop"], (3, 32, 128, 128)),
}


def _row(name, cfg, shape, flops):
    net = build_backbone(cfg)
    backbone = count_params(net)
    head = net.feature_dim * 400 + 400
    gmac = f"{flops_gmac(net, (1,) + tuple(shape), features_only=True):9.2f}" if flops else "        -"
    dims = "x".join(str(d) for d in shape)
    return f"| {name:<18} | {cfg.MODEL.ARCH:<11} | {dims:<13} | {backbone:>12,} | {backbone + head:>13,} | " \
           f"{net.feature_dim:>5} | {gmac} |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=None, help=f"presets to show: {', '.join(PRESETS)}")
    parser.add_argument("--cfg", default=None, help="show the backbone this config builds instead")
    parser.add_argument("--no-flops", action="store_true", help="skip the (slow) FLOP count")
    parser.add_argument("opts", nargs="*", help="KEY VALUE overrides for --cfg")
    args = parser.parse_args(argv)
    print("| backbone           | MODEL.ARCH  | input CxTxHxW |       params | +400-cls head |   dim |     GMACs |")
    print("|--------------------|-------------|---------------|--------------|---------------|-------|-----------|")
    if args.cfg:
        cfg = load_config([args.cfg], args.opts)
        shape = (cfg.DATA.INPUT_CHANNEL_NUM[0], cfg.DATA.NUM_FRAMES, cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.TRAIN_CROP_SIZE)
        print(_row(os.path.basename(args.cfg)[:18], cfg, shape, not args.no_flops))
        return 0
    names = args.only if args.only else list(PRESETS)
    unknown = [n for n in names if n not in PRESETS]
    if unknown:
        print(f"unknown preset(s) {unknown}; known: {list(PRESETS)}", file=sys.stderr)
        return 2
    for name in names:
        opts, shape = PRESETS[name]
        print(_row(name, load_config([], opts), shape, not args.no_flops), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
