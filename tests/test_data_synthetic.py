"""The built-in synthetic dataset: deterministic, real H.264 + CSVs, exact flow, safe generation."""

import filecmp
import hashlib
import multiprocessing
import os

import numpy as np
import pytest
import torch

from videossl.config import get_cfg
from videossl.data import build_dataset, seeds
from videossl.data.decoding import open_video
from videossl.data.flow import decode_flow, encode_flow, read_flow_jpeg
from videossl.data.synthetic import SyntheticSettings, ensure_synthetic, generate, settings_from_cfg
from videossl.data.synthetic_render import class_table, render_video

TINY = dict(num_classes=3, train_per_class=2, test_per_class=1, num_frames=10, size=32)


def _digest_tree(root):
    h = hashlib.sha256()
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            h.update(name.encode())
            with open(os.path.join(dirpath, name), "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def _generate_in_fresh_process(settings, root):
    """Serial generation in a new interpreter (see the caveat in ``videossl/data/synthetic.py``)."""
    proc = multiprocessing.get_context("spawn").Process(target=generate, args=(settings, root, 1))
    proc.start()
    proc.join()
    assert proc.exitcode == 0
    return root


def _decoded(root, rel, n=10):
    with open_video(os.path.join(root, "videos", rel)) as r:
        return r.read(range(n)).float()


def test_same_seed_same_videos_other_seed_other_frames(tmp_path):
    """Rendering is exact; the written files decode to the same frames up to codec noise.

    (Byte identity holds in most fresh serial generations but not all: see the encoder caveat in
    ``videossl/data/synthetic.py``; a byte-compare here failed about one run in five.)
    """
    shape, motion = class_table(3)[1]
    f1, _ = render_video(seeds.rng_for(0, 0, 1, 0), shape, motion, 10, 32)
    f2, _ = render_video(seeds.rng_for(0, 0, 1, 0), shape, motion, 10, 32)
    assert np.array_equal(f1, f2)
    a = _generate_in_fresh_process(SyntheticSettings(**TINY), str(tmp_path / "a"))
    b = _generate_in_fresh_process(SyntheticSettings(**TINY), str(tmp_path / "b"))
    c = ensure_synthetic(SyntheticSettings(**TINY, seed=1), str(tmp_path / "c"))
    with open(os.path.join(a, "train.csv")) as fa, open(os.path.join(b, "train.csv")) as fb:
        assert fa.read() == fb.read()
    for rel in sorted(os.listdir(os.path.join(a, "videos", "train"))):
        same = _decoded(a, f"train/{rel}") - _decoded(b, f"train/{rel}")
        assert same.abs().mean() < 1.0, rel
    fa, fc = _decoded(a, "train/c01_000.mp4"), _decoded(c, "train/c01_000.mp4")
    assert fa.shape == (10, 32, 32, 3)
    other_seed = (fa - fc).abs().mean()
    assert other_seed > 10
    assert not (fa[0] == fa[-1]).all()  # the object moves
    # The file holds what was rendered, up to 4:2:0 chroma and CRF-18 loss on 32x32 frames (~5 levels).
    assert (fa - torch.from_numpy(f1).float()).abs().mean() < min(8.0, other_seed / 2)


def test_csv_layout_and_reading_through_kinetics_path(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOSSL_CACHE", str(tmp_path / "cache"))
    cfg = get_cfg()
    cfg.TRAIN.DATASET = cfg.TEST.DATASET = "synthetic"
    for k, v in TINY.items():
        cfg.SYNTHETIC[k.upper()] = v
    cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE = 4, 2
    cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.TEST_CROP_SIZE, cfg.DATA.TRAIN_JITTER_SCALES = 24, 32, [32, 40]
    cfg.TEST.NUM_ENSEMBLE_VIEWS, cfg.TEST.NUM_SPATIAL_CROPS = 1, 1
    train, test = build_dataset(cfg, "train"), build_dataset(cfg, "test")
    root = os.path.dirname(os.path.dirname(os.path.dirname(train.paths[0])))
    assert root.startswith(str(tmp_path / "cache" / "synthetic-"))
    lines = open(os.path.join(root, "train.csv")).read().splitlines()
    assert lines[:2] == ["train/c00_000.mp4 0", "train/c00_001.mp4 0"] and len(lines) == 6
    assert filecmp.cmp(os.path.join(root, "val.csv"), os.path.join(root, "test.csv"), shallow=False)
    assert train.labels == [0, 0, 1, 1, 2, 2] and test.labels == [0, 1, 2]
    assert train.num_videos == 6 and train[(0, 3)]["views"][0].shape == (3, 4, 24, 24)
    assert test[2]["views"][0].shape == (3, 4, 32, 32) and test[2]["label"] == 2


def test_classes_need_shape_and_motion():
    table = class_table(8)
    assert len(set(table)) == 8
    for shape in {s for s, _ in table}:
        assert len({m for s, m in table if s == shape}) >= 2
    for motion in {m for _, m in table}:
        assert len({s for s, m in table if m == motion}) >= 2
    with pytest.raises(ValueError):
        class_table(26)


def _warp(img, flow):
    """Sample ``img`` (H x W x 3) at ``p + flow(p)`` (bilinear)."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    grid = np.stack([(xx + flow[..., 0] + 0.5) / w * 2 - 1, (yy + flow[..., 1] + 0.5) / h * 2 - 1], -1)
    out = torch.nn.functional.grid_sample(torch.from_numpy(img).permute(2, 0, 1)[None].float(),
                                          torch.from_numpy(grid)[None], align_corners=False)
    return out[0].permute(1, 2, 0).numpy()


def test_flow_is_the_motion_of_the_pixels():
    # warping frame t+1 by the flow reproduces frame t on the object (brightness constancy)
    for motion in ("linear", "circular", "oscillation", "rotation", "zoom"):
        frames, flow = render_video(np.random.default_rng(7), "cross", motion, 12, 48, with_flow=True)
        f = frames.astype(np.float32)
        warped_err, still_err, noise = [], [], []
        for t in range(10):
            moving = np.abs(flow[t]).sum(-1) > 0.3
            static = (np.abs(flow[t]).sum(-1) == 0) & (np.abs(flow[t + 1]).sum(-1) == 0)
            if moving.sum() < 20:
                continue
            warped_err.append(np.abs(_warp(f[t + 1], flow[t]) - f[t])[moving].mean())
            still_err.append(np.abs(f[t + 1] - f[t])[moving].mean())
            noise.append(np.abs(f[t + 1] - f[t])[static].mean())  # sensor noise only
        assert len(warped_err) >= 3, motion
        floor, w, s = np.mean(noise), np.mean(warped_err), np.mean(still_err)
        assert s > floor + 1.5 and w - floor < 0.4 * (s - floor), (motion, floor, w, s)


def test_flow_jpegs_round_trip(tmp_path):
    settings = SyntheticSettings(**{**TINY, "num_classes": 2, "write_flow": True})
    root = ensure_synthetic(settings, str(tmp_path / "f"))
    folder = os.path.join(root, "flow/train/c01_001")
    assert sorted(os.listdir(folder)) == [f"flow_{k:05d}.jpg" for k in range(1, 10)]
    from videossl.data import seeds
    _, true = render_video(seeds.rng_for(0, 0, 1, 1), *class_table(2)[1], 10, 32, with_flow=True)
    for k in (1, 5, 9):
        from PIL import Image
        rgb = np.asarray(Image.open(os.path.join(folder, f"flow_{k:05d}.jpg")).convert("RGB"))
        assert abs(int(np.median(rgb[..., 0])) - 128) <= 1  # R = 128
        got, want = read_flow_jpeg(os.path.join(folder, f"flow_{k:05d}.jpg")), true[k - 1]
        err = np.abs(got - np.clip(want, -20, 20))
        # quantisation step 40/255 (zero flow reads back as 0.078), plus JPEG error at the edges
        assert err.mean() < 0.15 and np.percentile(err, 99) < 1.0, (err.mean(), err.max())
        assert np.abs(want).max() > 0.5  # something moves
    x = np.array([[[-25.0, 3.3], [0.0, 19.9]]], np.float32)
    enc = encode_flow(x)
    assert enc[0, 0].tolist() == [128, round(23.3 * 255 / 40), 0]  # (128, y, x), clipped at -20
    np.testing.assert_allclose(decode_flow(enc), np.clip(x, -20, 20), atol=40 / 255 / 2 + 1e-6)


def test_flow_views_share_frames_and_augmentation(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOSSL_CACHE", str(tmp_path / "cache"))
    cfg = get_cfg()
    cfg.TRAIN.DATASET = "synthetic"
    for k, v in {**TINY, "write_flow": True}.items():
        cfg.SYNTHETIC[k.upper()] = v
    cfg.DATA.USE_FLOW = True
    cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE, cfg.DATA.TRAIN_CROP_NUM_TEMPORAL = 4, 2, 2
    cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.TRAIN_JITTER_SCALES_RELATIVE = 24, [0.3, 0.8]
    cfg.DATA.TRAIN_JITTER_ASPECT_RELATIVE = [0.75, 1.333]
    ds = build_dataset(cfg, "train")
    sample = ds[(0, 2)]
    assert len(sample["flow"]) == 2 and sample["flow"][0].shape == sample["views"][0].shape
    # serve the RGB frames as "flow": every flow view must then equal its RGB view exactly
    from videossl.data import dataset as dmod

    class Echo:
        def __init__(self, record):
            self.reader = open_video(record.path)

        def read(self, idx):
            return self.reader.read(idx)

    monkeypatch.setattr(dmod.VideoDataset, "_flow_reader", lambda self, record: Echo(record))
    sample = ds[(0, 2)]
    for v, f in zip(sample["views"], sample["flow"]):
        assert torch.equal(v, f)


def _generate(root):
    return ensure_synthetic(SyntheticSettings(**TINY, seed=5), root)


def test_concurrent_generation_is_safe(tmp_path):
    root = str(tmp_path / "shared")
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(3) as pool:
        roots = pool.map(_generate, [root] * 3)
    assert roots == [root] * 3
    assert sorted(os.listdir(tmp_path)) == ["shared", "shared.lock"]  # no temporary directory left
    assert len(open(os.path.join(root, "train.csv")).read().splitlines()) == 6


def test_nuisance_knobs_change_only_the_colours():
    """COLOUR_VARIATION 0 gives every video the same grey pair; the geometry is unchanged."""
    from videossl.data.seeds import rng_for
    from videossl.data.synthetic_render import FIXED_BACKGROUND, FIXED_OBJECT

    shape, motion = class_table(8)[3]
    default, _ = render_video(rng_for(0, 0, 3, 5), shape, motion, 6, 32)
    grey, _ = render_video(rng_for(0, 0, 3, 5), shape, motion, 6, 32, colour_variation=0.0)
    plain, _ = render_video(rng_for(0, 0, 3, 5), shape, motion, 6, 32, texture=0.0)
    # Same object pixels in every rendering (the random draws do not depend on the knobs).
    obj = np.abs(grey.astype(float) / 255 - FIXED_BACKGROUND).mean(-1) > 0.25
    assert 0.05 < obj.mean() < 0.6
    assert np.abs(grey[obj].astype(float) / 255 - FIXED_OBJECT).mean() < 0.05
    grey_plain, _ = render_video(rng_for(0, 0, 3, 5), shape, motion, 6, 32, texture=0.0, colour_variation=0.0)
    assert np.abs(grey_plain[~obj].astype(float) / 255 - FIXED_BACKGROUND).mean() < 0.02  # sensor noise only
    pure_bg = np.abs(grey.astype(float) / 255 - FIXED_BACKGROUND).max(-1) < 0.06  # away from the edges
    # texture=0: only sensor noise varies over the background; the default has gratings on top.
    plain_bg, default_bg = plain[0][pure_bg[0]].astype(float) / 255, default[0][pure_bg[0]].astype(float) / 255
    assert plain_bg.std(0).max() < 0.02
    assert default_bg.std(0).max() > plain_bg.std(0).max() + 0.005
    # COLOUR_VARIATION 0 keeps the gratings' luminance on the grey background (grey gratings):
    # the three channels move together, as much as the default's luma does.
    grey_bg, flat_bg = grey[0][pure_bg[0]].astype(float) / 255, grey_plain[0][pure_bg[0]].astype(float) / 255
    assert grey_bg.std(0).min() > flat_bg.std(0).max() + 0.003
    assert np.abs(grey_bg - grey_bg.mean(1, keepdims=True)).mean() < 0.01
    luma = np.array([0.299, 0.587, 0.114])
    assert abs((grey_bg @ luma).std() - (default_bg @ luma).std()) < 0.01
    # The object is where it was, with (nearly) the video's own colour: it is drawn to contrast with the
    # background's mean, which the gratings shift a little.
    inner = np.abs(grey.astype(float) / 255 - FIXED_OBJECT).max(-1) < 0.06
    assert inner.sum() > 100
    assert np.abs(plain[inner].astype(float) - default[inner].astype(float)).mean() < 6


def test_sensor_noise_knob_scales_only_the_noise():
    """SENSOR_NOISE 0 leaves a plain background exactly flat; the object and its motion do not change."""
    from videossl.data.seeds import rng_for
    from videossl.data.synthetic_render import FIXED_BACKGROUND

    shape, motion = class_table(8)[2]
    kw = dict(texture=0.0, colour_variation=0.0)
    noisy, _ = render_video(rng_for(0, 0, 2, 1), shape, motion, 6, 32, **kw)
    clean, _ = render_video(rng_for(0, 0, 2, 1), shape, motion, 6, 32, sensor_noise=0.0, **kw)
    loud, _ = render_video(rng_for(0, 0, 2, 1), shape, motion, 6, 32, sensor_noise=0.05, **kw)
    background = np.round(FIXED_BACKGROUND * 255).astype(np.uint8)
    bg = (clean == background).all(-1)
    assert 0.4 < bg.mean() < 0.95
    # Away from the object every noise-free pixel is the grey exactly; the noisy ones are not.
    noisy_bg = noisy[bg].astype(float)
    assert (noisy_bg != background).any(-1).mean() > 0.5
    # The noise is grey (equal in the three channels up to rounding) and has the requested std.
    assert np.abs(noisy_bg - noisy_bg.mean(-1, keepdims=True)).max() <= 1.0
    assert abs(noisy_bg.std() / 255 - 0.012) < 0.002
    assert abs(loud[bg].astype(float).std() / 255 - 0.05) < 0.005
    # Same geometry: the noise is below the object/background contrast everywhere.
    assert np.abs(noisy.astype(float) - clean.astype(float)).max() < 0.012 * 255 * 6


def test_illumination_gradient_multiplies_the_scene_by_one_static_ramp():
    """ILLUMINATION_GRADIENT g: every pixel x (1 + g d / size) along a per-video direction; 0 changes nothing."""
    from videossl.data.seeds import rng_for

    shape, motion = class_table(8)[2]
    kw = dict(texture=0.0, colour_variation=0.0, sensor_noise=0.0)
    even, _ = render_video(rng_for(0, 0, 2, 1), shape, motion, 6, 32, **kw)
    assert np.array_equal(render_video(rng_for(0, 0, 2, 1), shape, motion, 6, 32, illumination_gradient=0.0,
                                       **kw)[0], even)
    size, g = 32, 0.5
    directions = []
    for video in (1, 2):
        base, base_flow = render_video(rng_for(0, 0, 2, video), shape, motion, 6, size, with_flow=True, **kw)
        lit, lit_flow = render_video(rng_for(0, 0, 2, video), shape, motion, 6, size, with_flow=True,
                                     illumination_gradient=g, **kw)
        assert np.array_equal(lit_flow, base_flow) and np.abs(base_flow).max() > 0  # lighting moves nothing
        ratio = lit.astype(float) / base.astype(float)  # T x H x W x 3; no pixel of these videos is black
        assert np.abs(ratio - ratio[:1]).max() < 0.02  # static lighting
        assert np.abs(ratio - ratio[..., :1]).max() < 0.02  # grey lighting
        # Least-squares plane 1 + a (x - size/2) + b (y - size/2) through the ratio of frame 0.
        yy, xx = np.mgrid[0:size, 0:size] + 0.5
        design = np.stack([np.ones(size * size), (xx - size / 2).ravel(), (yy - size / 2).ravel()], 1)
        (c, a, b), *_ = np.linalg.lstsq(design, ratio[0, ..., 0].ravel(), rcond=None)
        assert abs(c - 1) < 0.01
        assert abs(np.hypot(a, b) * size - g) < 0.01  # the strength
        assert np.abs(design @ np.array([c, a, b]) - ratio[0, ..., 0].ravel()).max() < 0.02  # a plane
        directions.append(np.arctan2(b, a))
    assert abs(np.angle(np.exp(1j * (directions[0] - directions[1])))) > 0.1  # one direction per video


def test_object_glow_lights_the_background_by_a_cone_that_follows_the_object():
    """OBJECT_GLOW h: background pixels gain h (1 - d / (sqrt(2) size)), d from the object's centre in each frame."""
    from videossl.data.seeds import rng_for
    from videossl.data.synthetic_render import FIXED_BACKGROUND, FIXED_OBJECT

    size, h = 32, 0.4
    kw = dict(texture=0.0, colour_variation=0.0, sensor_noise=0.0, with_flow=True)
    dark, dark_flow = render_video(rng_for(0, 0, 1, 3), "square", "linear", 12, size, **kw)
    assert np.array_equal(render_video(rng_for(0, 0, 1, 3), "square", "linear", 12, size, object_glow=0.0,
                                       **kw)[0], dark)
    lit, lit_flow = render_video(rng_for(0, 0, 1, 3), "square", "linear", 12, size, object_glow=h, **kw)
    assert np.array_equal(lit_flow, dark_flow) and np.abs(dark_flow).max() > 0  # the glow moves nothing
    background = np.round(FIXED_BACKGROUND * 255)
    solid = (dark == np.round(FIXED_OBJECT * 255)).all(-1)  # T x H x W, inside the object
    assert np.array_equal(lit[solid], dark[solid])  # the object itself is not lit
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    centres = []
    for t in range(dark.shape[0]):
        obj = (dark[t] != background).any(-1)
        cx, cy = xx[solid[t]].mean(), yy[solid[t]].mean()  # a square's centre is its centroid
        centres.append((cx, cy))
        # background pixels at least 2 px from any object pixel (no anti-aliased edge)
        far = ~np.array([[obj[max(0, i - 2):i + 3, max(0, j - 2):j + 3].any() for j in range(size)]
                         for i in range(size)])
        assert far.mean() > 0.4
        expected = background[0] + 255 * h * np.maximum(0, 1 - np.hypot(xx - cx, yy - cy) / (np.sqrt(2) * size))
        gain = lit[t].astype(float) - expected[..., None]
        assert np.abs(gain[far]).max() <= 1.5  # rounding, and the centroid of a pixelated square
    assert max(np.hypot(*np.subtract(c, centres[0])) for c in centres) > 3  # the object moved, its glow with it


def test_default_knobs_keep_the_version_2_digest():
    """Caches generated before the knobs existed stay valid; any other value is another dataset."""
    base = SyntheticSettings()
    assert base.digest() == "d15756cdf0ad"
    assert SyntheticSettings(colour_variation=0.0).digest() != base.digest()
    assert SyntheticSettings(background_texture=0.0).digest() != base.digest()
    assert SyntheticSettings(colour_variation=0.0).digest() != SyntheticSettings(background_texture=0.0).digest()
    # grey plain videos (the contrastive configs' data) kept their digest when the gratings turned grey
    assert SyntheticSettings(colour_variation=0.0, background_texture=0.0).digest() == "81c07a0528ff"
    assert SyntheticSettings(sensor_noise=0.012).digest() == base.digest()
    assert SyntheticSettings(sensor_noise=0.0).digest() != base.digest()
    with pytest.raises(ValueError, match="SENSOR_NOISE"):
        SyntheticSettings(sensor_noise=-0.1)
    assert SyntheticSettings(illumination_gradient=0.0).digest() == base.digest()
    assert SyntheticSettings(illumination_gradient=0.5).digest() != base.digest()
    with pytest.raises(ValueError, match="ILLUMINATION_GRADIENT"):
        SyntheticSettings(illumination_gradient=1.5)
    assert SyntheticSettings(object_glow=0.0).digest() == base.digest()
    assert SyntheticSettings(object_glow=0.4).digest() != base.digest()
    with pytest.raises(ValueError, match="OBJECT_GLOW"):
        SyntheticSettings(object_glow=1.5)
    # every SYNTHETIC key reaches the settings (and so the digest)
    cfg = get_cfg()
    assert settings_from_cfg(cfg) == base
    cfg.SYNTHETIC.SENSOR_NOISE, cfg.SYNTHETIC.COLOUR_VARIATION, cfg.SYNTHETIC.BACKGROUND_TEXTURE = 0.0, 0.5, 2.0
    cfg.SYNTHETIC.ILLUMINATION_GRADIENT, cfg.SYNTHETIC.OBJECT_GLOW = 0.3, 0.2
    assert settings_from_cfg(cfg) == SyntheticSettings(sensor_noise=0.0, colour_variation=0.5, background_texture=2.0,
                                                       illumination_gradient=0.3, object_glow=0.2)
    with pytest.raises(ValueError, match="COLOUR_VARIATION"):
        SyntheticSettings(colour_variation=1.5)
    with pytest.raises(ValueError, match="BACKGROUND_TEXTURE"):
        SyntheticSettings(background_texture=-1.0)
