"""tools/coclr_cycle.py: the stage order of CoCLR's alternation, and a shrunk run that resumes."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.coclr_cycle import main, stages  # noqa: E402


def test_the_alternation_trains_each_stream_from_the_newest_encoders():
    assert stages(2, half=False) == [
        ("infonce_rgb", "rgb", "infonce", None, None), ("infonce_flow", "flow", "infonce", None, None),
        ("coclr_rgb_1", "rgb", "coclr", "infonce_rgb", "infonce_flow"),
        ("coclr_flow_1", "flow", "coclr", "infonce_flow", "coclr_rgb_1"),
        ("coclr_rgb_2", "rgb", "coclr", "coclr_rgb_1", "coclr_flow_1"),
        ("coclr_flow_2", "flow", "coclr", "coclr_flow_1", "coclr_rgb_2")]
    assert [s[0] for s in stages(1, half=True)] == ["infonce_rgb", "infonce_flow", "coclr_rgb_1"]


@pytest.mark.timeout(300)
def test_a_shrunk_half_cycle_runs_and_a_rerun_skips_the_finished_stages(tmp_path, capsys):
    opts = ["SYNTHETIC.NUM_CLASSES", "4", "SYNTHETIC.TRAIN_PER_CLASS", "4", "SYNTHETIC.TEST_PER_CLASS", "1",
            "SYNTHETIC.NUM_FRAMES", "16", "SYNTHETIC.SIZE", "32", "TRAIN.BATCH_SIZE", "4", "CONTRASTIVE.QUEUE_LEN", "8",
            "SOLVER.MAX_EPOCH", "1", "DATA.NUM_FRAMES", "4", "DATA.TRAIN_JITTER_SCALES", "[32, 40]",
            "DATA.TRAIN_CROP_SIZE", "32", "RESNET.WIDTH_PER_GROUP", "4", "DATA_LOADER.NUM_WORKERS", "0",
            "TEST.ENABLE", "False", "LOG_MODEL_INFO", "False"]
    root = str(tmp_path / "cycle")
    assert main(["--root", root, "--half"] + opts) == 0
    for stage in ("infonce_rgb", "infonce_flow", "coclr_rgb_1"):
        assert os.path.isfile(os.path.join(root, stage, "checkpoints", "ssl_checkpoint_epoch_00001.pyth")), stage
    log = open(os.path.join(root, "coclr_rgb_1", "stdout.log")).read()
    assert "initialised sampler from " + os.path.join(root, "infonce_flow", "checkpoints") in log
    capsys.readouterr()
    assert main(["--root", root, "--half"] + opts) == 0
    assert capsys.readouterr().out.count(": done (") == 3


def test_viccs_alternation_uses_its_single_and_cross_stages():
    assert stages(1, half=False, method="vicc") == [
        ("single_rgb", "rgb", "single", None, None), ("single_flow", "flow", "single", None, None),
        ("cross_rgb_1", "rgb", "cross", "single_rgb", "single_flow"),
        ("cross_flow_1", "flow", "cross", "single_flow", "cross_rgb_1")]


@pytest.mark.timeout(300)
def test_a_shrunk_vicc_cycle_runs_the_shipped_configs_with_second_initialised_by_role(tmp_path):
    import json

    opts = ["SYNTHETIC.NUM_CLASSES", "4", "SYNTHETIC.TRAIN_PER_CLASS", "4", "SYNTHETIC.TEST_PER_CLASS", "1",
            "SYNTHETIC.NUM_FRAMES", "16", "SYNTHETIC.SIZE", "32", "TRAIN.BATCH_SIZE", "4",
            "CONTRASTIVE.SWAV_QEUE_LEN", "8", "SSL.SWAV_QUEUE_START_EPOCH", "1",
            "SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS", "1", "SOLVER.MAX_EPOCH", "2", "DATA.NUM_FRAMES", "4",
            "DATA.TRAIN_JITTER_SCALES", "[32, 40]", "DATA.TRAIN_CROP_SIZE", "32", "RESNET.WIDTH_PER_GROUP", "4",
            "DATA_LOADER.NUM_WORKERS", "0", "TEST.ENABLE", "False", "LOG_MODEL_INFO", "False", "LOG_PERIOD", "1"]
    root = str(tmp_path / "vicc")
    assert main(["--root", root, "--method", "vicc"] + opts) == 0
    for stage in ("single_rgb", "single_flow", "cross_rgb_1", "cross_flow_1"):
        assert os.path.isfile(os.path.join(root, stage, "checkpoints", "ssl_checkpoint_epoch_00002.pyth")), stage
    log = open(os.path.join(root, "cross_flow_1", "stdout.log")).read()
    assert "initialised query from " + os.path.join(root, "single_flow", "checkpoints") in log
    assert "initialised second from " + os.path.join(root, "cross_rgb_1", "checkpoints") in log
    losses = [json.loads(line.split("json_stats:", 1)[1])["loss"] for line in log.splitlines()
              if '"train_iter"' in line]
    assert len(losses) == 8 and all(0 < x < 10 for x in losses)  # 16 videos / 4 x 2 epochs, finite
