"""Weighted k-nearest-neighbour classification of feature vectors (pure function, no config).

PySlowFast's kNN monitor (``tools/train_net.eval_epoch``; Wu et al. 2018):
each test sample takes its ``k`` most similar training samples (cosine
similarity) and class ``c`` scores ``Σ_{j in top-k, y_j = c} exp(s_j / T)``.
It runs on already gathered features: in a distributed run the caller
gathers the training and test features (e.g. ``utils.distributed.all_gather_object``)
and every process, or only rank 0, calls :func:`knn_predict`.
"""

import torch
import torch.nn.functional as F

from ..errors import InputError


@torch.no_grad()
def knn_predict(train_feats: torch.Tensor, train_labels: torch.Tensor, test_feats: torch.Tensor,
                num_classes: int, k: int = 200, T: float = 0.07, chunk_size: int = 1024) -> torch.Tensor:
    """Class scores of the test samples by weighted kNN voting.

    Args:
        train_feats: N x D features of the labelled (memory) samples.
        train_labels: N labels in ``[0, num_classes)``.
        test_feats: M x D features to classify.
        num_classes: C.
        k: neighbours (clamped to N); PySlowFast uses 200.
        T: temperature of the vote weight ``exp(sim / T)`` (``CONTRASTIVE.T``).
        chunk_size: test rows processed at once (memory bound M x N otherwise).

    Returns:
        M x C scores (not normalised); ``argmax`` is the prediction.  Features
        are L2-normalised here, so similarities are cosines whether or not the
        caller normalised them.
    """
    if train_feats.shape[0] != train_labels.shape[0]:
        raise InputError(f"{train_feats.shape[0]} training features but {train_labels.shape[0]} labels")
    if train_feats.shape[0] == 0:
        raise InputError("kNN needs at least one training feature")
    train = F.normalize(train_feats.float(), dim=1)
    test = F.normalize(test_feats.float(), dim=1)
    labels = train_labels.long().to(train.device)
    k = min(k, train.shape[0])
    out = torch.zeros(test.shape[0], num_classes, dtype=train.dtype, device=train.device)
    for start in range(0, test.shape[0], chunk_size):
        sim = test[start:start + chunk_size] @ train.t()
        top_sim, top_idx = sim.topk(k, dim=1, largest=True, sorted=True)
        weights = (top_sim / T).exp()
        out[start:start + chunk_size].scatter_add_(1, labels[top_idx], weights)
    return out
