"""SimCLR / MoCo / SwAV / BYOL / CoCLR / ViCC: one process vs two gloo processes on the same global batch.

Runs the real Trainer step (DDP for forward methods, ``train_step`` + gradient
averaging for SEQUENTIAL ones) in float64 with all-reduce sync BN (backbone
and projection MLP) and the global variants (``SSL.MOCO_GLOBAL_QUEUE``,
``SSL.SWAV_GLOBAL_SINKHORN``).  The loss averaged over ranks, every
gradient, the updated weights and the MoCo queue must match the
single-process run to 1e-6.
"""

import faulthandler
import gc
import os

import pytest
import torch
import torch.distributed as dist

from conftest import spawn_two_ranks, tiny_cfg_opts
from videossl.config import load_config
from videossl.methods import Progress

GLOBAL_BATCH = 8

CASES = {
    # name: (rho, overrides)
    "simclr": (2, {"SSL.METHOD": "simclr"}),  # forward path under DDP, gather with gradients
    "moco": (3, {"SSL.METHOD": "moco", "CONTRASTIVE.SEQUENTIAL": True, "SSL.MOCO_GLOBAL_QUEUE": True,
                 "CONTRASTIVE.MOCO_MULTI_VIEW_QUEUE": True, "CONTRASTIVE.QUEUE_LEN": 48,
                 "CONTRASTIVE.MOMENTUM_ANNEALING": True}),
    "swav": (3, {"SSL.METHOD": "swav", "SSL.SWAV_GLOBAL_SINKHORN": True, "CONTRASTIVE.BN_MLP": True,
                 "SSL.SWAV_NUM_PROTOTYPES": 6, "CONTRASTIVE.T": 0.1}),
    "byol": (2, {"SSL.METHOD": "byol", "CONTRASTIVE.SEQUENTIAL": True, "CONTRASTIVE.NUM_MLP_LAYERS": 2,
                 "CONTRASTIVE.BN_MLP": True, "CONTRASTIVE.PREDICTOR_DEPTHS": [2], "CONTRASTIVE.T": 0.5}),
    # CoCLR's InfoNCE on flow, and CoCLR co-training: a queue of one global batch, full after the first
    # step, so the second step mines top-k positives (and drops the self-positive, p = 1)
    "infonce": (2, {"SSL.METHOD": "infonce", "SSL.COCLR_STREAM": "flow", "DATA.USE_FLOW": True,
                    "CONTRASTIVE.QUEUE_LEN": 16, "CONTRASTIVE.T": 0.07, "CONTRASTIVE.NUM_MLP_LAYERS": 2}),
    "coclr": (2, {"SSL.METHOD": "coclr", "DATA.USE_FLOW": True, "CONTRASTIVE.QUEUE_LEN": GLOBAL_BATCH,
                  "SSL.COCLR_TOPK": 2, "SSL.COCLR_DROP_SELF_P": 1.0, "CONTRASTIVE.T": 0.07,
                  "CONTRASTIVE.NUM_MLP_LAYERS": 2}),
    # ViCC single and cross stream, global Sinkhorn: a per-process queue of one global batch, filled by the
    # first step and used by the second (the union of the two ranks' queues is the one process's queue)
    "vicc": (2, {"SSL.METHOD": "vicc", "DATA.USE_FLOW": True, "CONTRASTIVE.SWAV_QEUE_LEN": GLOBAL_BATCH,
                 "SSL.SWAV_QUEUE_START_EPOCH": 0, "SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS": 0,
                 "SSL.SWAV_NUM_PROTOTYPES": 6, "CONTRASTIVE.T": 0.1, "CONTRASTIVE.NUM_MLP_LAYERS": 2}),
    "vicc_cross": (2, {"SSL.METHOD": "vicc_cross", "SSL.COCLR_STREAM": "flow", "DATA.USE_FLOW": True,
                       "CONTRASTIVE.SWAV_QEUE_LEN": GLOBAL_BATCH, "SSL.SWAV_QUEUE_START_EPOCH": 0,
                       "SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS": 0, "SSL.SWAV_NUM_PROTOTYPES": 6,
                       "CONTRASTIVE.T": 0.1, "CONTRASTIVE.NUM_MLP_LAYERS": 2}),
}
STEPS = {"coclr": 2, "vicc": 2, "vicc_cross": 2}
PER_RANK = {"queue_swav"}  # per-process state: compared slice by slice below


