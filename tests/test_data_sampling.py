"""Temporal sampling: clip length from fps, rho clips within DELTA_CLIPS bounds, uniform test views."""

import math

import numpy as np
import pytest

from videossl.data import sampling


def test_clip_size_follows_target_fps():
    # 8 frames at stride 8 at 30 fps target = 64 frames at 30 fps, 128 at 60 fps, 32 at 15 fps
    assert sampling.clip_size(8, 8, 30, 30) == 64
    assert sampling.clip_size(8, 8, 30, 60) == 128
    assert sampling.clip_size(8, 8, 30, 15) == 32


def test_frame_indices_linspace_and_padding():
    idx = sampling.frame_indices(10, 64, 8, 300)
    assert idx.tolist() == np.linspace(10, 73, 8).astype(int).tolist()
    # a 20-frame video and a 64-frame clip: start 0, tail padded with the last frame
    short = sampling.frame_indices(0, 64, 8, 20)
    assert short[0] == 0 and short.max() == 19 and (short[-3:] == 19).all()


@pytest.mark.parametrize("lo,hi", [(0, 30), (-20, 0), (8, 14)])
def test_random_starts_respect_gap_bounds(lo, hi):
    size = 16
    for seed in range(50):
        starts = sampling.random_starts(np.random.default_rng(seed), 200, size, 3, lo, hi)
        gaps = np.diff(starts) - (size - 1)
        assert (gaps >= lo - 1e-9).all() and (gaps <= hi + 1e-9).all(), (starts, gaps)


def test_unconstrained_starts_are_spread_over_the_video():
    starts = np.concatenate([sampling.random_starts(np.random.default_rng(s), 200, 16, 2) for s in range(200)])
    assert starts.min() >= 0 and starts.max() <= 184
    assert starts.min() < 20 and starts.max() > 164  # uniform over [0, len - size]


def test_infeasible_gap_returns_the_least_violating_draw():
    starts = sampling.random_starts(np.random.default_rng(0), 40, 16, 3, 30, math.inf)
    assert len(starts) == 3 and all(0 <= s <= 24 for s in starts)


def test_train_clips_are_returned_in_random_order():
    orders = set()
    for seed in range(20):
        clips, starts = sampling.sample_train_clips(
            np.random.default_rng(seed), 300, 30.0, num_frames=4, sampling_rate=2, target_fps=30,
            num_clips=3, min_gap=5)
        assert all(len(c) == 4 for c in clips)
        assert [c[0] for c in clips] == [int(s) for s in starts]
        orders.add(tuple(np.argsort(starts)))
    assert len(orders) > 1


def test_uniform_test_starts():
    # PySlowFast: clip i of n starts at delta * i / n; one view is centred
    assert [sampling.uniform_start(100, 20, i, 4) for i in range(4)] == [0, 20, 40, 60]
    assert sampling.uniform_start(100, 20, 0, 1) == 40
    assert [sampling.uniform_start(100, 20, i, 3, use_offset=True) for i in range(3)] == [0, 40, 80]


def test_segment_sampling():
    centre = sampling.segment_indices(81, 8)
    assert centre.tolist() == [5, 15, 25, 35, 45, 55, 65, 75]
    rnd = sampling.segment_indices(81, 8, np.random.default_rng(0))
    assert all(10 * k <= v <= 10 * (k + 1) for k, v in enumerate(rnd.tolist()))
