"""The MFU benchmark's FLOP count (benchmarks/bench_mae_mfu.py) against a count made from the layers' shapes."""

import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from bench_mae_mfu import step_flops  # noqa: E402

from videossl.config import load_config  # noqa: E402
from videossl.engine.loop import build_trainer  # noqa: E402
from videossl.models.vit_layers import Attention  # noqa: E402


def test_step_flops_are_three_forward_passes_of_matmuls_and_attention(tmp_path):
    cfg = load_config([os.path.join(ROOT, "configs/masked_ssl/synthetic/mae_st_vit_tiny_PT.yaml")],
                      ["NUM_GPUS", "0", "TRAIN.BATCH_SIZE", "2", "OUTPUT_DIR", str(tmp_path)])
    trainer = build_trainer(cfg, hooks=[])
    t, s = cfg.DATA.NUM_FRAMES, cfg.DATA.TRAIN_CROP_SIZE
    batch = {"views": [torch.randn(2, 3, t, s, s) for _ in range(cfg.DATA.TRAIN_CROP_NUM_TEMPORAL)]}

    # forward FLOPs from each layer's input and output shapes: 2 per multiply-add
    linear = attention = conv = 0

    def on_linear(m, inputs, out):
        nonlocal linear
        linear += 2 * inputs[0].numel() // m.in_features * m.in_features * m.out_features

    def on_attention(m, inputs, out):
        nonlocal attention
        b, n, d = inputs[0].shape
        attention += 4 * b * n * n * d  # q k^T and (softmax) v

    def on_conv(m, inputs, out):
        nonlocal conv
        conv += 2 * out.numel() * m.weight[0].numel()

    hooks = []
    for m in trainer.method.modules():
        if isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(on_linear))
        elif isinstance(m, Attention):
            hooks.append(m.register_forward_hook(on_attention))
        elif isinstance(m, torch.nn.Conv3d):
            hooks.append(m.register_forward_hook(on_conv))
    with torch.no_grad():
        trainer.method.train_step(batch, lambda loss: None, trainer.method)
    for h in hooks:
        h.remove()
    assert linear and attention and conv
    # backward: twice the forward (input and weight gradients), but the patch convolution's
    # input (the video) needs no gradient
    expected = 3 * (linear + attention) + 2 * conv
    counted = step_flops(trainer, batch)
    assert abs(counted - expected) <= 1e-6 * expected, (counted, expected)
