"""A non-finite loss stops the run with a clear message and keeps the last good checkpoint."""

import os

import pytest
import torch

from conftest import tiny_cfg_opts
from videossl.config import load_config
from videossl.methods.registry import METHOD_REGISTRY, register_method
from videossl.methods.supervised import build as build_supervised


if "nan_after_3" not in METHOD_REGISTRY:

    @register_method("nan_after_3")
    def _build(cfg):
        method = build_supervised(cfg)
        original = method.forward
        calls = {"n": 0}

        def forward(batch):
            out = original(batch)
            calls["n"] += 1
            if calls["n"] > 3:
                out["loss"] = out["loss"] * float("nan")
            return out

        method.forward = forward
        return method


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    from videossl.engine.hooks import NonFiniteLossError
    from videossl.engine.run import run_task

    cfg = load_config([], tiny_cfg_opts(**{
        "TASK": "pretrain", "SSL.METHOD": "nan_after_3", "TRAIN.DATASET": "synthetic",
        "TEST.ENABLE": "False", "SYNTHETIC.NUM_CLASSES": 4, "SYNTHETIC.TRAIN_PER_CLASS": 4,
        "SYNTHETIC.TEST_PER_CLASS": 1, "SYNTHETIC.NUM_FRAMES": 16, "SYNTHETIC.SIZE": 32,
        "SOLVER.MAX_EPOCH": 2, "TRAIN.CHECKPOINT_ITER_PERIOD": 1, "OUTPUT_DIR": str(tmp_path),
    }))
    with pytest.raises(NonFiniteLossError, match=r"loss is nan at epoch 1 iteration 4.*Last good checkpoint: .*iter_0000003"):
        run_task(cfg)
    ckpt_dir = tmp_path / "checkpoints"
    names = sorted(os.listdir(ckpt_dir))
    assert names == ["ssl_checkpoint_epoch_00000_iter_0000003.pyth"]
    state = torch.load(ckpt_dir / names[0], weights_only=False)
    assert state["resume_iter"] == 3
    assert all(torch.isfinite(v).all() for v in state["model_state"].values() if v.is_floating_point())
