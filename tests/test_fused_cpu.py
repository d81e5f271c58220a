"""The fused numba kernels (DATA.FUSED_CPU_AUGMENT) against the torch kernels of the same per-clip path,
and against values computed by hand."""

import numpy as np
import pytest
import torch

from videossl.data.transforms import ClipTransform, ColorConfig, fused_cpu
from videossl.data.transforms.clip_aug import ClipParams
from videossl.data.transforms.color import ColorParams

pytestmark = pytest.mark.skipif(not fused_cpu.available(), reason="numba is not installed")

MEAN, STD = [0.45, 0.4, 0.35], [0.225, 0.25, 0.2]


def _frames(t=4, side=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (t, side, side, 3), dtype=np.uint8)
    x[:, :4, :4] = 128  # grey pixels: no hue
    x[:, 4:8, :4, 1] = x[:, 4:8, :4, 0]  # red == green ties
    x[:, 8:12, :4] = 255  # saturated pixels for the clamps
    return torch.from_numpy(x)


def _torch_path(frames, flip, color):
    """The torch kernels on a square clip, uncropped (the full-frame box at its own size: no resize)."""
    side = frames.shape[1]
    tf = ClipTransform(crop_size=side, test_size=side, mean=MEAN, std=STD, fused=False)
    return tf.apply(frames, ClipParams((0, 0, side, side), flip, color))


def _unit(x):
    """Normalised ``3 x T x H x W`` back to [0, 1] units."""
    return x * torch.tensor(STD).view(-1, 1, 1, 1) + torch.tensor(MEAN).view(-1, 1, 1, 1)


def test_without_colour_it_is_bit_identical_to_the_torch_path():
    frames = _frames()
    for flip in (False, True):
        out = fused_cpu.augment_clip(frames, flip, None, MEAN, STD)
        assert out.shape == (3, 4, 32, 32) and out.dtype == torch.float32
        assert torch.equal(out, _torch_path(frames, flip, None))
    assert not torch.equal(fused_cpu.augment_clip(frames, True, None, MEAN, STD),
                           fused_cpu.augment_clip(frames, False, None, MEAN, STD))


@pytest.mark.parametrize("mocov2", [True, False])
def test_drawn_colour_matches_the_torch_kernels_up_to_rounding(mocov2):
    """Every op, in every order, grey first or last, blurs of each radius; 60 draws."""
    frames = _frames()
    tf = ClipTransform(crop_size=32, test_size=32, mean=MEAN, std=STD,
                       color=ColorConfig((0.6, 0.6, 0.6), 0.15, 0.3, mocov2))
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(60):
        p = tf.sample_train(rng, 32, 32)
        c = p.color
        if c.jitter is not None:
            seen.add(c.jitter[0])
        if c.blur_sigma is not None:
            seen.add(("radius", int(np.ceil(3 * c.blur_sigma))))
        out = fused_cpu.augment_clip(frames, p.flip, c, MEAN, STD)
        ref = _torch_path(frames, p.flip, c)
        torch.testing.assert_close(_unit(out), _unit(ref), atol=2e-6, rtol=0)
        if c.jitter is not None or c.gray:
            assert not torch.allclose(ref, _torch_path(frames, p.flip, None), atol=1e-3)  # colour did something
    assert len(seen) >= 20  # many op orders
    if mocov2:
        assert {("radius", r) for r in range(1, 7)} <= seen


@pytest.mark.parametrize("sigma", [0.2, 1.0, 2.0, 3.5])
def test_blur_matches_including_the_wide_kernel_fallback(sigma):
    frames = _frames(side=33)
    c = ColorParams(blur_sigma=sigma)  # 3.5: radius 11, beyond the fused kernel's 6 (torch blur)
    torch.testing.assert_close(_unit(fused_cpu.augment_clip(frames, False, c, MEAN, STD)),
                               _unit(_torch_path(frames, False, c)), atol=2e-6, rtol=0)


def test_a_clip_too_small_for_the_fused_blur_falls_back():
    frames = _frames(t=2, side=6)
    c = ColorParams(((3, 2, 1, 0), (1.3, 0.7, 1.2, 0.1)), False, False, 0.9)
    torch.testing.assert_close(_unit(fused_cpu.augment_clip(frames, True, c, MEAN, STD)),
                               _unit(_torch_path(frames, True, c)), atol=2e-6, rtol=0)


def test_contrast_uses_the_clip_mean_left_by_the_ops_before_it():
    frames = _frames()
    first = ColorParams(((1, 0, 2, 3), (1.4, 0.5, 1.0, 0.0)))  # contrast, then brightness
    second = ColorParams(((0, 1, 2, 3), (1.4, 0.5, 1.0, 0.0)))  # brightness, then contrast
    a, b = (fused_cpu.augment_clip(frames, False, c, MEAN, STD) for c in (first, second))
    assert (a - b).abs().max() > 0.05
    for out, c in ((a, first), (b, second)):
        torch.testing.assert_close(_unit(out), _unit(_torch_path(frames, False, c)), atol=2e-6, rtol=0)


