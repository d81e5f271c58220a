"""On-device batched augmentation (DATA.AUGMENT_ON_DEVICE) against the workers' per-clip path."""

import numpy as np
import pytest
import torch

from conftest import tiny_cfg_opts
from videossl.data.collate import collate_batch, stack_padded
from videossl.data.transforms import (ClipTransform, ColorConfig, augment_clips, params_from_row,
                                      params_to_row)
from videossl.data.transforms.boxes import transform_boxes
from videossl.data.transforms.clip_aug import ClipParams
from videossl.data.transforms.color import ColorParams
from videossl.data.transforms.on_device import transform_boxes_batch
from videossl.errors import InputError

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def _transform(**kw):
    opts = dict(crop_size=24, test_size=32, mean=[0.45, 0.4, 0.35], std=[0.225, 0.25, 0.2],
                relative_scale=(0.2, 0.766), relative_aspect=(0.75, 1.3333),
                color=ColorConfig((0.6, 0.6, 0.6), 0.15, 0.3, True))
    opts.update(kw)
    return ClipTransform(**opts)


def _levels(a, b, std):
    """|a - b| in levels of 255 before normalisation (a, b: normalised N x C x T x H x W)."""
    return (a - b).abs() * torch.tensor(std).view(1, -1, 1, 1, 1) * 255


def test_rows_carry_every_parameter():
    tf = _transform(color=ColorConfig((0.4,) * 3, 0.1, 0.5, False))
    drawn = [tf.sample_train(np.random.default_rng(s), 40, 56) for s in range(20)]
    drawn += [ClipParams((1, 2, 3, 4), True, None), ClipParams((0, 0, 8, 8), False, ColorParams(None, True, False, 0.7))]
    for p in drawn:
        assert params_from_row(params_to_row(p, 40, 56)) == ClipParams(p.box, p.flip, p.color)


def test_batch_equals_the_workers_path_on_fixed_parameters():
    """Frames of different sizes (padded), up- and down-scaling crops, flips, every colour op."""
    tf = _transform()
    rng = np.random.default_rng(0)
    clips = [torch.from_numpy(rng.integers(0, 256, (4, h, w, 3), dtype=np.uint8))
             for h, w in [(40, 56), (36, 60), (20, 20), (50, 40), (40, 56), (64, 30)]]
    params = [tf.sample_train(np.random.default_rng(s), c.shape[1], c.shape[2]) for s, c in enumerate(clips)]
    assert {p.flip for p in params} == {True, False} and any(p.color and p.color.jitter for p in params)
    assert any(p.box[2] > 24 for p in params) and any(p.box[2] < 24 for p in params)
    ref = torch.stack([tf.apply(c, p) for c, p in zip(clips, params)])
    rows = torch.stack([params_to_row(p, *c.shape[1:3]) for c, p in zip(clips, params)])
    out = augment_clips(stack_padded(clips).to(DEVICE), rows.to(DEVICE), 24, tf.mean.view(-1), tf.std.view(-1))
    assert out.shape == (6, 3, 4, 24, 24) and out.device.type == DEVICE
    diff = _levels(out.cpu(), ref, [0.225, 0.25, 0.2])
    # the workers resize in uint8 (fixed point, rounded per pass), so a pixel can start a level apart;
    # contrast and saturation factors up to 1.6 can stretch that to ~2.5 levels
    assert diff.max() <= 3.0 and diff.mean() < 0.15, (diff.max(), diff.mean())
    # without colour, the uint8 levels agree exactly almost everywhere
    plain = _transform(color=None)
    ref = torch.stack([plain.apply(c, ClipParams(p.box, p.flip)) for c, p in zip(clips, params)])
    rows = torch.stack([params_to_row(ClipParams(p.box, p.flip)) for p in params])
    out = augment_clips(stack_padded(clips), rows, 24, plain.mean.view(-1), plain.std.view(-1))
    diff = _levels(out, ref, [0.225, 0.25, 0.2])
    assert diff.max() <= 1.01 and (diff > 0.01).float().mean() < 0.05
    with pytest.raises(InputError, match="6 clips but 5 parameter rows"):
        augment_clips(stack_padded(clips), rows[:5], 24, plain.mean.view(-1), plain.std.view(-1))


def test_boxes_follow_the_crop_and_flip():
    tf = _transform()
    sizes = [(40, 56), (30, 30), (64, 48)]
    params = [tf.sample_train(np.random.default_rng(s + 3), h, w) for s, (h, w) in enumerate(sizes)]
    assert {p.flip for p in params} == {True, False}
    boxes = [torch.rand(k, 4).sort(dim=1).values[:, [0, 2, 1, 3]] for k in (2, 3, 1)]  # x1 < x2, y1 < y2
    rows = torch.stack([params_to_row(p, h, w) for p, (h, w) in zip(params, sizes)])
    batch = torch.cat([torch.cat([torch.full((len(b), 1), float(i)), b], 1) for i, b in enumerate(boxes)])
    out = transform_boxes_batch(batch, rows, 24)
    ref = torch.cat([transform_boxes(b, p, h, w, 24) for b, p, (h, w) in zip(boxes, params, sizes)])
    torch.testing.assert_close(out[:, 1:], ref, atol=1e-4, rtol=0)
    assert torch.equal(out[:, 0], batch[:, 0])


