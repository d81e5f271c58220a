"""Losses with several positives per query, and CoCLR's positive mining (leaf functions, no config).

Notation: a query ``q`` (B x D) scores its own key and a queue of K keys, giving
``logits`` = ``[q·k | q·queueᵀ] / T`` (B x (1 + K)); column 0 is the query's
own key. ``mask`` (B x (1 + K), bool) marks the positives; column 0 is
always one of them.

* :func:`multi_positive_nce` (CoCLR's ``multi_nce_loss``, MIL-NCE style):
  ``mean_b -log Σ_j softmax(logits_b)_j · mask_bj``. The probability mass on
  *all* positives is pushed up together.
* :func:`ubernce_loss` (CoCLR's supervised upper bound):
  ``mean_b ( -Σ_j mask_bj · log softmax(logits_b)_j / Σ_j mask_bj )``, the
  mean log-probability of the positives.
* :func:`topk_positives`: the CoCLR mask. Rows of the *other* modality's
  key ``kf`` (B x D) against its queue (K x D): the ``k`` most similar
  queue entries, never one that is already a positive by source
  (``exclude``), become positives.
* :func:`drop_self_positive`: CoCLR's optimisation trick (its commit 45f200e).
  With probability ``p`` per iteration, every row that has another positive
  loses column 0 from the numerator of :func:`multi_positive_nce`. Column 0
  stays in the denominator.

Example::

    >>> logits = torch.tensor([[2.0, 1.0, 0.0]])
    >>> mask = torch.tensor([[True, True, False]])
    >>> multi_positive_nce(logits, mask)  # -log((e^2 + e^1) / (e^2 + e^1 + e^0))
    tensor(0.0943)
"""

import torch
import torch.nn.functional as F

from ..errors import InputError
from .losses import upcast


def _check(logits: torch.Tensor, mask: torch.Tensor) -> None:
    if logits.shape != mask.shape or logits.dim() != 2:
        raise InputError(f"logits {tuple(logits.shape)} and mask {tuple(mask.shape)} must both be B x (1 + K)")
    if not bool(mask.any(1).all()):
        raise InputError("every row of the positive mask needs at least one positive")


def multi_positive_nce(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``mean_b -log Σ_j softmax(logits_b)_j · mask_bj``; logits B x N, mask B x N bool -> scalar.

    Computed as ``logsumexp`` over the positives minus ``logsumexp`` over
    all, which is the same value without underflow at small temperatures.
    """
    _check(logits, mask)
    logits = upcast(logits)
    positives = logits.masked_fill(~mask, float("-inf"))
    return (torch.logsumexp(logits, 1) - torch.logsumexp(positives, 1)).mean()


def ubernce_loss(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``mean_b -Σ_j mask_bj log softmax(logits_b)_j / Σ_j mask_bj``; logits B x N, mask B x N bool -> scalar."""
    _check(logits, mask)
    log_prob = F.log_softmax(upcast(logits), dim=1)
    m = mask.to(log_prob.dtype)
    return (-(log_prob * m).sum(1) / m.sum(1)).mean()


@torch.no_grad()
def topk_positives(kf: torch.Tensor, queue_other: torch.Tensor, exclude: torch.Tensor, k: int) -> torch.Tensor:
    """B x K bool: for each row, the ``k`` queue entries most similar to ``kf`` (dot product), skipping ``exclude``.

    Args:
        kf: B x D keys of the other modality (the sampler's embedding of the key clip).
        queue_other: K x D the other modality's queue.
        exclude: B x K bool, entries that may not be picked (positives by source already).
        k: how many to pick per row (CoCLR: 5); 0 picks none.

    Ties are broken as ``torch.topk`` breaks them. A row with fewer than ``k``
    eligible entries gets only those.
    """
    if kf.shape[1] != queue_other.shape[1] or exclude.shape != (kf.shape[0], queue_other.shape[0]):
        raise InputError(f"kf {tuple(kf.shape)}, queue {tuple(queue_other.shape)} and exclude "
                         f"{tuple(exclude.shape)} must be B x D, K x D and B x K")
    picked = torch.zeros_like(exclude)
    if k <= 0:
        return picked
    sim = upcast(kf) @ upcast(queue_other).t()
    sim = sim.masked_fill(exclude, float("-inf"))
    idx = sim.topk(min(k, sim.shape[1]), dim=1).indices
    picked.scatter_(1, idx, True)
    return picked & ~exclude


def drop_self_positive(mask: torch.Tensor) -> torch.Tensor:
    """A copy of ``mask`` (B x (1 + K)) with column 0 cleared in every row that has another positive."""
    out = mask.clone()
    out[mask[:, 1:].any(1), 0] = False
    return out
