"""run_net.py with NUM_GPUS 2 on a CPU machine: two gloo processes train and test together."""

import json
import os
import subprocess
import sys

import pytest

from conftest import tiny_cfg_opts
from helpers.runs import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.timeout(240)
def test_two_process_spawn_trains_and_tests(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, os.path.join(ROOT, "tools", "run_net.py"),
           "--init_method", f"tcp://127.0.0.1:{free_port()}"] + tiny_cfg_opts(**{
               "NUM_GPUS": 2, "TRAIN.BATCH_SIZE": 4, "TEST.BATCH_SIZE": 4, "OUTPUT_DIR": str(out),
               "TRAIN.DATASET": "synthetic", "TEST.DATASET": "synthetic", "SYNTHETIC.NUM_CLASSES": 4,
               "SYNTHETIC.TRAIN_PER_CLASS": 4, "SYNTHETIC.TEST_PER_CLASS": 3, "SYNTHETIC.NUM_FRAMES": 16,
               "SYNTHETIC.SIZE": 32, "SOLVER.MAX_EPOCH": 1, "BN.NORM_TYPE": "sync_batchnorm",
               "TEST.NUM_ENSEMBLE_VIEWS": 2, "TEST.NUM_SPATIAL_CROPS": 3})
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=220)
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = (out / "stdout.log").read_text()
    assert "2 process(es), batch 2 per process, global batch 4" in log
    # 16 train videos / global batch 4 = 4 iterations, each logged once (rank 0 only)
    assert log.count('"_type": "train_iter"') == 4
    result = json.loads((out / "results_supervised_topk.json").read_text())
    # every one of the 12 test videos was seen with all 6 views despite the 2-way split
    assert result["num_videos"] == 12 and result["views_per_video"] == 6