def _batch(rho: int, rank: int, world: int):
    g = torch.Generator().manual_seed(0)
    views = [torch.randn(GLOBAL_BATCH, 3, 4, 32, 32, generator=g, dtype=torch.float64) for _ in range(rho)]
    flow = [torch.randn(GLOBAL_BATCH, 3, 4, 32, 32, generator=g, dtype=torch.float64) for _ in range(rho)]
    source = torch.tensor([0, 0, 1, 2, 3, 4, 5, 6])  # two clips cut from one source video
    per = GLOBAL_BATCH // world
    sl = slice(rank * per, (rank + 1) * per)
    return {"views": [v[sl] for v in views], "flow": [f[sl] for f in flow], "label": torch.zeros(per, dtype=torch.long),
            "index": torch.arange(GLOBAL_BATCH)[sl], "source_id": source[sl]}


def _one_step(name: str, rank: int, world: int, out_dir: str):
    from videossl.engine.loop import build_trainer

    torch.set_default_dtype(torch.float64)
    rho, extra = CASES[name]
    cfg = load_config([], tiny_cfg_opts(**{
        "BN.NORM_TYPE": "sync_batchnorm", "CONTRASTIVE.BN_SYNC_MLP": True, "NUM_GPUS": world,
        "TRAIN.BATCH_SIZE": GLOBAL_BATCH, "SOLVER.BASE_LR": 0.5, "SOLVER.WEIGHT_DECAY": 1e-4,
        "OUTPUT_DIR": os.path.join(out_dir, f"{name}_{world}"), "DATA.TRAIN_CROP_NUM_TEMPORAL": rho,
        "CONTRASTIVE.DIM": 8, "MODEL.NUM_CLASSES": 8, "CONTRASTIVE.MLP_DIM": 16,
        "CONTRASTIVE.NUM_MLP_LAYERS": 3, "RESNET.NUM_BLOCK_TEMP_KERNEL": [[1], [1], [1], [1]],
        **extra,
    }))
    trainer = build_trainer(cfg)
    grads = {}

    def record(progress):
        grads.update({n: p.grad.clone() for n, p in trainer.method.named_parameters() if p.grad is not None})
        return True

    trainer.method.before_optimizer_step = record
    trainer.method.train()
    for step in range(STEPS.get(name, 1)):
        stats = trainer.run_step(_batch(rho, rank, world), Progress(0, step, step, 10, 2))
    loss = torch.tensor([stats["loss"]])
    if world > 1:
        dist.all_reduce(loss)
        loss /= world
    if rank == 0:
        torch.save({"loss": loss.item(), "grads": grads, "state": trainer.method.state_dict(), "stats": stats},
                   os.path.join(out_dir, f"{name}_{world}.pt"))
    # ``record`` and the trainer hold each other: free the DDP wrapper and its reducer now,
    # on every rank at the same point, not whenever the garbage collector next runs.
    del trainer.method.before_optimizer_step
    del trainer, record
    gc.collect()
    if world > 1:
        dist.barrier()


def _shuffle_bn(rank: int, world: int, out_dir: str):
    """Shuffle-BN: keys come back in order; what each rank encodes is a slice of a global permutation."""
    from videossl.methods.shuffle_bn import batch_shuffle, batch_unshuffle, shuffle_group

    torch.manual_seed(100 + rank)  # the permutation must still agree (broadcast from rank 0)
    x = torch.arange(8, dtype=torch.float64).view(4, 2) + 100 * rank
    shuffled, restore = batch_shuffle(x, shuffle_group(local=True, num_shards=1))
    centred = shuffled - shuffled.mean(0)  # a per-process "BN"
    back = batch_unshuffle(centred, restore)
    same = batch_unshuffle(shuffled, restore)
    local_group = shuffle_group(local=True, num_shards=2)  # one process per machine: no shuffle
    alone, none = batch_shuffle(x, local_group)
    torch.save({"x": x, "shuffled": shuffled, "back": back, "same": same, "alone": alone, "none": none},
               os.path.join(out_dir, f"shuffle_{rank}.pt"))


