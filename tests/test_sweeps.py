"""The comparison sweeps' shared runner and the SSL-vs-random table."""

import json
import math
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools import ssl_vs_random as svr  # noqa: E402
from tools.sweep import JobRunner, mean_std  # noqa: E402


def test_mean_std_is_the_sample_std():
    assert mean_std([3.0]) == (3.0, 0.0)
    mean, std = mean_std([1.0, 2.0, 6.0])
    assert mean == 3.0 and math.isclose(std, math.sqrt((4 + 1 + 9) / 2))


def test_runner_skips_finished_jobs_and_logs_commands(tmp_path):
    jobs = JobRunner(str(tmp_path), "t", python=sys.executable, common_opts=["A", "1"])
    done = tmp_path / "done"
    done.mkdir()
    (done / "r.json").write_text(json.dumps({"top1_acc": 42.0}))
    assert jobs.run_net("x.yaml", str(done), ["B", "2"], "r.json") == {"top1_acc": 42.0}
    assert (tmp_path / "commands.txt").read_text() == ""  # nothing was run
    with pytest.raises(SystemExit, match="job failed"):  # x.yaml does not exist: run_net.py fails
        jobs.run_net("x.yaml", str(tmp_path / "new"), ["B", "2"], "r.json")
    line = (tmp_path / "commands.txt").read_text().split()
    assert line[1:] == ["tools/run_net.py", "--cfg", "x.yaml", "OUTPUT_DIR", str(tmp_path / "new"),
                        "A", "1", "B", "2"]


def test_table_reports_mean_std_and_gain_over_common_seeds(tmp_path):
    args = svr.parse_args(["--out", str(tmp_path), "--methods", "moco", "byol"])
    results = {
        "random": {0: {"linear_top1": 10.0, "R@1": 12.0}, 1: {"linear_top1": 12.0, "R@1": 14.0}},
        "moco": {0: {"linear_top1": 30.0, "R@1": 40.0}, 1: {"linear_top1": 34.0, "R@1": 42.0},
                 2: {"linear_top1": 99.0, "R@1": 99.0}},  # seed 2 has no random baseline: left out
        "byol": {},
    }
    table = svr._write(args, results)
    assert "| moco | random | 11.0 ± 1.4 | 13.0 ± 1.4 | 2 |" in table
    assert "| moco | pretrained | 32.0 ± 2.8 | 41.0 ± 1.4 | 2 |" in table
    assert "| moco | gain | +21.0 | +28.0 | |" in table
    assert "byol" not in table
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["moco"]["gain"] == {"linear_top1": 21.0, "R@1": 28.0}


def test_override_flags_accumulate():
    """A script's pinned ``--opts`` survive a user's extra ``--opts`` (scripts/fight_ssl_vs_random.sh)."""
    args = svr.parse_args(["--opts", "DATA.SSL_COLOR_JITTER", "True", "--eval-opts", "A", "1",
                           "--opts", "SOLVER.MAX_EPOCH", "2"])
    assert args.opts == ["DATA.SSL_COLOR_JITTER", "True", "SOLVER.MAX_EPOCH", "2"]
    assert args.eval_opts == ["A", "1"] and svr.parse_args([]).opts == []
