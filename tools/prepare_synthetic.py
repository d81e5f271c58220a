#!/usr/bin/env python3
"""Generate the built-in synthetic dataset into its cache (or SYNTHETIC.ROOT) and print where it is.

    python tools/prepare_synthetic.py [--cfg X.yaml] [KEY VALUE ...] [--pilot]

``--pilot`` also checks that the data are learnable but not trivial: it
trains a small 3D CNN supervised for ``--epochs`` epochs and reports its test
accuracy, and the accuracy of a linear probe on the same backbone **randomly
initialised and frozen** (chance = 1 / SYNTHETIC.NUM_CLASSES).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from videossl.config import get_cfg  # noqa: E402


def _cfg(args):
    cfg = get_cfg()
    if args.cfg:
        cfg.merge_from_file(args.cfg)
    cfg.TRAIN.DATASET = cfg.TEST.DATASET = "synthetic"
    if args.pilot:
        cfg.merge_from_list([
            "DATA.NUM_FRAMES", 8, "DATA.SAMPLING_RATE", 2, "DATA.TRAIN_JITTER_SCALES", [64, 80],
            "DATA.TRAIN_CROP_SIZE", 56, "DATA.TEST_CROP_SIZE", 56, "DATA.INPUT_CHANNEL_NUM", [3],
            "TEST.NUM_ENSEMBLE_VIEWS", 1, "TEST.NUM_SPATIAL_CROPS", 1, "DATA_LOADER.NUM_WORKERS", 2,
            "MODEL.ARCH", args.arch if args.arch != "tiny" else "slow", "RESNET.DEPTH", 10, "RESNET.WIDTH_PER_GROUP", 8, "RNG_SEED", 0,
        ])
    cfg.merge_from_list(args.opts)
    return cfg


class TinyC3D(nn.Module):
    """A 5-layer 3D CNN (400k parameters): the pilot's cheap stand-in for a video backbone."""

    def __init__(self, width: int = 16):
        super().__init__()

        def block(cin, cout, stride):
            return nn.Sequential(nn.Conv3d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm3d(cout),
                                 nn.ReLU(inplace=True))

        w = width
        self.body = nn.Sequential(block(3, w, (1, 2, 2)), block(w, 2 * w, (1, 2, 2)), block(2 * w, 4 * w, 2),
                                  block(4 * w, 4 * w, 2), block(4 * w, 8 * w, 1))
        self.feature_dim = 8 * w

    def forward_features(self, x):
        return self.body(x).mean((2, 3, 4))


def _backbone(cfg):
    if cfg.MODEL.ARCH == "tiny":
        return TinyC3D()
    from videossl.models import build_backbone

    return build_backbone(cfg)


@torch.no_grad()
def _features(net, loader):
    net.eval()
    feats, labels = [], []
    for batch in loader:
        feats.append(net.forward_features(batch["views"][0]))
        labels.append(batch["label"])
    return torch.cat(feats), torch.cat(labels)


def _linear_probe(train_x, train_y, test_x, test_y, num_classes, steps=300):
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    best = 0.0
    for wd in (1e-4, 1e-3, 1e-2, 1e-1):  # report the best weight decay: an upper bound for the probe
        clf = nn.Linear(train_x.shape[1], num_classes)
        opt = torch.optim.LBFGS(clf.parameters(), lr=0.5, max_iter=steps)

        def closure():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(clf(train_x), train_y) + wd * clf.weight.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        best = max(best, (clf(test_x).argmax(1) == test_y).float().mean().item())
    return best


def pilot(cfg, epochs: int) -> None:
    from videossl.data import build_dataset, build_loader

    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    classes = cfg.SYNTHETIC.NUM_CLASSES
    train_ds, test_ds = build_dataset(cfg, "train"), build_dataset(cfg, "test")
    probe_train = build_dataset(cfg, "train", mode="test")

    def eval_loader(ds):
        return build_loader(cfg, ds, train=False, batch_size=32)

    # 1) random, frozen backbone + linear probe
    t0 = time.time()
    net = _backbone(cfg)
    tr_x, tr_y = _features(net, eval_loader(probe_train))
    te_x, te_y = _features(net, eval_loader(test_ds))
    random_acc = _linear_probe(tr_x, tr_y, te_x, te_y, classes)
    print(f"random frozen backbone + linear probe: test top-1 {100 * random_acc:.1f}% "
          f"(chance {100 / classes:.1f}%, {time.time() - t0:.0f} s)", flush=True)

    # 2) the same backbone trained supervised
    t0, c0 = time.time(), time.process_time()
    torch.manual_seed(0)
    net = _backbone(cfg)
    head = nn.Linear(net.feature_dim, classes)
    model = nn.ModuleDict({"net": net, "head": head})
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    iters = epochs * (train_ds.num_videos // 16)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=iters, pct_start=0.1)
    for epoch in range(epochs):
        net.train()
        for batch in build_loader(cfg, train_ds, train=True, batch_size=16, epoch=epoch):
            loss = nn.functional.cross_entropy(head(net.forward_features(batch["views"][0])), batch["label"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if (epoch + 1) % 5 == 0 or epoch + 1 == epochs:
            print(f"  epoch {epoch + 1}/{epochs} loss {loss.item():.3f} ({time.time() - t0:.0f} s)", flush=True)
    te_x, te_y = _features(net, eval_loader(test_ds))
    acc = (head(te_x).argmax(1) == te_y).float().mean().item()
    print(f"supervised {cfg.MODEL.ARCH}, {epochs} epochs: test top-1 {100 * acc:.1f}% (chance {100 / classes:.1f}%, "
          f"{time.time() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU of this process)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cfg", default="", help="config file with SYNTHETIC.* settings")
    parser.add_argument("--pilot", action="store_true", help="train a small model and a random-feature probe")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--arch", default="tiny", help="pilot backbone: tiny (a 5-layer 3D CNN) or a MODEL.ARCH")
    parser.add_argument("opts", nargs="*", help="KEY VALUE overrides")
    args = parser.parse_args(argv)
    cfg = _cfg(args)
    if args.pilot and args.arch == "tiny":
        cfg.MODEL.ARCH = "tiny"
    from videossl.data.synthetic import build_synthetic_root

    t0 = time.time()
    root = build_synthetic_root(cfg)
    print(f"synthetic dataset: {root} ({time.time() - t0:.1f} s)")
    if args.pilot:
        pilot(cfg, args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
