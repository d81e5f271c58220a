"""Nearest-neighbour video retrieval, the CoCLR / ViCC protocol (pure functions, no config).

Protocol (CoCLR ``eval/main_classifier.py --retrieval``, reused by ViCC):

1. per video, the mean of the L2-normalised features of its windows
   (:func:`video_features`);
2. the gallery (train split) and the queries (test split) are each
   mean-centred over their own set, then L2-normalised;
3. similarity is the cosine; a query is a hit at k when any of its k most
   similar gallery videos has the query's class.  Recall@k is the percentage
   of hit queries (:func:`retrieval_recall`; the neighbours themselves:
   :func:`nearest_neighbours`).

Distributed use: the caller gathers features first; these functions are local.
"""

from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from ..errors import InputError


def video_features(window_feats: torch.Tensor, video_idx: torch.Tensor,
                   num_videos: Optional[int] = None) -> torch.Tensor:
    """V x D per-video mean of the L2-normalised window features.

    Args:
        window_feats: N x D features, one row per window (clip/crop) of a video.
        video_idx: N video indices in ``[0, num_videos)``.
        num_videos: V (default ``max(video_idx) + 1``); every video needs a window.
    """
    if window_feats.shape[0] != video_idx.shape[0]:
        raise InputError(f"{window_feats.shape[0]} windows but {video_idx.shape[0]} video indices")
    num_videos = int(video_idx.max()) + 1 if num_videos is None else num_videos
    feats = F.normalize(window_feats.float(), dim=1)
    summed = torch.zeros(num_videos, feats.shape[1], dtype=feats.dtype, device=feats.device)
    summed.index_add_(0, video_idx.long(), feats)
    counts = torch.bincount(video_idx.long(), minlength=num_videos)
    if (counts == 0).any():
        missing = torch.nonzero(counts == 0).flatten()[:10].tolist()
        raise InputError(f"videos without any window feature (first ones: {missing})")
    return summed / counts[:, None].to(feats.dtype)


def _centre_normalise(x: torch.Tensor) -> torch.Tensor:
    x = x.double()
    return F.normalize(x - x.mean(dim=0, keepdim=True), dim=1)


@torch.no_grad()
def retrieval_recall(gallery_feats: torch.Tensor, gallery_labels: torch.Tensor,
                     query_feats: torch.Tensor, query_labels: torch.Tensor,
                     topk: Sequence[int] = (1, 5, 10, 20, 50),
                     chunk_size: int = 1024) -> Dict[str, float]:
    """Recall@k in percent: ``{"R@1": ..., "R@5": ..., ...}``.

    Args:
        gallery_feats: G x D per-video features of the gallery (train split).
        gallery_labels: G class labels.
        query_feats: Q x D per-video features of the queries (test split).
        query_labels: Q class labels.
        topk: the k values (each clamped to G).
        chunk_size: queries processed at once.

    Each feature set is mean-centred over itself and L2-normalised; the
    similarity is the dot product (cosine) in float64.
    """
    if gallery_feats.shape[0] != gallery_labels.shape[0] or query_feats.shape[0] != query_labels.shape[0]:
        raise InputError("features and labels must have the same number of rows")
    kmax = min(max(topk), gallery_feats.shape[0])
    _, idx = nearest_neighbours(gallery_feats, query_feats, kmax, chunk_size)
    match = gallery_labels.long().to(idx.device)[idx] == query_labels.long().to(idx.device)[:, None]
    hits = {k: int(match[:, :min(k, kmax)].any(dim=1).sum()) for k in topk}
    n = max(query_feats.shape[0], 1)
    return {f"R@{k}": 100.0 * hits[k] / n for k in topk}


@torch.no_grad()
def nearest_neighbours(gallery_feats: torch.Tensor, query_feats: torch.Tensor, k: int,
                       chunk_size: int = 1024) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` most similar gallery videos of each query, most similar first: ``(sims, idx)``, both Q x k.

    The similarity of :func:`retrieval_recall`: each set mean-centred over
    itself and L2-normalised, cosine in float64 (``sims`` is float64, ``idx``
    long).  ``k`` is clamped to the gallery size.
    """
    g = _centre_normalise(gallery_feats)
    q = _centre_normalise(query_feats)
    k = min(k, g.shape[0])
    sims, idx = [], []
    for start in range(0, q.shape[0], chunk_size):
        top = (q[start:start + chunk_size] @ g.t()).topk(k, dim=1, largest=True, sorted=True)
        sims.append(top.values)
        idx.append(top.indices)
    if not sims:
        return torch.empty(0, k, dtype=torch.float64), torch.empty(0, k, dtype=torch.long)
    return torch.cat(sims), torch.cat(idx)


@torch.no_grad()
def leave_one_out_statistics(feats: torch.Tensor, labels: torch.Tensor, groups: torch.Tensor) -> Dict[str, float]:
    """What a set's own nearest neighbours share with each video, in percent (one split, e.g. train).

    Features are mean-centred and L2-normalised as in :func:`retrieval_recall`;
    each video's neighbour is the most similar *other* video.  ``groups``
    numbers the source a video was cut from (clips of one source share the
    scene, camera and people).

    Returns:
        ``same_class``: the neighbour has the video's class (leave-one-out R@1);
        ``same_group``: the neighbour comes from the video's source;
        ``same_class_other_group``: the neighbour among videos of *other* sources
        has the video's class (what transfers to a split by source);
        ``chance_same_group``: the mean share of other videos in a video's source
        (what ``same_group`` is for features that ignore the source).
    Videos whose source has no other video count in ``same_group``'s
    denominator; videos with no video of another source are left out of
    ``same_class_other_group``.

    Example: features ``[[1, .2], [1, -.2], [-1, .2], [-1, -.2]]``, labels ``[0, 1, 0, 1]``,
    groups ``[0, 0, 1, 1]``: every neighbour is the other clip of the same source
    (``same_group`` 100, chance 33.3) of the other class (``same_class`` 0); among
    other sources each video's neighbour has its class (``same_class_other_group`` 100).
    """
    n = feats.shape[0]
    if labels.shape[0] != n or groups.shape[0] != n:
        raise InputError(f"{n} features but {labels.shape[0]} labels and {groups.shape[0]} groups")
    if n < 2:
        raise InputError("leave-one-out statistics need at least 2 videos")
    x = _centre_normalise(feats)
    sims = x @ x.t()
    sims.fill_diagonal_(-float("inf"))
    labels, groups = labels.long(), groups.long()
    nn = sims.argmax(dim=1)
    same_group_mask = groups[:, None] == groups[None, :]
    other = sims.masked_fill(same_group_mask, -float("inf"))
    has_other = (~same_group_mask).any(dim=1)
    nn_other = other.argmax(dim=1)
    chance = (same_group_mask.sum(dim=1) - 1).double() / (n - 1)
    return {
        "same_class": 100.0 * (labels[nn] == labels).double().mean().item(),
        "same_group": 100.0 * (groups[nn] == groups).double().mean().item(),
        "same_class_other_group": (100.0 * (labels[nn_other] == labels)[has_other].double().mean().item()
                                   if has_other.any() else float("nan")),
        "chance_same_group": 100.0 * chance.mean().item(),
        "num_videos": n,
    }