def test_pointwise_ops_by_hand():
    """One pixel (r, g, b) = (255, 51, 0): values worked out from the definitions."""
    px = torch.tensor([255, 51, 0], dtype=torch.uint8).view(1, 1, 1, 3)
    zero, one = [0.0] * 3, [1.0] * 3

    def run(jitter=None, gray=False):
        return fused_cpu.augment_clip(px, False, ColorParams(jitter, gray), zero, one).view(3)

    r, g = 1.0, 0.2
    # brightness 0.5 halves; 1.5 clamps red at 1
    torch.testing.assert_close(run(((0, 1, 2, 3), (0.5, 1, 1, 0))), torch.tensor([0.5, 0.1, 0.0]))
    torch.testing.assert_close(run(((0, 1, 2, 3), (1.5, 1, 1, 0))), torch.tensor([1.0, 0.3, 0.0]))
    # grey level 0.2989 r + 0.587 g + 0.114 b
    grey = 0.2989 * r + 0.587 * g
    torch.testing.assert_close(run(gray=True), torch.full((3,), grey))
    # contrast 0.5 on a one-pixel clip: halfway to its own grey level
    torch.testing.assert_close(run(((1, 0, 2, 3), (1, 0.5, 1, 0))), torch.tensor([r + grey, g + grey, grey]) / 2)
    # saturation 0: grey
    torch.testing.assert_close(run(((2, 0, 1, 3), (1, 1, 0.0, 0))), torch.full((3,), grey))
    # hue (H, S, V) = (12 deg, 1, 1); +1/6 turn -> 72 deg: r = 1 - 0.2, g = 1, b = 0
    torch.testing.assert_close(run(((3, 0, 1, 2), (1, 1, 1, 1 / 6))), torch.tensor([0.8, 1.0, 0.0]))
    # -1/6 turn -> 312 deg (magenta side): r = 1, g = 0, b = 0.8
    torch.testing.assert_close(run(((3, 0, 1, 2), (1, 1, 1, -1 / 6))), torch.tensor([1.0, 0.0, 0.8]))


def test_blur_by_hand_on_an_impulse():
    """An impulse blurs into the kernel itself: ``out[y, x] = w[|y|] w[|x|]`` (normalised weights)."""
    from videossl.data.transforms.color import gaussian_weights

    frames = torch.zeros(1, 15, 15, 3, dtype=torch.uint8)
    frames[0, 7, 7] = 255
    sigma = 1.0  # radius 3
    out = fused_cpu.augment_clip(frames, False, ColorParams(blur_sigma=sigma), [0.0] * 3, [1.0] * 3)[0, 0]
    t = torch.arange(-3, 4, dtype=torch.float64)
    w = torch.exp(-0.5 * t ** 2 / sigma ** 2)
    w = w / w.sum()
    ref = torch.zeros(15, 15, dtype=torch.float64)
    ref[4:11, 4:11] = w[:, None] * w[None, :]
    torch.testing.assert_close(out.double(), ref, atol=1e-6, rtol=0)
    torch.testing.assert_close(gaussian_weights([sigma], 15)[0].double(), w[3:], atol=1e-7, rtol=0)


def test_clip_transform_uses_the_kernels_and_falls_back_without_numba(monkeypatch):
    frames = _frames(side=48)
    color = ColorConfig((0.6, 0.6, 0.6), 0.15, 0.3, True)
    fused = ClipTransform(crop_size=32, test_size=32, mean=MEAN, std=STD, relative_scale=(0.2, 0.766), color=color)
    plain = ClipTransform(crop_size=32, test_size=32, mean=MEAN, std=STD, relative_scale=(0.2, 0.766), color=color,
                          fused=False)
    calls = []
    real = fused_cpu.augment_clip
    monkeypatch.setattr(fused_cpu, "augment_clip", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(3)
    for _ in range(10):
        p = fused.sample_train(rng, 48, 48)
        torch.testing.assert_close(_unit(fused.apply(frames, p)), _unit(plain.apply(frames, p)), atol=2e-6, rtol=0)
    assert len(calls) == 10
    monkeypatch.setattr(fused_cpu, "_kernels", False)  # as if numba were missing
    assert not fused_cpu.available()
    p = fused.sample_train(rng, 48, 48)
    assert torch.equal(fused.apply(frames, p), plain.apply(frames, p)) and len(calls) == 10
    with pytest.raises(RuntimeError, match="numba"):
        real(frames, False, None, MEAN, STD)


def test_frames_it_cannot_take_are_refused_with_their_shape():
    with pytest.raises(ValueError, match=r"float32 \(2, 8, 8, 3\)"):
        fused_cpu.augment_clip(torch.zeros(2, 8, 8, 3), False, None, MEAN, STD)
    with pytest.raises(ValueError, match=r"\(2, 8, 8, 1\)"):
        fused_cpu.augment_clip(torch.zeros(2, 8, 8, 1, dtype=torch.uint8), False, None, MEAN, STD)
    with pytest.raises(ValueError, match="3 means"):
        fused_cpu.augment_clip(torch.zeros(2, 8, 8, 3, dtype=torch.uint8), False, None, [0.5], [0.25])
