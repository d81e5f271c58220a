"""Per-clip augmentation: one parameter draw per clip, shared by all frames and by flow."""

import numpy as np
import pytest
import torch

from videossl.data.transforms import ClipTransform, ColorConfig, jitter_crop_box, random_resized_crop_box, \
    uniform_crop_box
from videossl.data.transforms.color import apply_color, sample_color


def _ssl_transform(**kw):
    opts = dict(crop_size=24, test_size=32, mean=[0.45] * 3, std=[0.225] * 3, relative_scale=(0.2, 0.766),
                relative_aspect=(0.75, 1.3333), color=ColorConfig((0.6, 0.6, 0.6), 0.15, 0.5, True))
    opts.update(kw)
    return ClipTransform(**opts)


def _still_clip(t=6, h=40, w=56, seed=0):
    frame = torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))
    return frame[None].repeat(t, 1, 1, 1)


def test_every_frame_of_a_clip_gets_the_same_augmentation():
    tf = _ssl_transform()
    clip = _still_clip()
    changed = 0
    for seed in range(12):
        params = tf.sample_train(np.random.default_rng(seed), 40, 56)
        out = tf.apply(clip, params)
        assert out.shape == (3, 6, 24, 24)
        for t in range(1, 6):
            torch.testing.assert_close(out[:, t], out[:, 0])
        changed += bool(params.color.jitter is not None or params.color.blur_sigma is not None)
    assert changed > 0  # colour ops were actually exercised


def test_clips_get_independent_parameters():
    tf = _ssl_transform()
    boxes = {tf.sample_train(np.random.default_rng(s), 40, 56).box for s in range(10)}
    assert len(boxes) > 5


def test_flow_shares_crop_flip_and_colour():
    tf = _ssl_transform()
    clip = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (4, 40, 56, 3), dtype=np.uint8))
    for seed in range(6):
        params = tf.sample_train(np.random.default_rng(seed), 40, 56)
        torch.testing.assert_close(tf.apply(clip, params, is_flow=True), tf.apply(clip, params))
    # without colour on flow, flow gets only the geometric part
    tf_geo = _ssl_transform(flow_color=False)
    no_color = _ssl_transform(color=None)
    params = tf_geo.sample_train(np.random.default_rng(3), 40, 56)
    geo = type(params)(params.box, params.flip, None, None)
    torch.testing.assert_close(tf_geo.apply(clip, params, is_flow=True), no_color.apply(clip, geo))


def test_colour_ops_change_the_clip_and_stay_in_range():
    x = torch.rand(3, 3, 8, 8)
    p = sample_color(np.random.default_rng(0), (0.6, 0.6, 0.6), 0.15, 1.0, True, jitter_prob=1.0, blur_prob=1.0)
    y = apply_color(x, p)
    assert p.gray and p.jitter is not None and p.blur_sigma is not None
    assert not torch.allclose(x, y) and y.min() >= 0 and y.max() <= 1
    assert torch.allclose(y[:, 0], y[:, 1]) and torch.allclose(y[:, 1], y[:, 2])  # grayscale


def test_normalisation_uses_mean_and_std():
    tf = _ssl_transform(color=None, random_flip=False)
    clip = torch.full((2, 40, 56, 3), 200, dtype=torch.uint8)
    out = tf.apply(clip, tf.test_params(40, 56, 1, 1), size=32)
    assert out.shape == (3, 2, 32, 32)
    torch.testing.assert_close(out, torch.full_like(out, (200 / 255 - 0.45) / 0.225))


def test_crop_boxes():
    rng = np.random.default_rng(0)
    for _ in range(50):
        top, left, h, w = random_resized_crop_box(rng, 90, 120, (0.2, 0.766), (0.75, 1.3333))
        assert 0 <= top and top + h <= 90 and 0 <= left and left + w <= 120
        assert 0.18 <= h * w / (90 * 120) <= 0.8 and 0.7 <= w / h <= 1.4
        # short side jittered to S in [64, 80] then a 56 crop: the box side is 56 * 90 / S
        top, left, h, w = jitter_crop_box(rng, 90, 120, 64, 80, 56)
        assert h == w and 56 * 90 / 80 - 1 <= h <= 56 * 90 / 64 + 1
        assert top + h <= 90 and left + w <= 120
    assert [uniform_crop_box(90, 120, i, 3) for i in range(3)] == [(0, 0, 90, 90), (0, 15, 90, 90), (0, 30, 90, 90)]
    assert [uniform_crop_box(120, 90, i, 3) for i in range(3)] == [(0, 0, 90, 90), (15, 0, 90, 90), (30, 0, 90, 90)]
    assert uniform_crop_box(90, 120, 0, 1) == (0, 15, 90, 90)  # one crop: the centre


def test_ssl_blur_sigma_keys_set_the_blur_range():
    """DATA.SSL_BLUR_SIGMA_MIN/MAX[1] bound the sampled sigma; the defaults give PySlowFast's [0.1, 2.0]."""
    from videossl.config import get_cfg
    from videossl.data.build import build_transform

    def sigmas(opts):
        cfg = get_cfg()
        cfg.merge_from_list(["DATA.SSL_COLOR_JITTER", True, "DATA.SSL_MOCOV2_AUG", True,
                             "DATA.TRAIN_CROP_SIZE", 32] + opts)
        t = build_transform(cfg)
        rng = np.random.default_rng(0)
        drawn = [t.sample_train(rng, 64, 64).color.blur_sigma for _ in range(400)]
        return np.array([s for s in drawn if s is not None])

    default = sigmas([])
    assert 0.1 <= default.min() < 0.3 and 1.8 < default.max() <= 2.0
    narrow = sigmas(["DATA.SSL_BLUR_SIGMA_MIN", [0.0, 0.2], "DATA.SSL_BLUR_SIGMA_MAX", [0.0, 0.4]])
    assert 150 < len(narrow) < 250  # blur with probability 0.5
    assert 0.2 <= narrow.min() and narrow.max() <= 0.4
