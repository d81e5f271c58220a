"""Weighted kNN (PySlowFast's monitor) against a slow implementation."""

import math

import pytest
import torch
import torch.nn.functional as F

from videossl.engine.knn import knn_predict


def _slow_knn(train, labels, test, C, k, T):
    train = F.normalize(train, dim=1).tolist()
    test = F.normalize(test, dim=1).tolist()
    out = []
    for t in test:
        sims = sorted(((sum(a * b for a, b in zip(t, r)), i) for i, r in enumerate(train)), reverse=True)[:k]
        row = [0.0] * C
        for s, i in sims:
            row[int(labels[i])] += math.exp(s / T)
        out.append(row)
    return torch.tensor(out, dtype=torch.float64)


def test_knn_matches_slow_vote():
    gen = torch.Generator().manual_seed(1)
    train, test = torch.randn(25, 5, generator=gen), torch.randn(7, 5, generator=gen)
    labels = torch.randint(0, 3, (25,), generator=gen)
    scores = knn_predict(train, labels, test, num_classes=4, k=6, T=0.07, chunk_size=3)
    assert scores.shape == (7, 4)
    assert torch.all(scores[:, 3] == 0)  # class without training samples gets no vote
    torch.testing.assert_close(scores.double(), _slow_knn(train, labels, test, 4, 6, 0.07), rtol=1e-5, atol=1e-6)


def test_knn_k_clamped_and_weighting_matters():
    # one very close neighbour of class 1 outweighs two far ones of class 0 at low T
    train = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.1, 1.0]])
    labels = torch.tensor([1, 0, 0])
    test = torch.tensor([[1.0, 0.2]])
    assert knn_predict(train, labels, test, 2, k=200, T=0.07).argmax(1).item() == 1
    assert knn_predict(train, labels, test, 2, k=200, T=100.0).argmax(1).item() == 0  # ~ majority vote
    with pytest.raises(ValueError):
        knn_predict(train, labels[:2], test, 2)
