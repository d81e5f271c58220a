"""Slow, loop-based reference implementations of the SSL loss formulas, shared by the tests."""

import math

import torch


def dot(a, b):
    return sum(float(x) * float(y) for x, y in zip(a, b))


def slow_nt_xent(z1, z2, T):
    """SimCLR NT-Xent: slow, loop-based reference formula over the 2N outputs."""
    out = list(z1) + list(z2)
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        pos = (i + n) % (2 * n)
        num = math.exp(dot(out[i], out[pos]) / T)
        den = sum(math.exp(dot(out[i], out[j]) / T) for j in range(2 * n) if j != i)
        total += -math.log(num / den)
    return total / (2 * n)


def slow_sinkhorn(scores, eps, iters):
    """SwAV paper / official code: Q = exp(C^T Z / eps), rows -> 1/K, columns -> 1/B, then x B."""
    B, K = scores.shape
    Q = [[math.exp(float(scores[b, k]) / eps) for b in range(B)] for k in range(K)]  # K x B
    tot = sum(map(sum, Q))
    Q = [[x / tot for x in row] for row in Q]
    for _ in range(iters):
        for k in range(K):
            s = sum(Q[k])
            Q[k] = [x / s / K for x in Q[k]]
        for b in range(B):
            s = sum(Q[k][b] for k in range(K))
            for k in range(K):
                Q[k][b] = Q[k][b] / s / B
    return torch.tensor([[Q[k][b] * B for k in range(K)] for b in range(B)], dtype=torch.float64)