def _synthetic_cfg(**extra):
    from videossl.config import load_config

    opts = {"TRAIN.DATASET": "synthetic", "TEST.DATASET": "synthetic", "SYNTHETIC.NUM_CLASSES": 2,
            "SYNTHETIC.TRAIN_PER_CLASS": 3, "SYNTHETIC.TEST_PER_CLASS": 1, "SYNTHETIC.NUM_FRAMES": 24,
            "SYNTHETIC.SIZE": 32, "SYNTHETIC.WRITE_FLOW": True, "DATA.USE_FLOW": True,
            "DATA.FLOW_COLOR_AUG": False, "DATA.TRAIN_CROP_SIZE": 24,
            "DATA.TRAIN_JITTER_SCALES_RELATIVE": [0.3, 0.9], "DATA.TRAIN_CROP_NUM_TEMPORAL": 2,
            "DATA.SSL_VIEW_COMPOSITION": "coclr", "DATA.SSL_COLOR_JITTER": True, "DATA.SSL_MOCOV2_AUG": True,
            "DATA.COLOR_RND_GRAYSCALE": 0.3}
    opts.update(extra)
    return load_config([], tiny_cfg_opts(**opts))


def test_deferred_dataset_batches_equal_the_workers_batches(tmp_path, monkeypatch):
    """RGB and flow views of a CoCLR-composed synthetic set (colour on some views, none on flow)."""
    from videossl.data import build_dataset
    from videossl.data.transforms.on_device import build_batch_augmenter

    monkeypatch.setenv("VIDEOSSL_CACHE", str(tmp_path / "cache"))
    cfg = _synthetic_cfg(**{"DATA.AUGMENT_ON_DEVICE": True})
    workers = build_dataset(cfg, "train")
    deferred = build_dataset(cfg, "train", defer_augmentation=True)
    keys = [(1, i) for i in range(len(workers))]
    ref = collate_batch([workers[k] for k in keys])
    raw = collate_batch([deferred[k] for k in keys])
    assert raw["views"][0].dtype == torch.uint8 and raw["view_params"][0].shape == (len(keys), 19)
    out = build_batch_augmenter(cfg)(raw)
    assert "view_params" not in out and "flow_params" not in out
    assert out["label"].tolist() == ref["label"].tolist()
    for field in ("views", "flow"):
        assert len(out[field]) == len(ref[field]) == 2
        for a, b in zip(out[field], ref[field]):
            assert a.shape == b.shape == (len(keys), 3, 4, 24, 24)
            diff = _levels(a, b, cfg.DATA.STD)
            assert diff.max() <= 3.0 and diff.mean() < 0.2, (field, diff.max(), diff.mean())


def test_ava_boxes_and_clips_on_device(tmp_path, monkeypatch):
    from videossl.config import load_config
    from videossl.data import build_dataset
    from videossl.data.transforms.on_device import build_batch_augmenter

    monkeypatch.setenv("VIDEOSSL_CACHE", str(tmp_path / "cache"))
    cfg = load_config(["configs/synthetic/ava/finetune_R10.yaml"], ["DATA.AUGMENT_ON_DEVICE", "True"])
    workers = build_dataset(cfg, "train")
    deferred = build_dataset(cfg, "train", defer_augmentation=True)
    keys = [(0, i) for i in range(4)]
    ref = collate_batch([workers[k] for k in keys])
    out = build_batch_augmenter(cfg)(collate_batch([deferred[k] for k in keys]))
    torch.testing.assert_close(out["boxes"], ref["boxes"], atol=1e-3, rtol=0)
    assert torch.equal(out["ori_boxes"], ref["ori_boxes"]) and torch.equal(out["box_labels"], ref["box_labels"])
    diff = _levels(out["views"][0], ref["views"][0], cfg.DATA.STD)
    assert diff.max() <= 3.0 and diff.mean() < 0.2


def test_the_key_rejects_randaugment():
    from videossl.config import load_config

    with pytest.raises(ValueError, match="DATA.AUGMENT_ON_DEVICE does not run RandAugment"):
        load_config([], tiny_cfg_opts(**{"DATA.AUGMENT_ON_DEVICE": True, "AUG.ENABLE": True}))


def test_a_run_with_on_device_augmentation_trains_like_the_workers_path(tmp_path):
    """Two MoCo iterations through tools/run_net.py: the same losses up to the augmentation's rounding."""
    import os
    import subprocess
    import sys

    from helpers.runs import logged_losses

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    losses = {}
    for on in (False, True):
        out = str(tmp_path / f"on_{on}")
        opts = ["SOLVER.MAX_EPOCH", "1", "TRAIN.ITERS_PER_EPOCH", "2", "TEST.ENABLE", "False", "LOG_PERIOD", "1",
                "DATA_LOADER.NUM_WORKERS", "0", "TENSORBOARD.ENABLE", "False", "LOG_MODEL_INFO", "False",
                "DATA.AUGMENT_ON_DEVICE", str(on), "OUTPUT_DIR", out]
        subprocess.run([sys.executable, os.path.join(root, "tools", "run_net.py"), "--cfg",
                        os.path.join(root, "configs", "synthetic", "contrastive_ssl", "MoCo_R10.yaml")] + opts,
                       check=True, cwd=root, capture_output=True, env=dict(os.environ, VIDEOSSL_CACHE=str(tmp_path)))
        losses[on] = logged_losses(out)
    assert len(losses[True]) == 2 and losses[True].keys() == losses[False].keys()
    for k in losses[True]:
        assert losses[True][k] == pytest.approx(losses[False][k], rel=2e-2)
