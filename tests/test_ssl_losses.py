"""SSL losses, Sinkhorn, momentum and queue against slow, independent implementations of the formulas."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.slow_reference import dot, slow_nt_xent, slow_sinkhorn
from videossl.methods.losses import byol_loss, moco_logits, moco_loss, nt_xent, swav_loss
from videossl.methods.momentum import copy_params_, cosine_momentum, ema_update_
from videossl.methods.queue import enqueue_, init_queue
from videossl.methods.sinkhorn import sinkhorn


def _unit(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=g, dtype=torch.float64), dim=-1)


# --------------------------------------------------------------------------- MoCo
def test_moco_loss_matches_per_row_infonce():
    B, D, K, T = 3, 5, 7, 0.1
    q, k1, k2 = _unit(B, D, seed=1), _unit(B, D, seed=2), _unit(B, D, seed=3)
    queue = torch.rand(K, D, dtype=torch.float64, generator=torch.Generator().manual_seed(4)) - 0.5
    total, rows = 0.0, 0
    for key in (k1, k2):
        for b in range(B):
            pos = math.exp(dot(q[b], key[b]) / T)
            negs = sum(math.exp(dot(q[b], queue[j]) / T) for j in range(K))
            total += -math.log(pos / (pos + negs))
            rows += 1
    assert moco_loss(q, [k1, k2], queue, T).item() == pytest.approx(total / rows, rel=1e-10)
    logits = moco_logits(q, [k1, k2], queue, T)
    assert logits.shape == (2 * B, 1 + K)
    assert logits[B + 1, 0].item() == pytest.approx(dot(q[1], k2[1]) / T)  # row block 1 = key 1


def test_moco_loss_needs_a_positive():
    with pytest.raises(ValueError, match="positive"):
        moco_loss(_unit(2, 3), [], torch.zeros(4, 3, dtype=torch.float64), 0.1)


# --------------------------------------------------------------------------- BYOL
def test_byol_loss_is_scaled_normalised_mse():
    p, z, T = _unit(4, 6, seed=5), _unit(4, 6, seed=6), 0.5
    # BYOL's ||p - z||^2 = 2 - 2 cos; PySlowFast's loss is -cos / T averaged over the batch.
    expected = sum((sum((float(a) - float(b)) ** 2 for a, b in zip(p[i], z[i])) / 2 - 1) / T
                   for i in range(4)) / 4
    assert byol_loss(p, z, T).item() == pytest.approx(expected, rel=1e-10)


# --------------------------------------------------------------------------- SimCLR
def test_nt_xent_matches_slow_formula():
    z1, z2 = _unit(5, 4, seed=7), _unit(5, 4, seed=8)
    assert nt_xent(z1, z2, 0.1).item() == pytest.approx(slow_nt_xent(z1, z2, 0.1), rel=1e-10)
    # symmetric in the two clips
    assert nt_xent(z2, z1, 0.1).item() == pytest.approx(nt_xent(z1, z2, 0.1).item(), rel=1e-12)


def test_nt_xent_gradient_matches_autograd_of_slow_version():
    z1 = _unit(3, 4, seed=9).requires_grad_(True)
    z2 = _unit(3, 4, seed=10).requires_grad_(True)
    nt_xent(z1, z2, 0.2).backward()
    g_fast = z1.grad.clone()
    a = z1.detach().clone().requires_grad_(True)
    out = torch.cat([a, z2.detach()])
    n = 3
    loss = 0
    for i in range(2 * n):
        pos = (i + n) % (2 * n)
        den = sum(torch.exp(out[i] @ out[j] / 0.2) for j in range(2 * n) if j != i)
        loss = loss - torch.log(torch.exp(out[i] @ out[pos] / 0.2) / den)
    (loss / (2 * n)).backward()
    torch.testing.assert_close(g_fast, a.grad, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- SwAV
def test_swav_loss_matches_swapped_prediction():
    B, P, T = 4, 6, 0.1
    scores = [torch.randn(B, P, dtype=torch.float64, generator=torch.Generator().manual_seed(s)) * 0.5
              for s in range(3)]
    codes = [torch.softmax(torch.randn(B, P, dtype=torch.float64,
                                       generator=torch.Generator().manual_seed(10 + s)), 1) for s in range(2)]
    expected = 0.0
    for c in (0, 1):
        sub = 0.0
        for v in range(3):
            if v == c:
                continue
            for b in range(B):
                z = sum(math.exp(float(scores[v][b, j]) / T) for j in range(P))
                sub += -sum(float(codes[c][b, k]) * math.log(math.exp(float(scores[v][b, k]) / T) / z)
                            for k in range(P)) / B
        expected += sub / 2  # v != c: 2 other clips
    expected /= 2
    assert swav_loss(scores, codes, (0, 1), T).item() == pytest.approx(expected, rel=1e-10)


def test_sinkhorn_matches_slow_algorithm():
    scores = torch.tanh(torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(3)))
    codes = sinkhorn(scores, eps=0.05, iters=3)
    torch.testing.assert_close(codes, slow_sinkhorn(scores, 0.05, 3), rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(codes.sum(1), torch.ones(6, dtype=torch.float64))


def test_sinkhorn_equipartitions_with_many_iterations():
    scores = torch.tanh(torch.randn(40, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(4)))
    codes = sinkhorn(scores, eps=0.5, iters=200)
    # every prototype receives B / P of the mass
    torch.testing.assert_close(codes.sum(0), torch.full((4,), 10.0, dtype=torch.float64), rtol=1e-6, atol=1e-6)


def test_sinkhorn_upcasts_half_precision():
    scores = torch.ones(3, 4, dtype=torch.bfloat16)  # exp(1 / 0.05) overflows nothing in float32
    codes = sinkhorn(scores)
    assert codes.dtype == torch.float32 and torch.isfinite(codes).all()


# --------------------------------------------------------------------------- momentum
def test_cosine_momentum_schedule():
    assert cosine_momentum(0.994, 0.0, 200) == pytest.approx(0.994)
    assert cosine_momentum(0.994, 100.0, 200) == pytest.approx(0.997)
    assert cosine_momentum(0.994, 200.0, 200) == pytest.approx(1.0)
    assert cosine_momentum(0.9, 50.0, 200) == pytest.approx(1 - 0.1 * (math.cos(math.pi / 4) + 1) / 2)


def test_ema_updates_parameters_only():
    torch.manual_seed(0)
    online, target = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    online[1].running_mean.fill_(5.0)
    before = {n: p.clone() for n, p in target.named_parameters()}
    ema_update_(target, online, 0.9)
    for n, p in target.named_parameters():
        torch.testing.assert_close(p, 0.9 * before[n] + 0.1 * dict(online.named_parameters())[n])
    assert torch.all(target[1].running_mean == 0)  # buffers untouched
    copy_params_(target, online)
    for (n, p), (_, o) in zip(target.named_parameters(), online.named_parameters()):
        assert torch.equal(p, o)


# --------------------------------------------------------------------------- queue
def test_queue_init_range():
    q = init_queue(1000, 12, torch.Generator().manual_seed(0))
    bound = 1 / math.sqrt(12 / 3)
    assert q.shape == (1000, 12) and q.abs().max() <= bound and q.abs().max() > 0.9 * bound


def test_enqueue_fifo_and_wraparound():
    queue = torch.zeros(6, 2)
    ptr = torch.tensor([0])
    for step in range(4):  # 4 x 2 keys into 6 slots: the 4th batch overwrites the oldest
        keys = torch.full((2, 2), float(step + 1))
        enqueue_(queue, ptr, keys)
    assert queue[:, 0].tolist() == [4, 4, 2, 2, 3, 3]
    assert int(ptr) == 2
    enqueue_(queue, ptr, torch.full((5, 2), 9.0))  # not a divisor: wraps around the end
    assert queue[:, 0].tolist() == [9, 4, 9, 9, 9, 9]  # slots 2..5 then 0; slot 1 is now oldest
    assert int(ptr) == 1
    with pytest.raises(ValueError, match="QUEUE_LEN"):
        enqueue_(queue, ptr, torch.zeros(7, 2))
