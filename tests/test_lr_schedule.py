import math

import pytest

from videossl.engine.lr_schedule import LRSchedule


def test_cosine_with_linear_warmup_matches_formula():
    s = LRSchedule("cosine", base_lr=1.0, max_epoch=10, cosine_end_lr=0.1, warmup_epochs=2,
                   warmup_start_lr=0.01)
    assert s.lr_at(0) == pytest.approx(0.01)
    # warmup ends at the cosine value at epoch 2 (cosine not offset by warmup)
    at2 = 0.1 + 0.9 * (math.cos(math.pi * 2 / 10) + 1) / 2
    assert s.lr_at(1.0) == pytest.approx(0.01 + (at2 - 0.01) / 2)
    assert s.lr_at(2.0) == pytest.approx(at2)
    assert s.lr_at(10.0) == pytest.approx(0.1)


def test_cosine_after_warmup_offsets_the_curve():
    s = LRSchedule("cosine", base_lr=1.0, max_epoch=10, warmup_epochs=2, warmup_start_lr=0.0,
                   cosine_after_warmup=True)
    assert s.lr_at(2.0) == pytest.approx(1.0)
    assert s.lr_at(6.0) == pytest.approx(0.5)


def test_steps_with_relative_lrs():
    s = LRSchedule("steps_with_relative_lrs", base_lr=0.12, max_epoch=22, steps=(0, 14, 18),
                   lrs=(1, 0.1, 0.01))
    assert s.lr_at(13.9) == pytest.approx(0.12)
    assert s.lr_at(14.0) == pytest.approx(0.012)
    assert s.lr_at(21) == pytest.approx(0.0012)
