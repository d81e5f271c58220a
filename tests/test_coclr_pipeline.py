"""The shipped synthetic CoCLR configs, shrunk: InfoNCE on RGB and on flow, then CoCLR on RGB initialised from
both by role (CoCLR's ``--pretrain A B``), end to end through run_net's task runner."""

import json
import os

import pytest

from helpers.runs import logged_losses
from videossl.config import load_config
from videossl.engine.run import run_task
from videossl.utils.checkpoint import last_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHRINK = ["SYNTHETIC.NUM_CLASSES", "4", "SYNTHETIC.TRAIN_PER_CLASS", "4", "SYNTHETIC.TEST_PER_CLASS", "2",
          "SYNTHETIC.NUM_FRAMES", "16", "SYNTHETIC.SIZE", "32", "TRAIN.BATCH_SIZE", "4", "TEST.BATCH_SIZE", "4",
          "CONTRASTIVE.QUEUE_LEN", "8", "SOLVER.MAX_EPOCH", "1", "DATA.NUM_FRAMES", "4",
          "DATA.TRAIN_JITTER_SCALES", "[32, 40]", "DATA.TRAIN_CROP_SIZE", "32", "DATA.TEST_CROP_SIZE", "32",
          "RESNET.WIDTH_PER_GROUP", "4", "DATA_LOADER.NUM_WORKERS", "0", "LOG_PERIOD", "1", "LOG_MODEL_INFO", "False"]


def _run(name, out, *opts):
    cfg = load_config([os.path.join(ROOT, "configs/synthetic/coclr", name)], SHRINK + ["OUTPUT_DIR", str(out), *opts])
    run_task(cfg)
    return cfg


@pytest.mark.timeout(300)
def test_infonce_on_both_streams_then_coclr_from_them(tmp_path):
    _run("InfoNCE_R10.yaml", tmp_path / "rgb")
    _run("InfoNCE_R10.yaml", tmp_path / "flow", "SSL.COCLR_STREAM", "flow")
    rgb, flow = last_checkpoint(str(tmp_path / "rgb"), "ssl"), last_checkpoint(str(tmp_path / "flow"), "ssl")
    _run("CoCLR_R10.yaml", tmp_path / "coclr", "TRAIN.INIT_FROM", f"['query={rgb}', 'sampler={flow}']")
    log = (tmp_path / "coclr" / "stdout.log").read_text()
    assert f"initialised query from {rgb}" in log and f"initialised sampler from {flow}" in log
    stats = [json.loads(line.split("json_stats:", 1)[1]) for line in log.splitlines() if "json_stats:" in line]
    mined = [s["mined_positives"] for s in stats if s["_type"] == "train_iter"]
    # 16 videos / batch 4 = 4 iterations; the queue of 8 is full from the third: then 5 mined per query
    assert mined == [0, 0, 5, 5], mined
    assert len(logged_losses(str(tmp_path / "coclr"))) == 4
    result = json.loads((tmp_path / "coclr" / "results_pretrain_knn.json").read_text())
    assert result["method"] == "coclr" and result["k"] == 16  # kNN over the 16 training videos

    # two-stream retrieval: each InfoNCE encoder on its own stream, then CoCLR's R+F fusion
    import sys

    sys.path.insert(0, ROOT)
    from tools.fuse_streams import main as fuse

    saved = {}
    for stream in ("rgb", "flow"):
        _run("InfoNCE_R10.yaml", tmp_path / stream, "SSL.COCLR_STREAM", stream, "TRAIN.ENABLE", "False",
             "TEST.EVALUATOR", "retrieval", "TEST.SAVE_RESULTS_PATH", "retrieval.pt")
        saved[stream] = str(tmp_path / stream / "retrieval.pt")
        single = json.loads((tmp_path / stream / "results_pretrain_retrieval.json").read_text())
        assert single["num_queries"] == 8 and single["num_gallery"] == 16
    fused = fuse([saved["rgb"], saved["flow"], "--out", str(tmp_path / "fused.json")])
    assert fused["evaluator"] == "retrieval" and 0 <= fused["R@1"] <= 100
    assert json.loads((tmp_path / "fused.json").read_text())["R@1"] == fused["R@1"]
