"""The UCF101 / Kinetics CoCLR configs (mirroring the CoCLR README's commands) hold CoCLR's settings and
train a step once shrunk for a CPU (S3D, on the synthetic set with flow)."""

import json
import math
import os

import pytest

from videossl.config import load_config
from videossl.engine.run import run_task

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = ["configs/ucf101/coclr/InfoNCE_S3D_128.yaml", "configs/ucf101/coclr/CoCLR_S3D_128.yaml",
           "configs/Kinetics/coclr/InfoNCE_S3D_128.yaml", "configs/Kinetics/coclr/CoCLR_S3D_128.yaml"]


@pytest.mark.parametrize("path", CONFIGS)
def test_the_shipped_settings_are_coclrs(path):
    cfg = load_config([os.path.join(ROOT, path)], [])
    k400 = "Kinetics" in path
    assert cfg.MODEL.ARCH == "s3d" and cfg.CONTRASTIVE.T == 0.07 and cfg.CONTRASTIVE.MOMENTUM == 0.999
    assert cfg.CONTRASTIVE.QUEUE_LEN == (16384 if k400 else 2048) and cfg.CONTRASTIVE.DIM == 128
    assert (cfg.SOLVER.OPTIMIZING_METHOD, cfg.SOLVER.BASE_LR, cfg.SOLVER.WEIGHT_DECAY) == ("adam", 1e-3, 1e-5)
    assert (cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE, cfg.DATA.TRAIN_CROP_SIZE) == (32, 1, 128)
    assert cfg.DATA.SSL_VIEW_COMPOSITION == "coclr" and cfg.DATA.SSL_MOCOV2_AUG  # TwoClip / OneClip of 'base'
    if cfg.SSL.METHOD == "coclr":
        assert cfg.SSL.COCLR_TOPK == 5 and cfg.SOLVER.MAX_EPOCH == (50 if k400 else 100)
        assert cfg.SOLVER.STEPS[1] == (40 if k400 else 80)
    else:
        assert cfg.SOLVER.MAX_EPOCH == 300 and list(cfg.SOLVER.STEPS) == [0, 250, 280]
    # 32 clips of 2 GPUs (UCF101, and K400's CoCLR) or 4 (K400's InfoNCE) per machine
    assert cfg.TRAIN.BATCH_SIZE == 32 * cfg.NUM_GPUS


@pytest.mark.timeout(240)
@pytest.mark.parametrize("path", CONFIGS[:2])
def test_shrunk_for_a_cpu_they_train_a_step(path, tmp_path):
    out = tmp_path / "out"
    cfg = load_config([os.path.join(ROOT, path)], [
        "TRAIN.DATASET", "synthetic", "SYNTHETIC.NUM_CLASSES", "2", "SYNTHETIC.TRAIN_PER_CLASS", "2",
        "SYNTHETIC.TEST_PER_CLASS", "1", "SYNTHETIC.NUM_FRAMES", "24", "SYNTHETIC.SIZE", "64",
        "SYNTHETIC.WRITE_FLOW", "True", "NUM_GPUS", "1", "TRAIN.BATCH_SIZE", "2", "CONTRASTIVE.QUEUE_LEN", "4",
        "DATA.NUM_FRAMES", "16", "DATA.TARGET_FPS", "30", "DATA.TRAIN_JITTER_SCALES", "[64, 72]",
        "DATA.TRAIN_CROP_SIZE", "64", "SOLVER.MAX_EPOCH", "1", "TRAIN.ITERS_PER_EPOCH", "1",
        "DATA_LOADER.NUM_WORKERS", "0", "LOG_MODEL_INFO", "False", "OUTPUT_DIR", str(out)])
    run_task(cfg)
    stats = [json.loads(line.split("json_stats:", 1)[1]) for line in (out / "stdout.log").read_text().splitlines()
             if "json_stats:" in line]
    losses = [s["loss"] for s in stats if s["_type"] == "train_iter"]
    assert len(losses) == 1 and math.isfinite(losses[0])


EVAL_CONFIGS = ["configs/ucf101/coclr/linear_S3D_128.yaml", "configs/ucf101/coclr/finetune_S3D_128.yaml",
                "configs/ucf101/vicc/finetune_S3D_128.yaml"]


