"""tools/mae_vs_random.py: last-epoch loss parsing, mean ± std table, resumable jobs (no training)."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools import mae_vs_random as mvr  # noqa: E402
from tools import sweep  # noqa: E402


def _log_line(**stats):
    return "[12/01 10:00:00 logging.py:51] json_stats: " + json.dumps(stats, sort_keys=True) + "\n"


def test_last_epoch_loss_averages_the_last_epoch(tmp_path):
    log = tmp_path / "stdout.log"
    log.write_text(
        "some other line\n"
        + _log_line(_type="train_iter", epoch="1/2", iter="10/12", loss=0.9)
        + _log_line(_type="train_iter", epoch="1/2", iter="12/12", loss=0.8)
        + _log_line(_type="train_epoch", epoch="1/2", samples=192)
        + _log_line(_type="train_iter", epoch="2/2", iter="10/12", loss=0.4)
        + _log_line(_type="train_iter", epoch="2/2", iter="12/12", loss=0.2)
    )
    out = mvr.last_epoch_loss(str(log))
    assert out["loss"] == pytest.approx(0.3)
    assert out["epoch"] == "2/2" and out["num_logged"] == 2 and out["last_iter_loss"] == 0.2


def test_last_epoch_loss_without_losses_raises(tmp_path):
    log = tmp_path / "stdout.log"
    log.write_text(_log_line(_type="train_epoch", epoch="1/1"))
    with pytest.raises(ValueError):
        mvr.last_epoch_loss(str(log))


def test_mean_std_is_sample_std():
    assert mvr.mean_std([2.0]) == (2.0, 0.0)
    mean, std = mvr.mean_std([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0) and std == pytest.approx(1.0)


def test_write_summary_table_and_json(tmp_path):
    records = {
        s: {"pretrain_loss": 0.3 + 0.01 * s, "psnr_reconstruction": 25.0 + s, "psnr_mean_fill": 20.0,
            "psnr_gain": 5.0 + s, "top1_random": 40.0 + s, "top1_mae": 60.0 + 2 * s, "top1_gain": 20.0 + s}
        for s in (2, 0, 1)
    }
    table = mvr.write_summary(str(tmp_path), records, "mae_st")
    assert (tmp_path / "table.md").read_text().strip() == table
    assert "per seed (0, 1, 2)" in table.splitlines()[0]
    assert "| finetune top-1, MAE init (%) | 62.0 ± 2.0 | 60.0, 62.0, 64.0 |" in table
    assert "| gain of MAE init (points) | +21.0 ± 1.0 |" in table
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["seeds"] == [0, 1, 2]
    assert summary["top1_gain"] == {"mean": pytest.approx(21.0), "std": pytest.approx(1.0), "n": 3}
    assert summary["pretrain_loss"]["mean"] == pytest.approx(0.31)


def test_existing_results_are_not_rerun(tmp_path, monkeypatch):
    """With every result file present, a sweep only reads them (no subprocess)."""
    out = tmp_path / "sweep"
    seed_dir = out / "seed0"
    for sub, name, payload in (
        ("pretrain", mvr.PT_RESULT, {"loss": 0.25, "checkpoint": "ckpt.pyth"}),
        ("pretrain", mvr.VIS_RESULT, {"psnr_reconstruction": 24.0, "psnr_mean_fill": 18.0,
                                      "psnr_patch_mean_fill": 23.0, "loss": 0.2, "loss_zero_prediction": 0.9}),
        ("finetune_mae", mvr.FT_RESULT, {"top1_acc": 70.0}),
        ("finetune_random", mvr.FT_RESULT, {"top1_acc": 50.0}),
    ):
        (seed_dir / sub).mkdir(parents=True, exist_ok=True)
        (seed_dir / sub / name).write_text(json.dumps(payload))

    def no_run(*a, **k):
        raise AssertionError("a job was rerun")

    monkeypatch.setattr(sweep.subprocess, "run", no_run)
    assert mvr.main(["--seeds", "0", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["top1_gain"]["mean"] == pytest.approx(20.0)
    assert summary["psnr_gain"]["mean"] == pytest.approx(6.0)
    assert summary["psnr_gain_patch_mean"]["mean"] == pytest.approx(1.0)
    assert summary["test_loss"]["mean"] == pytest.approx(0.2)
    assert summary["test_loss_zero_prediction"]["mean"] == pytest.approx(0.9)


def test_data_opts_reach_every_job(tmp_path, monkeypatch):
    """``--data-opts`` go to pretraining and both finetunes (the visualisation reads ``pt_opts``)."""
    out = tmp_path / "sweep"
    vis = out / "seed0" / "pretrain" / mvr.VIS_RESULT  # present: no video generation in this test
    vis.parent.mkdir(parents=True)
    vis.write_text(json.dumps({"psnr_reconstruction": 24.0, "psnr_mean_fill": 18.0, "psnr_patch_mean_fill": 23.0}))
    commands = []

    class Done:
        returncode = 0

    def fake_run(cmd, cwd=None):
        commands.append(cmd)
        job_dir = cmd[cmd.index("OUTPUT_DIR") + 1]
        os.makedirs(job_dir, exist_ok=True)
        if "PT.yaml" in cmd[cmd.index("--cfg") + 1]:
            os.makedirs(os.path.join(job_dir, "checkpoints"), exist_ok=True)
            open(os.path.join(job_dir, "checkpoints", "ssl_checkpoint_epoch_00001.pyth"), "w").close()
            with open(os.path.join(job_dir, "stdout.log"), "w") as f:
                f.write(_log_line(_type="train_iter", epoch="1/1", iter="1/1", loss=0.5))
        else:
            with open(os.path.join(job_dir, mvr.FT_RESULT), "w") as f:
                json.dump({"top1_acc": 50.0}, f)
        return Done()

    monkeypatch.setattr(sweep.subprocess, "run", fake_run)
    data = ["SYNTHETIC.COLOUR_VARIATION", "0.0"]
    assert mvr.main(["--seeds", "0", "--out", str(out), "--data-opts"] + data + ["--opts", "SOLVER.MAX_EPOCH", "1"]) == 0
    assert len(commands) == 3  # pretrain, finetune from the MAE checkpoint, finetune from random init
    for cmd in commands:
        i = cmd.index("SYNTHETIC.COLOUR_VARIATION")
        assert cmd[i + 1] == "0.0"
    assert "SOLVER.MAX_EPOCH" in commands[0] and "SOLVER.MAX_EPOCH" not in commands[1]
    runner = mvr.Runner(mvr.parse_args(["--data-opts"] + data + ["--opts", "A", "1"]))
    assert runner.pt_opts == data + ["A", "1"]


@pytest.mark.parametrize("recipe", sorted(mvr.RECIPES))
def test_finetune_config_sees_the_pretraining_data(recipe):
    """Each recipe's finetune config trains and tests on the videos its pretraining config saw.

    The SYNTHETIC.* node names the generated dataset; finetuning on other
    videos (e.g. coloured ones after grey pretraining) would measure a domain shift.
    """
    from videossl.config import load_config

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pt, ft = (load_config([os.path.join(root, mvr.CFG_DIR, name)]) for name in mvr.RECIPES[recipe])
    assert pt.SYNTHETIC == ft.SYNTHETIC
