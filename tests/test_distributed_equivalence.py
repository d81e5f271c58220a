"""One process vs two gloo processes on the same global batch give the same step.

Uses the real Trainer (DDP + all-reduce sync BN + SGD) in float64: the loss
averaged over ranks, the gradients and the updated weights must match the
single-process run to 1e-6.
"""

import os

import pytest
import torch
import torch.distributed as dist

from conftest import spawn_two_ranks, tiny_cfg_opts
from videossl.config import load_config
from videossl.methods import Progress

GLOBAL_BATCH = 8


def _batch(rank: int, world: int):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(GLOBAL_BATCH, 3, 4, 32, 32, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (GLOBAL_BATCH,), generator=g)
    per = GLOBAL_BATCH // world
    sl = slice(rank * per, (rank + 1) * per)
    return {"views": [x[sl]], "label": y[sl], "index": torch.arange(GLOBAL_BATCH)[sl]}


def _one_step(rank: int, world: int, out_dir: str):
    from videossl.engine.loop import build_trainer

    torch.set_default_dtype(torch.float64)
    cfg = load_config([], tiny_cfg_opts(**{
        "BN.NORM_TYPE": "sync_batchnorm", "NUM_GPUS": world, "TRAIN.BATCH_SIZE": GLOBAL_BATCH,
        "SOLVER.BASE_LR": 0.5, "SOLVER.WEIGHT_DECAY": 1e-4, "OUTPUT_DIR": out_dir,
    }))
    trainer = build_trainer(cfg)
    grads = {}

    def record(progress):
        grads.update({n: p.grad.clone() for n, p in trainer.method.named_parameters() if p.grad is not None})
        return True

    trainer.method.before_optimizer_step = record
    trainer.method.train()
    stats = trainer.run_step(_batch(rank, world), Progress(0, 0, 0, 1, 1))
    loss = torch.tensor([stats["loss"]])
    if world > 1:
        dist.all_reduce(loss)
        loss /= world
    if rank == 0:
        torch.save({"loss": loss.item(), "grads": grads, "params": trainer.method.state_dict()},
                   os.path.join(out_dir, f"result_{world}.pt"))


def _spawned(rank, world, init_file, out_dir):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        _one_step(rank, world, out_dir)
    finally:
        dist.destroy_process_group()


@pytest.mark.timeout(120)
def test_sync_bn_one_vs_two_processes(tmp_path):
    default_dtype = torch.get_default_dtype()
    try:
        _one_step(0, 1, str(tmp_path))
    finally:
        torch.set_default_dtype(default_dtype)
    spawn_two_ranks(_spawned, str(tmp_path))
    one = torch.load(tmp_path / "result_1.pt")
    two = torch.load(tmp_path / "result_2.pt")
    assert abs(one["loss"] - two["loss"]) < 1e-6
    assert one["grads"].keys() == two["grads"].keys() and len(one["grads"]) > 10
    for name, g in one["grads"].items():
        torch.testing.assert_close(two["grads"][name], g, atol=1e-6, rtol=0, msg=name)
    for name, p in one["params"].items():
        if p.is_floating_point():
            torch.testing.assert_close(two["params"][name], p, atol=1e-6, rtol=0, msg=name)
