"""Persistent loader workers: one set of worker processes serves every epoch, each epoch still draws
its own augmentation, and a killed-and-resumed run stays bit-identical to an uninterrupted one."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import tiny_cfg_opts
from helpers.runs import assert_same_weights, final_weights, logged_losses
from videossl.data.dataset import VideoDataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _PidDataset(VideoDataset):
    """Each sample says which process made it."""

    def __getitem__(self, key):
        sample = super().__getitem__(key)
        sample["pid"] = os.getpid()
        return sample


def _epochs(tmp_path, monkeypatch, persistent):
    from videossl.config import load_config
    from videossl.data import build_dataset, build_loader
    from videossl.engine.loop import TrainData

    monkeypatch.setenv("VIDEOSSL_CACHE", str(tmp_path / "cache"))
    cfg = load_config([], tiny_cfg_opts(**{
        "TRAIN.DATASET": "synthetic", "SYNTHETIC.NUM_CLASSES": 2, "SYNTHETIC.TRAIN_PER_CLASS": 4,
        "SYNTHETIC.TEST_PER_CLASS": 1, "SYNTHETIC.NUM_FRAMES": 16, "SYNTHETIC.SIZE": 32,
        "DATA.SSL_COLOR_JITTER": True, "DATA_LOADER.NUM_WORKERS": 2,
        "DATA_LOADER.PERSISTENT_WORKERS": persistent}))
    ds = build_dataset(cfg, "train")
    ds.__class__ = _PidDataset
    data = TrainData(ds, lambda d, e, s: build_loader(cfg, d, train=True, batch_size=2, epoch=e, start_iter=s))
    out = []
    for epoch, start in ((0, 0), (1, 0), (2, 1)):
        loader = data.loader(epoch, start)
        batches = list(loader)
        out.append({"loader": loader, "pids": {int(p) for b in batches for p in b["pid"]},
                    "views": {int(i): v for b in batches for i, v in zip(b["index"], b["views"][0])}})
    return out


def test_the_workers_of_epoch_1_serve_epoch_2_with_new_augmentation(tmp_path, monkeypatch):
    kept = _epochs(tmp_path, monkeypatch, persistent=True)
    fresh = _epochs(tmp_path, monkeypatch, persistent=False)
    assert kept[0]["loader"] is kept[1]["loader"] is kept[2]["loader"]  # one loader ...
    assert len(kept[0]["pids"]) == 2 and kept[0]["pids"] == kept[1]["pids"] == kept[2]["pids"]  # ... one pair of workers
    assert os.getpid() not in kept[0]["pids"]
    assert fresh[0]["pids"].isdisjoint(fresh[1]["pids"])  # the old behaviour: new workers every epoch
    for epoch in range(3):  # the same samples as loaders built per epoch, bit for bit
        assert kept[epoch]["views"].keys() == fresh[epoch]["views"].keys()
        for i, v in kept[epoch]["views"].items():
            assert torch.equal(v, fresh[epoch]["views"][i])
    assert len(kept[2]["views"]) == 6  # epoch 2 resumed at batch 1: 2 of 8 samples skipped
    changed = [not torch.equal(v, kept[1]["views"][i]) for i, v in kept[0]["views"].items()]
    assert all(changed)  # every sample is augmented afresh in the next epoch


def _cmd(out_dir):
    opts = tiny_cfg_opts(**{
        "TRAIN.DATASET": "synthetic", "TEST.DATASET": "synthetic", "TEST.ENABLE": "False",
        "SYNTHETIC.NUM_CLASSES": 4, "SYNTHETIC.TRAIN_PER_CLASS": 4, "SYNTHETIC.TEST_PER_CLASS": 1,
        "SYNTHETIC.NUM_FRAMES": 16, "SYNTHETIC.SIZE": 32, "MODEL.DROPOUT_RATE": 0.5,
        "DATA.SSL_COLOR_JITTER": True, "DATA_LOADER.NUM_WORKERS": 2, "DATA_LOADER.PERSISTENT_WORKERS": True,
        "SOLVER.MAX_EPOCH": 3, "SOLVER.BASE_LR": 0.05, "TRAIN.CHECKPOINT_ITER_PERIOD": 1,
        "TRAIN.CHECKPOINT_PERIOD": 1, "OUTPUT_DIR": out_dir,
    })
    return [sys.executable, os.path.join(ROOT, "tools", "run_net.py")] + opts


@pytest.mark.timeout(400)
def test_kill_and_resume_with_persistent_workers_is_exact(tmp_path):
    """Killed in epoch 1 (0-based), resumed: the resumed process's one loader finishes epoch 1 from the
    next batch and then serves epoch 2; losses and final weights equal the uninterrupted run's."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", VIDEOSSL_CACHE=str(tmp_path / "cache"))
    ref_dir, run_dir = str(tmp_path / "ref"), str(tmp_path / "run")
    subprocess.run(_cmd(ref_dir), check=True, env=env, cwd=ROOT, capture_output=True)
    proc = subprocess.Popen(_cmd(run_dir), env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt_dir = os.path.join(run_dir, "checkpoints")
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        names = os.listdir(ckpt_dir) if os.path.isdir(ckpt_dir) else []
        if any("epoch_00002_iter" in n for n in names):  # mid-way through the second epoch
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    subprocess.run(_cmd(run_dir), check=True, env=env, cwd=ROOT, capture_output=True)
    ref_losses, run_losses = logged_losses(ref_dir), logged_losses(run_dir)
    assert len(ref_losses) == 12 and run_losses == ref_losses
    name = "checkpoint_epoch_00003.pyth"
    assert_same_weights(final_weights(ref_dir, name), final_weights(run_dir, name))
