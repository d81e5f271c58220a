"""The Kinetics SSL configs (ours, and PySlowFast's own YAMLs where a snapshot exists) train on CPU.

A user brings a config, points it at data and shrinks it for a CPU (batch,
frames, crop, one short epoch): the full Slow R50 method is built and one
optimisation step runs.  MoCo's shipped queue (65536 keys) needs 32768 steps
of batch 2 to fill, so MoCo must not step the optimizer; the others must.
"""

import json
import math
import os
import subprocess

import pytest
import torch

from helpers.pyslowfast_configs import EFFECTIVE, SNAPSHOT
from videossl.config import load_config
from videossl.data.fixtures import make_kinetics
from videossl.engine.run import run_task
from videossl.utils.checkpoint import last_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def k400(tmp_path_factory):
    return make_kinetics(str(tmp_path_factory.mktemp("k400")), labels=(0, 1), num_frames=72,
                         splits=("train",))


def _cpu_overrides(data_dir, out_dir):
    return ["DATA.PATH_TO_DATA_DIR", data_dir, "OUTPUT_DIR", out_dir,
            "TRAIN.BATCH_SIZE", "2", "DATA.NUM_FRAMES", "4", "DATA.TRAIN_CROP_SIZE", "32",
            "NUM_GPUS", "1", "SOLVER.MAX_EPOCH", "1", "SOLVER.WARMUP_EPOCHS", "0.0",
            "TRAIN.ITERS_PER_EPOCH", "1", "TEST.ENABLE", "False", "DATA_LOADER.NUM_WORKERS", "0",
            "LOG_MODEL_INFO", "False", "TENSORBOARD.ENABLE", "False"]


def _train_one_step(path, k400, out_dir, name):
    cfg = load_config([path], _cpu_overrides(k400, out_dir))
    assert cfg.SSL.METHOD == EFFECTIVE[name]["method"] and cfg.RESNET.DEPTH == 50
    run_task(cfg)
    with open(os.path.join(out_dir, "stdout.log")) as f:
        iters = [json.loads(line.split("json_stats:", 1)[1]) for line in f if "json_stats:" in line]
    losses = [s["loss"] for s in iters if s["_type"] == "train_iter"]
    assert len(losses) == 1 and math.isfinite(losses[0])
    ckpt = torch.load(last_checkpoint(out_dir, "ssl"), map_location="cpu", weights_only=False)
    assert ckpt["resume_epoch"] == 1
    stepped = bool(ckpt["optimizer_state"]["state"])  # SGD momentum buffers exist after a step
    assert stepped == (cfg.SSL.METHOD != "moco")


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", sorted(EFFECTIVE))
def test_our_kinetics_config_trains_a_step(name, k400, tmp_path):
    path = os.path.join(ROOT, "configs/Kinetics/contrastive_ssl", name + ".yaml")
    _train_one_step(path, k400, str(tmp_path / "out"), name)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", sorted(EFFECTIVE))
def test_pyslowfast_yaml_trains_a_step(name, k400, tmp_path):
    if not os.path.isdir(SNAPSHOT):
        pytest.skip(f"no PySlowFast snapshot at {SNAPSHOT} (fetch facebookresearch/SlowFast)")
    text = subprocess.run(["git", "-C", SNAPSHOT, "show", f"HEAD:configs/contrastive_ssl/{name}.yaml"],
                          check=True, capture_output=True, text=True).stdout
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    _train_one_step(str(path), k400, str(tmp_path / "out"), name)
