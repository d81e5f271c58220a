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


def test_mae_sweep_picks_test_videos_of_a_kinetics_csv_round_robin(tmp_path):
    from tools.mae_vs_random import RECIPES, test_videos
    from tools.mae_vs_random import CFG_DIR as MAE_CFG_DIR

    (tmp_path / "test.csv").write_text("a/0.mp4 0\na/1.mp4 0\na/2.mp4 0\nb/0.mp4 1\nb/1.mp4 1\n")
    opts = ["TEST.DATASET", "kinetics", "DATA.PATH_TO_DATA_DIR", str(tmp_path), "DATA.PATH_PREFIX", "/v"]
    picked = test_videos(os.path.join(MAE_CFG_DIR, RECIPES["videomae"][0]), opts, 4)
    assert picked == ["/v/a/0.mp4", "/v/b/0.mp4", "/v/a/1.mp4", "/v/b/1.mp4"]


def test_feature_diagnosis_groups_match_path_ends_and_name_the_culprit(tmp_path):
    from tools.feature_diagnosis import groups_of, read_groups
    from videossl.errors import InputError

    table_csv = tmp_path / "labels.csv"
    table_csv.write_text("path,label,group\nfight/fi001.mp4,fight,3\nnoFight/nofi001.mp4,noFight,3\n"
                         "fight/fi011.mp4,fight,7\n")
    table = read_groups(str(table_csv))
    groups = groups_of(["/d/videos/fight/fi001.mp4", "/d/videos/fight/fi011.mp4", "/x/noFight/nofi001.avi"],
                       table, [0, 1, 2])
    assert groups.tolist() == [3, 7, 3]
    assert groups_of(["a", "b"], None, [5, 6]).tolist() == [5, 6]  # no table: the records' source ids
    with pytest.raises(InputError, match="fi002"):
        groups_of(["/d/fight/fi002.mp4"], table, [0])
    with pytest.raises(InputError, match="group"):
        bad = tmp_path / "bad.csv"
        bad.write_text("path,label\nx.mp4,0\n")
        read_groups(str(bad))
