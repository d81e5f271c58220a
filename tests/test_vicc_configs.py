"""The UCF101 / Kinetics ViCC configs (mirroring the ViCC README's commands) hold ViCC's settings, and the
cross-stream one trains a step once shrunk for a CPU (S3D, on the synthetic set with flow)."""

import json
import math
import os

import pytest

from videossl.config import load_config
from videossl.engine.run import run_task

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = ["configs/ucf101/vicc/ViCC_S3D_128.yaml", "configs/ucf101/vicc/ViCC_cross_S3D_128.yaml",
           "configs/Kinetics/vicc/ViCC_S3D_128.yaml", "configs/Kinetics/vicc/ViCC_cross_S3D_128.yaml"]


@pytest.mark.parametrize("path", CONFIGS)
def test_the_shipped_settings_are_viccs(path):
    cfg = load_config([os.path.join(ROOT, path)], [])
    cross = "cross" in path
    assert cfg.SSL.METHOD == ("vicc_cross" if cross else "vicc") and cfg.MODEL.ARCH == "s3d"
    assert (cfg.CONTRASTIVE.T, cfg.CONTRASTIVE.DIM, cfg.CONTRASTIVE.SWAV_QEUE_LEN) == (0.1, 128, 1920)
    assert (cfg.SSL.SWAV_NUM_PROTOTYPES, cfg.SSL.SWAV_EPSILON, cfg.SSL.SWAV_SINKHORN_ITERS) == (300, 0.05, 3)
    s = cfg.SOLVER
    assert (s.OPTIMIZING_METHOD, s.LARS_ON, s.LR_POLICY, s.BASE_LR, s.COSINE_END_LR) == ("sgd", True, "cosine",
                                                                                        0.6, 0.0006)
    assert s.WEIGHT_DECAY == 1e-6 and s.WARMUP_EPOCHS == 0 and cfg.BN.WEIGHT_DECAY == 1e-6
    assert (cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE, cfg.DATA.TRAIN_CROP_SIZE) == (32, 1, 128)
    assert cfg.DATA.SSL_VIEW_COMPOSITION == "coclr" and cfg.DATA.USE_FLOW
    assert cfg.NUM_GPUS == 4
    if cross:  # 24 per GPU, 100 epochs, the queue from 25, no freezing, fp16
        assert (cfg.TRAIN.BATCH_SIZE, s.MAX_EPOCH, cfg.SSL.SWAV_QUEUE_START_EPOCH) == (96, 100, 25)
        assert cfg.SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS == 0 and cfg.TRAIN.MIXED_PRECISION
    else:  # 48 per GPU, 500 epochs, the queue from 200 (README), prototypes frozen 100 epochs
        assert (cfg.TRAIN.BATCH_SIZE, s.MAX_EPOCH, cfg.SSL.SWAV_QUEUE_START_EPOCH) == (192, 500, 200)
        assert cfg.SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS == 100 and not cfg.TRAIN.MIXED_PRECISION
    assert cfg.TRAIN.DATASET == ("kinetics" if "Kinetics" in path else "ucf101")


@pytest.mark.timeout(240)
def test_the_cross_stream_config_shrunk_for_a_cpu_trains_steps_with_its_queue(tmp_path):
    out = tmp_path / "out"
    cfg = load_config([os.path.join(ROOT, CONFIGS[1])], [
        "TRAIN.DATASET", "synthetic", "SYNTHETIC.NUM_CLASSES", "2", "SYNTHETIC.TRAIN_PER_CLASS", "2",
        "SYNTHETIC.TEST_PER_CLASS", "1", "SYNTHETIC.NUM_FRAMES", "24", "SYNTHETIC.SIZE", "64",
        "SYNTHETIC.WRITE_FLOW", "True", "NUM_GPUS", "1", "TRAIN.BATCH_SIZE", "2", "CONTRASTIVE.SWAV_QEUE_LEN", "2",
        "SSL.SWAV_QUEUE_START_EPOCH", "0", "TRAIN.MIXED_PRECISION", "False",
        "DATA.NUM_FRAMES", "16", "DATA.TARGET_FPS", "30", "DATA.TRAIN_JITTER_SCALES", "[64, 72]",
        "DATA.TRAIN_CROP_SIZE", "64", "SOLVER.MAX_EPOCH", "1", "TRAIN.ITERS_PER_EPOCH", "2",
        "DATA_LOADER.NUM_WORKERS", "0", "LOG_MODEL_INFO", "False", "LOG_PERIOD", "1", "OUTPUT_DIR", str(out)])
    run_task(cfg)
    stats = [json.loads(line.split("json_stats:", 1)[1]) for line in (out / "stdout.log").read_text().splitlines()
             if "json_stats:" in line]
    losses = [s["loss"] for s in stats if s["_type"] == "train_iter"]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
