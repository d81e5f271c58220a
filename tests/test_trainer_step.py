"""Trainer step behaviours that need no data: AMP, clipping, skipped steps, LR schedule."""

import pytest
import torch

from conftest import tiny_cfg_opts
from videossl.config import load_config
from videossl.methods import Progress


def _batch():
    g = torch.Generator().manual_seed(0)
    return {"views": [torch.randn(4, 3, 4, 32, 32, generator=g)], "label": torch.tensor([0, 1, 2, 3])}


def _trainer(tmp_path, **opts):
    from videossl.engine.loop import build_trainer

    return build_trainer(load_config([], tiny_cfg_opts(OUTPUT_DIR=str(tmp_path), **opts)))


def test_bf16_autocast_step_close_to_fp32(tmp_path):
    losses = []
    for amp in ("False", "True"):
        torch.manual_seed(0)
        t = _trainer(tmp_path, **{"TRAIN.MIXED_PRECISION": amp, "TRAIN.MIXED_PRECISION_DTYPE": "bfloat16"})
        losses.append(t.run_step(_batch(), Progress(0, 0, 0, 10, 1))["loss"])
    assert losses[0] == pytest.approx(losses[1], rel=0.05)
    assert losses[0] != losses[1]  # bf16 actually changed the arithmetic


def test_before_optimizer_step_false_skips_update_and_lr_follows_schedule(tmp_path):
    t = _trainer(tmp_path, **{"SOLVER.BASE_LR": 0.4, "SOLVER.MAX_EPOCH": 2, "SOLVER.WARMUP_EPOCHS": 1.0,
                              "SOLVER.WARMUP_START_LR": 0.0})
    before = {k: v.clone() for k, v in t.method.state_dict().items()}
    t.method.before_optimizer_step = lambda progress: False
    stats = t.run_step(_batch(), Progress(0, 5, 5, 10, 2))  # epoch 0.5: half-way through warmup
    after = t.method.state_dict()
    for k, v in before.items():
        if "running" not in k and "num_batches" not in k:
            assert torch.equal(v, after[k]), k
    # warmup goes linearly from 0 to the cosine value at epoch 1 of 2 (0.4 * 0.5 = 0.2): half-way is 0.1
    assert stats["lr"] == pytest.approx(0.1)


def test_gradient_clipping_bounds_the_norm(tmp_path):
    t = _trainer(tmp_path, **{"SOLVER.CLIP_GRAD_L2NORM": 1e-3})
    norms = []
    t.method.before_optimizer_step = lambda p: norms.append(
        torch.linalg.vector_norm(torch.stack([q.grad.norm() for q in t.method.parameters() if q.grad is not None]))) or True
    t.run_step(_batch(), Progress(0, 0, 0, 10, 1))
    assert norms[0] <= 1e-3 + 1e-9
