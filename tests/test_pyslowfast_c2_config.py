"""PySlowFast's own ``configs/Kinetics/c2/SLOW_8x8_R50.yaml`` runs end to end: pointed at data, shrunk for a
CPU with overrides, trained one epoch with precise BN (its ``BN.USE_PRECISE_STATS True``) and tested."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from helpers.pyslowfast_configs import SLOW_8x8_R50, SNAPSHOT
from videossl.data.fixtures import make_kinetics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "configs/Kinetics/c2/SLOW_8x8_R50.yaml"


def _snapshot_text():
    if not os.path.isdir(SNAPSHOT):
        return None
    return subprocess.run(["git", "-C", SNAPSHOT, "show", f"HEAD:{NAME}"], check=True, capture_output=True,
                          text=True).stdout


def test_the_recorded_config_is_pyslowfasts():
    text = _snapshot_text()
    if text is None:
        pytest.skip(f"no PySlowFast snapshot at {SNAPSHOT} (fetch facebookresearch/SlowFast)")
    assert yaml.safe_load(text) == SLOW_8x8_R50


@pytest.mark.timeout(300)
def test_slow_8x8_r50_trains_with_precise_bn_and_tests(tmp_path):
    path = tmp_path / "SLOW_8x8_R50.yaml"
    path.write_text(_snapshot_text() or yaml.safe_dump(SLOW_8x8_R50))
    data = make_kinetics(str(tmp_path / "k400"), labels=(0, 1, 2, 0, 1, 2), num_frames=40, splits=("train", "test"))
    out = tmp_path / "out"
    overrides = {  # the usual smoke test of a PySlowFast YAML: train on, one epoch, a CPU-sized model and data
        "TRAIN.ENABLE": "True", "DATA.PATH_TO_DATA_DIR": data, "OUTPUT_DIR": str(out), "NUM_GPUS": "1",
        "SOLVER.MAX_EPOCH": "1", "TRAIN.BATCH_SIZE": "2", "TEST.BATCH_SIZE": "2", "MODEL.NUM_CLASSES": "3",
        "DATA.NUM_FRAMES": "4", "DATA.SAMPLING_RATE": "2", "DATA.TRAIN_JITTER_SCALES": "[32, 40]",
        "DATA.TRAIN_CROP_SIZE": "32", "DATA.TEST_CROP_SIZE": "32", "RESNET.WIDTH_PER_GROUP": "4",
        "BN.NUM_BATCHES_PRECISE": "2", "DATA_LOADER.NUM_WORKERS": "0", "TEST.NUM_ENSEMBLE_VIEWS": "2",
    }
    cmd = [sys.executable, os.path.join(ROOT, "tools", "run_net.py"), "--cfg", str(path)]
    cmd += [tok for kv in overrides.items() for tok in kv]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = (out / "stdout.log").read_text()
    assert "SOLVER.WARMUP_EPOCHS=34.0 exceeds SOLVER.MAX_EPOCH=1" in log + proc.stderr
    assert "precise BN: 2 training batches" in log
    assert (out / "checkpoints" / "checkpoint_epoch_00001.pyth").is_file()
    result = json.loads((out / "results_supervised_topk.json").read_text())
    assert result["num_videos"] == 6 and result["views_per_video"] == 2 * 3
