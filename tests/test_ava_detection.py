"""AVA detection end to end on the synthetic AVA: the dataset's samples, finetuning from random init and from an
SSL checkpoint, and the frame-mAP evaluation with its official-format files."""

import json
import os

import pytest
import torch

from conftest import tiny_cfg_opts
from videossl.config import load_config
from videossl.data import build_dataset
from videossl.data.collate import collate_batch
from videossl.engine.run import run_task

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs/synthetic/ava/finetune_R10.yaml")
SHRINK = ["RESNET.WIDTH_PER_GROUP", "4", "SOLVER.MAX_EPOCH", "2", "LOG_PERIOD", "1", "LOG_MODEL_INFO", "False"]


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("VIDEOSSL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def test_samples_carry_clip_boxes_and_multi_hot_actions():
    cfg = load_config([CONFIG], SHRINK)
    train, test = build_dataset(cfg, "train"), build_dataset(cfg, "test")
    assert len(train) == 8 * 4 and len(test) == 8 * 4  # 8 videos x 4 keyframes per split
    s = train[(0, 3)]
    assert s["views"][0].shape == (3, 8, 48, 48)
    k = s["boxes"].shape[0]
    assert 2 <= k <= 3 and s["box_labels"].shape == (k, 6) and s["ori_boxes"].shape == (k, 4)
    assert ((s["box_labels"].sum(1) >= 1) & (s["box_labels"].sum(1) <= 2)).all()  # a motion (+ pulsing)
    assert (s["boxes"] >= 0).all() and (s["boxes"] <= 48).all()
    t = test[0]  # test: the whole 48 x 64 frame, proposals (no labels) above the threshold
    assert t["views"][0].shape == (3, 8, 48, 64) and t["box_labels"].sum() == 0
    torch.testing.assert_close(t["boxes"], t["ori_boxes"] * torch.tensor([64.0, 48, 64, 48]))
    batch = collate_batch([train[(0, i)] for i in range(3)])
    assert batch["boxes"].shape[1] == 5 and batch["boxes"][:, 0].tolist() == sorted(batch["boxes"][:, 0].tolist())
    assert len(batch["video_id"]) == 3 and batch["box_labels"].shape[0] == batch["boxes"].shape[0]


def _run(out, *opts):
    cfg = load_config([CONFIG], SHRINK + ["OUTPUT_DIR", str(out), *opts])
    run_task(cfg)
    log = (out / "stdout.log").read_text()
    losses = [json.loads(line.split("json_stats:", 1)[1])["loss"] for line in log.splitlines()
              if '"train_iter"' in line]
    return log, losses, json.loads((out / "results_detection_ava_map.json").read_text())


@pytest.mark.timeout(600)
def test_finetuning_from_random_init_and_from_an_ssl_checkpoint_train_and_evaluate(tmp_path):
    from videossl.methods.registry import build_method

    log, losses, result = _run(tmp_path / "random")
    assert len(losses) == 2 * 4 and all(0 < x < 1 for x in losses)  # 32 keyframes / 8, 2 epochs; BCE per box
    assert 0 <= result["mAP"] <= 100 and set(result["per_class_ap"]) <= {str(i) for i in range(1, 7)}
    assert result["num_keyframes"] == 32 and "AVA per-class AP" in log
    det = (tmp_path / "random" / "detections.csv").read_text().splitlines()
    gt = (tmp_path / "random" / "groundtruth.csv").read_text().splitlines()
    assert len(det) == result["num_detections"] and det[0].count(",") == 7 and gt[0].count(",") == 7

    # an SSL checkpoint (MoCo on the same backbone) initialises the detector's backbone
    ssl_cfg = load_config([], tiny_cfg_opts(**{"TASK": "pretrain", "SSL.METHOD": "moco", "RESNET.WIDTH_PER_GROUP": 4,
                                               "CONTRASTIVE.DIM": 8, "MODEL.NUM_CLASSES": 8,
                                               "RESNET.NUM_BLOCK_TEMP_KERNEL": [[1], [1], [1], [1]],
                                               "DATA.TRAIN_CROP_NUM_TEMPORAL": 2}))
    torch.manual_seed(5)
    ssl = build_method(ssl_cfg)
    path = tmp_path / "ssl_checkpoint_epoch_00001.pyth"
    torch.save({"model_state": ssl.state_dict(), "epoch": 1}, path)
    log, losses, result = _run(tmp_path / "from_ssl", "TRAIN.CHECKPOINT_FILE_PATH", str(path))
    assert f"initialised model from {path}" in log
    table = log.split(f"initialised model from {path}", 1)[1]
    loaded = int(table.split("loaded", 1)[1].split("|")[1])
    assert loaded >= 50, table[:600]  # every backbone tensor, none of the SSL head
    assert len(losses) == 8 and all(0 < x < 1 for x in losses) and 0 <= result["mAP"] <= 100


@pytest.mark.parametrize("name", ["finetune_ava_Slow_R50_syn0.yaml", "finetune_ava_Slow_R50_syn8.yaml"])
def test_the_pyslowfast_ava_configs_hold_its_settings(name):
    cfg = load_config([os.path.join(ROOT, "configs/ava", name)], [])
    assert cfg.TASK == "detection" and cfg.DETECTION.ENABLE and cfg.MODEL.NUM_CLASSES == 80
    assert [d[0] for d in cfg.RESNET.SPATIAL_DILATIONS] == [1, 1, 1, 2]
    assert [s[0] for s in cfg.RESNET.SPATIAL_STRIDES] == [1, 2, 2, 1]
    assert (cfg.SOLVER.BASE_LR, cfg.SOLVER.MAX_EPOCH, cfg.SOLVER.WEIGHT_DECAY) == (0.3, 32, 1e-7)
    assert cfg.AVA.DETECTION_SCORE_THRESH == 0.9 and cfg.MODEL.HEAD_ACT == "sigmoid"
    assert (cfg.BN.NORM_TYPE == "sync_batchnorm") == name.endswith("syn8.yaml")


def test_pyslowfasts_ssl_eval_ava_task_is_detection():
    cfg = load_config([], ["TASK", "ssl_eval_ava", "DETECTION.ENABLE", "True", "MODEL.NUM_CLASSES", "80"])
    assert cfg.TASK == "detection"
    with pytest.raises(ValueError, match="AVA.BGR=True"):
        load_config([], ["TASK", "ssl_eval_ava", "DETECTION.ENABLE", "True", "AVA.BGR", "True"])


@pytest.mark.timeout(600)
def test_a_vit_mae_checkpoint_finetunes_on_the_synthetic_ava(tmp_path):
    """The ViT AVA config, shrunk: a VideoMAE-style pretraining checkpoint initialises the encoder."""
    from helpers.vit_configs import VIDEOMAE_OPTS, mae_opts
    from videossl.methods.registry import build_method

    small = ["MVIT.EMBED_DIM", "32", "MVIT.NUM_HEADS", "2", "MVIT.DEPTH", "2", "DATA.NUM_FRAMES", "4",
             "DATA.SAMPLING_RATE", "4", "DATA.TRAIN_JITTER_SCALES", "[48, 56]", "DATA.TRAIN_CROP_SIZE", "48",
             "DATA.TEST_CROP_SIZE", "48", "MODEL.NUM_CLASSES", "6"]
    torch.manual_seed(0)
    mae = build_method(load_config([], mae_opts(**{**VIDEOMAE_OPTS, **dict(zip(small[::2], small[1::2])),
                                                   "MVIT.PATCH_KERNEL": "[2, 16, 16]",
                                                   "MVIT.PATCH_STRIDE": "[2, 16, 16]"})))
    path = tmp_path / "mae.pyth"
    torch.save({"model_state": mae.state_dict(), "epoch": 1}, path)
    out = tmp_path / "vit_ava"
    cfg = load_config([os.path.join(ROOT, "configs/ava/finetune_ava_ViT_B_16x4.yaml")], small + [
        "TRAIN.DATASET", "synthetic_ava", "TEST.DATASET", "synthetic_ava", "NUM_GPUS", "1", "TRAIN.BATCH_SIZE", "8",
        "TEST.BATCH_SIZE", "8", "TRAIN.MIXED_PRECISION", "False", "SOLVER.MAX_EPOCH", "1", "SOLVER.WARMUP_EPOCHS", "0",
        "DATA_LOADER.NUM_WORKERS", "0", "LOG_PERIOD", "1", "LOG_MODEL_INFO", "False",
        "TRAIN.CHECKPOINT_FILE_PATH", str(path), "OUTPUT_DIR", str(out)])
    run_task(cfg)
    log = (out / "stdout.log").read_text()
    table = log.split(f"initialised model from {path}", 1)[1]
    assert int(table.split("loaded", 1)[1].split("|")[1]) >= 20  # the encoder's blocks, patch embedding, norm
    assert int(table.split("shape mismatch", 1)[1].split("|")[1]) == 0, table[:800]
    result = json.loads((out / "results_detection_ava_map.json").read_text())
    assert result["arch"] == "vit" and 0 <= result["mAP"] <= 100
