"""CoCLR's losses and positive mining against slow, independent formulas (Python floats, loops, sorts)."""

import math
import random

import pytest
import torch
import torch.nn.functional as F

from videossl.errors import InputError
from videossl.methods.multi_positive import drop_self_positive, multi_positive_nce, topk_positives, ubernce_loss


def _random_case(seed, B=5, K=12, p=0.25):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, 1 + K, generator=g, dtype=torch.float64) * 3
    mask = torch.rand(B, 1 + K, generator=g) < p
    mask[:, 0] = True
    return logits, mask


def _slow_multi_nce(logits, mask):
    total = 0.0
    for row, m in zip(logits.tolist(), mask.tolist()):
        denom = sum(math.exp(v) for v in row)
        num = sum(math.exp(v) for v, is_pos in zip(row, m) if is_pos)
        total += -math.log(num / denom)
    return total / len(logits)


def _slow_ubernce(logits, mask):
    total = 0.0
    for row, m in zip(logits.tolist(), mask.tolist()):
        log_z = math.log(sum(math.exp(v) for v in row))
        pos = [v - log_z for v, is_pos in zip(row, m) if is_pos]
        total += -sum(pos) / len(pos)
    return total / len(logits)


@pytest.mark.parametrize("seed", range(4))
def test_multi_positive_nce_matches_the_slow_formula(seed):
    logits, mask = _random_case(seed)
    assert multi_positive_nce(logits, mask).item() == pytest.approx(_slow_multi_nce(logits, mask), rel=1e-12)


def test_multi_positive_nce_with_only_the_own_key_is_cross_entropy_with_target_0():
    logits, _ = _random_case(7)
    mask = torch.zeros_like(logits, dtype=torch.bool)
    mask[:, 0] = True
    expected = F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long))
    torch.testing.assert_close(multi_positive_nce(logits, mask), expected)


def test_multi_positive_nce_is_finite_at_coclrs_temperature_in_half_precision():
    g = torch.Generator().manual_seed(0)
    q = F.normalize(torch.randn(4, 16, generator=g), dim=1)
    keys = F.normalize(torch.randn(33, 16, generator=g), dim=1)
    logits = (q @ keys.t() / 0.07).half().requires_grad_()
    mask = torch.zeros(4, 33, dtype=torch.bool)
    mask[:, 0] = True
    mask[1, 5] = True
    loss = multi_positive_nce(logits, mask)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert loss.item() == pytest.approx(_slow_multi_nce(logits.detach().double(), mask), rel=1e-5)


def test_ubernce_with_duplicate_labels_matches_the_slow_formula():
    # UberNCE's mask: the own key, and every queue entry with the query's label (labels repeat in the batch too)
    rng = random.Random(0)
    B, K = 6, 10
    batch_labels = torch.tensor([0, 1, 1, 2, 0, 4])  # label 4 is not in the queue
    queue_labels = torch.tensor([rng.randrange(4) for _ in range(K)])
    mask = torch.cat([torch.ones(B, 1, dtype=torch.bool), batch_labels[:, None] == queue_labels[None, :]], 1)
    assert (mask.sum(1) > 2).any() and (mask.sum(1) == 1).any()  # several positives, and a row with only its own
    logits, _ = _random_case(3, B, K)
    assert ubernce_loss(logits, mask).item() == pytest.approx(_slow_ubernce(logits, mask), rel=1e-12)


@pytest.mark.parametrize("seed,k", [(0, 5), (1, 1), (2, 7)])
def test_topk_positives_match_a_brute_force_sort(seed, k):
    g = torch.Generator().manual_seed(seed)
    B, K, D = 4, 15, 8
    kf = F.normalize(torch.randn(B, D, generator=g), dim=1)
    queue = F.normalize(torch.randn(K, D, generator=g), dim=1)
    exclude = torch.rand(B, K, generator=g) < 0.3
    picked = topk_positives(kf, queue, exclude, k)
    for b in range(B):
        sims = [(sum(x * y for x, y in zip(kf[b].tolist(), queue[j].tolist())), j)
                for j in range(K) if not exclude[b, j]]
        expected = {j for _, j in sorted(sims, reverse=True)[:k]}
        assert {j for j in range(K) if picked[b, j]} == expected


def test_topk_positives_never_pick_an_excluded_entry_even_when_too_few_are_left():
    kf = torch.eye(3)
    queue = torch.eye(3)
    exclude = torch.tensor([[False, True, True], [True, True, True], [False, False, True]])
    picked = topk_positives(kf, queue, exclude, k=5)
    assert picked.tolist() == [[True, False, False], [False, False, False], [True, True, False]]
    assert not topk_positives(kf, queue, exclude, k=0).any()


def test_dropping_the_self_positive_keeps_it_in_the_denominator_only():
    logits, mask = _random_case(5)
    mask[2, 1:] = False  # a row with only its own key keeps it
    dropped = drop_self_positive(mask)
    assert dropped[2, 0] and not dropped[mask[:, 1:].any(1), 0].any()
    assert torch.equal(dropped[:, 1:], mask[:, 1:]) and mask[:, 0].all()  # the input is untouched
    # numerator without column 0, denominator with it, by hand
    total = 0.0
    for row, m in zip(logits.tolist(), mask.tolist()):
        denom = sum(math.exp(v) for v in row)
        others = [math.exp(v) for v, is_pos in zip(row[1:], m[1:]) if is_pos]
        total += -math.log((sum(others) if others else math.exp(row[0])) / denom)
    assert multi_positive_nce(logits, dropped).item() == pytest.approx(total / len(logits), rel=1e-12)


def test_bad_shapes_and_empty_rows_are_named():
    logits, mask = _random_case(0)
    with pytest.raises(InputError, match="must both be B x"):
        multi_positive_nce(logits, mask[:, 1:])
    mask[1] = False
    with pytest.raises(InputError, match="at least one positive"):
        ubernce_loss(logits, mask)