@pytest.mark.parametrize("path", EVAL_CONFIGS)
def test_the_evaluation_configs_hold_the_papers_protocols(path):
    cfg = load_config([os.path.join(ROOT, path)], [])
    s = cfg.SOLVER
    assert cfg.MODEL.ARCH == "s3d" and cfg.MODEL.NUM_CLASSES == 101 and cfg.TRAIN.BATCH_SIZE == 32
    assert (cfg.DATA.NUM_FRAMES, cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.TEST_CROP_SIZE) == (32, 128, 128)
    assert s.WEIGHT_DECAY == 1e-3
    if "linear" in path:  # SGD 0.1, 100 epochs, x0.1 at 60 and 80; L2-norm -> BN1d -> FC
        assert cfg.TASK == "linear" and cfg.LINEAR.PROTOCOL == "coclr"
        assert (s.OPTIMIZING_METHOD, s.BASE_LR, s.MAX_EPOCH, list(s.STEPS)) == ("sgd", 0.1, 100, [0, 60, 80])
    elif "coclr" in path:  # Adam 1e-3, backbone LR / 10, 500 epochs, x0.1 at 400 and 450, dropout 0.9
        assert cfg.TASK == "finetune" and cfg.MODEL.DROPOUT_RATE == 0.9
        assert (s.OPTIMIZING_METHOD, s.BASE_LR, s.BACKBONE_LR_RATIO, s.MAX_EPOCH) == ("adam", 1e-3, 0.1, 500)
        assert list(s.STEPS) == [0, 400, 450]
    else:  # ViCC: SGD 0.1 for everything, drops at 200/300/400/450
        assert cfg.TASK == "finetune" and cfg.MODEL.DROPOUT_RATE == 0.9
        assert (s.OPTIMIZING_METHOD, s.BASE_LR, s.BACKBONE_LR_RATIO, s.MAX_EPOCH) == ("sgd", 0.1, 1.0, 500)
        assert list(s.STEPS) == [0, 200, 300, 400, 450] and len(s.LRS) == 5


@pytest.mark.timeout(240)
@pytest.mark.parametrize("path", EVAL_CONFIGS[:2])
def test_the_evaluation_configs_shrunk_for_a_cpu_train_and_test(path, tmp_path):
    out = tmp_path / "out"
    cfg = load_config([os.path.join(ROOT, path)], [
        "TRAIN.DATASET", "synthetic", "TEST.DATASET", "synthetic", "SYNTHETIC.NUM_CLASSES", "2",
        "SYNTHETIC.TRAIN_PER_CLASS", "2", "SYNTHETIC.TEST_PER_CLASS", "1", "SYNTHETIC.NUM_FRAMES", "24",
        "SYNTHETIC.SIZE", "64", "MODEL.NUM_CLASSES", "2", "NUM_GPUS", "1", "TRAIN.BATCH_SIZE", "2",
        "TEST.BATCH_SIZE", "2", "TEST.NUM_ENSEMBLE_VIEWS", "1", "TEST.NUM_SPATIAL_CROPS", "1",
        "DATA.NUM_FRAMES", "16", "DATA.TARGET_FPS", "30", "DATA.TRAIN_JITTER_SCALES", "[64, 72]",
        "DATA.TRAIN_CROP_SIZE", "64", "DATA.TEST_CROP_SIZE", "64", "SOLVER.MAX_EPOCH", "1",
        "DATA_LOADER.NUM_WORKERS", "0", "LOG_MODEL_INFO", "False", "LOG_PERIOD", "1", "OUTPUT_DIR", str(out)])
    run_task(cfg)
    log = (out / "stdout.log").read_text()
    stats = [json.loads(line.split("json_stats:", 1)[1]) for line in log.splitlines() if "json_stats:" in line]
    losses = [s["loss"] for s in stats if s["_type"] == "train_iter"]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
    result = json.loads((out / f"results_{cfg.TASK}_topk.json").read_text())
    assert result["num_videos"] == 2 and result["arch"] == "s3d"
    if cfg.TASK == "linear":
        assert result["linear_protocol"] == "coclr"
