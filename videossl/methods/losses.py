"""Losses of the contrastive / self-distillation methods (leaf functions, no config).

Every function takes already L2-normalised embeddings (rows of unit norm)
and returns a scalar.  Half-precision inputs are upcast to float32 (so an
autocast region never evaluates ``exp``/``log`` in fp16); float64 stays float64.

Formulas (PySlowFast ``slowfast/models/contrastive.py``; ``T`` = temperature):

* MoCo (InfoNCE with a queue): for a query ``q`` and each positive key
  ``k_i`` a row ``[q·k_i, q·n_1, ..., q·n_K] / T``; loss = cross-entropy with
  target 0, averaged over all rows (all positives of all queries).
* BYOL: ``-mean_b(p_b · z_b) / T`` (PySlowFast's ``sim_loss``; equals
  BYOL's ``2 - 2 cos`` up to the constant and the factor ``1 / (2T)``).
* SimCLR (NT-Xent): over the ``2N`` embeddings ``[z1; z2]`` anchor ``i``
  with positive ``i'`` (the other clip of its video) has loss
  ``-log(exp(s_ii'/T) / Σ_{j≠i} exp(s_ij/T))``; averaged over the 2N anchors.
* SwAV (swapped prediction): for each assignment clip ``c`` with codes
  ``Q_c`` (Sinkhorn) and every other clip ``v``:
  ``-mean_b Σ_k Q_c[b,k] log softmax(S_v[b] / T)_k``, averaged over ``v ≠ c``
  and then over the assignment clips.
"""

from typing import Sequence

import torch
import torch.nn.functional as F

from ..errors import InputError


def upcast(x: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 -> float32; other dtypes unchanged."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def moco_logits(q: torch.Tensor, keys: Sequence[torch.Tensor], queue: torch.Tensor,
                T: float) -> torch.Tensor:
    """MoCo logits, ``(len(keys)·B) x (1 + K)``.

    Args:
        q: B x D normalised queries.
        keys: positive keys, each B x D normalised (row b is video b's other clip).
        queue: K x D negatives (not necessarily normalised, as PySlowFast's
            initial random queue); no gradient flows into it.
        T: temperature.

    Row block ``i`` is ``[q·keys[i], q·queueᵀ] / T``; the positive is column 0.
    """
    if len(keys) == 0:
        raise InputError("MoCo needs at least one positive key (two clips per video)")
    q = upcast(q)
    neg = q @ upcast(queue).detach().to(q.dtype).t()
    rows = [torch.cat([(q * upcast(k).to(q.dtype)).sum(1, keepdim=True), neg], dim=1) for k in keys]
    return torch.cat(rows, dim=0) / T


def moco_loss(q: torch.Tensor, keys: Sequence[torch.Tensor], queue: torch.Tensor,
              T: float) -> torch.Tensor:
    """Mean cross-entropy (target 0) of :func:`moco_logits`."""
    logits = moco_logits(q, keys, queue, T)
    target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits, target)


def byol_loss(p: torch.Tensor, z: torch.Tensor, T: float) -> torch.Tensor:
    """``-mean_b(p_b · z_b) / T`` for B x D normalised predictions ``p`` and targets ``z``."""
    p = upcast(p)
    return -(p * upcast(z).to(p.dtype).detach()).sum(1).mean() / T


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, T: float) -> torch.Tensor:
    """SimCLR's NT-Xent of N x D normalised pairs (row n of z1 and z2: one video).

    The denominator sums over all 2N - 1 other embeddings (positive included);
    computed with ``logsumexp`` (PySlowFast's ``exp`` / ``log`` is the same
    value without the overflow guard).
    """
    z1, z2 = upcast(z1), upcast(z2)
    out = torch.cat([z1, z2], dim=0)
    sim = out @ out.t() / T
    eye = torch.eye(out.shape[0], dtype=torch.bool, device=out.device)
    sim = sim.masked_fill(eye, float("-inf"))
    pos = (z1 * z2).sum(1) / T
    pos = torch.cat([pos, pos], dim=0)
    return (torch.logsumexp(sim, dim=1) - pos).mean()


def swav_loss(scores: Sequence[torch.Tensor], codes: Sequence[torch.Tensor],
              crops_for_assign: Sequence[int], T: float) -> torch.Tensor:
    """SwAV swapped-prediction loss.

    Args:
        scores: per clip, B x P prototype scores (``prototypes(z)``, z normalised).
        codes: per assignment clip, B x P targets (rows sum to 1), no gradient.
        crops_for_assign: index into ``scores`` of each entry of ``codes``.
        T: softmax temperature.
    """
    n = len(scores)
    if n < 2:
        raise InputError("SwAV needs at least two clips per video")
    total = 0.0
    for code, c in zip(codes, crops_for_assign):
        code = upcast(code).detach()
        sub = 0.0
        for v in range(n):
            if v == c:
                continue
            logp = F.log_softmax(upcast(scores[v]).to(code.dtype) / T, dim=1)
            sub = sub - (code * logp).sum(1).mean()
        total = total + sub / (n - 1)
    return total / len(crops_for_assign)