def _spawned(rank, world, init_file, out_dir):
    faulthandler.enable()  # a C++ abort in a rank prints every thread's Python stack
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        for name in CASES:
            _one_step(name, rank, world, out_dir)
        _shuffle_bn(rank, world, out_dir)
    finally:
        from videossl.methods.shuffle_bn import forget_groups

        dist.destroy_process_group()
        forget_groups()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("ssl_dist")
    old = torch.get_default_dtype()
    try:
        for name in CASES:
            _one_step(name, 0, 1, str(out))
    finally:
        torch.set_default_dtype(old)
    spawn_two_ranks(_spawned, str(out))
    return out


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", list(CASES))
def test_one_vs_two_processes(results, name):
    one = torch.load(results / f"{name}_1.pt")
    two = torch.load(results / f"{name}_2.pt")
    assert abs(one["loss"] - two["loss"]) < 1e-6
    assert one["grads"].keys() == two["grads"].keys() and len(one["grads"]) > 20
    assert not any(n.startswith("backbone_hist") for n in one["grads"])
    for n, g in one["grads"].items():
        torch.testing.assert_close(two["grads"][n], g, atol=1e-6, rtol=0, msg=n)
    assert one["state"].keys() == two["state"].keys()
    for n, v in one["state"].items():  # updated weights, BN statistics, momentum encoder, queue
        if n.endswith("num_batches_tracked") or n in PER_RANK:
            continue  # sync BN counts batches only when it synchronises (not part of the maths)
        if v.is_floating_point():
            torch.testing.assert_close(two["state"][n], v, atol=1e-6, rtol=0, msg=n)
        else:
            assert torch.equal(two["state"][n], v), n
    if name == "moco":  # the queue now holds the 3 x 8 keys of the global batch
        assert int(one["state"]["ptr"]) == 3 * GLOBAL_BATCH
    if name == "coclr":  # the second step mined 2 positives per query; the frozen sampler got no gradient
        assert one["stats"]["mined_positives"] == two["stats"]["mined_positives"] == 2
        assert not any(n.startswith("sampler") for n in one["grads"])
        assert (one["state"]["queue_label"] == 1).all() and one["state"]["queue_vname"].tolist() == [0, 0, 1, 2, 3, 4, 5, 6]
    if name.startswith("vicc"):  # rank 0's queue holds its half of the global batch, newest first
        q1, q2 = one["state"]["queue_swav"], two["state"]["queue_swav"]
        assert q1.shape[1] == GLOBAL_BATCH and q2.shape[1] == GLOBAL_BATCH // 2 and q1[:, -1].abs().sum() > 0
        torch.testing.assert_close(q2, q1[:, :GLOBAL_BATCH // 2], atol=1e-6, rtol=0)
        assert not any(n.startswith("second") for n in one["grads"])


def test_shuffle_bn_two_processes(results):
    r = [torch.load(results / f"shuffle_{i}.pt") for i in range(2)]
    everything = torch.cat([r[0]["x"], r[1]["x"]])
    shuffled = torch.cat([r[0]["shuffled"], r[1]["shuffled"]])
    # the two slices form one permutation of the global batch
    assert sorted(shuffled[:, 0].tolist()) == sorted(everything[:, 0].tolist())
    assert not torch.equal(shuffled, everything)  # 8! permutations: identity has probability 1/40320
    for i in range(2):
        assert torch.equal(r[i]["same"], r[i]["x"])  # unshuffle restores each rank's own rows
        assert r[i]["none"] is None and torch.equal(r[i]["alone"], r[i]["x"])
    # statistics were computed over the shuffled slices, not over each rank's own batch
    assert not torch.allclose(r[0]["back"], r[0]["x"] - r[0]["x"].mean(0))
