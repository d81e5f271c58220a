"""Bad input stops a run with exactly one clear line naming the culprit."""

import os
import subprocess
import sys

import pytest

from conftest import tiny_cfg_opts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(tmp_path, **opts):
    cmd = [sys.executable, os.path.join(ROOT, "tools", "run_net.py")] + tiny_cfg_opts(
        **{"OUTPUT_DIR": str(tmp_path / "out"), "SOLVER.MAX_EPOCH": 1, **opts})
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    err_lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    return proc.returncode, err_lines


def test_missing_data_dir(tmp_path):
    missing = tmp_path / "no_such_dir"
    rc, err = _run(tmp_path, **{"DATA.PATH_TO_DATA_DIR": str(missing)})
    assert rc == 1
    assert len(err) == 1 and str(missing) in err[0], err


def test_empty_csv(tmp_path):
    data = tmp_path / "k400"
    data.mkdir()
    (data / "train.csv").write_text("")
    rc, err = _run(tmp_path, **{"DATA.PATH_TO_DATA_DIR": str(data)})
    assert rc == 1
    assert len(err) == 1 and "train.csv" in err[0], err


def test_unreadable_checkpoint(tmp_path):
    bad = tmp_path / "weights.pyth"
    bad.write_bytes(b"this is not a checkpoint")
    rc, err = _run(tmp_path, **{"TRAIN.DATASET": "synthetic", "SYNTHETIC.NUM_CLASSES": 4,
                                "SYNTHETIC.TRAIN_PER_CLASS": 2, "SYNTHETIC.TEST_PER_CLASS": 1,
                                "SYNTHETIC.NUM_FRAMES": 16, "SYNTHETIC.SIZE": 32,
                                "TRAIN.CHECKPOINT_FILE_PATH": str(bad)})
    assert rc == 1
    assert len(err) == 1 and str(bad) in err[0], err
