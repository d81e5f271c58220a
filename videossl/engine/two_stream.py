"""CoCLR's two-stream results (R+F) from the saved outputs of an RGB and a flow evaluation.

Run the same evaluation twice, with ``DATA.INPUT_STREAM rgb`` and ``flow`` and
``TEST.SAVE_RESULTS_PATH`` set, then fuse (``tools/fuse_streams.py``):

* classification (the topk evaluator's ``[scores, labels]``): each video's
  class probabilities are averaged over the two streams (each stream's
  multi-view scores first scaled to sum to 1, so the number of views does not
  matter), then top-1 / top-5;
* retrieval (the retrieval evaluator's features): each stream's per-video
  features are mean-centred over their set and L2-normalised, the two are
  concatenated, and R@k is computed on the concatenation.
"""

from typing import Dict

import torch
import torch.nn.functional as F

from ..errors import InputError
from .metrics import topk_accuracy
from .retrieval import retrieval_recall


def _centre_normalise(x: torch.Tensor) -> torch.Tensor:
    x = x.double()
    return F.normalize(x - x.mean(dim=0, keepdim=True), dim=1)


def fuse_scores(rgb: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """V x K: the mean of the two streams' per-video probabilities (each row rescaled to sum to 1)."""
    if rgb.shape != flow.shape:
        raise InputError(f"the two streams scored different sets: {tuple(rgb.shape)} vs {tuple(flow.shape)}")
    return (rgb / rgb.sum(1, keepdim=True) + flow / flow.sum(1, keepdim=True)) / 2


def fuse_features(rgb: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """V x (D_rgb + D_flow): each stream centred over its set and L2-normalised, then concatenated."""
    if rgb.shape[0] != flow.shape[0]:
        raise InputError(f"the two streams have features of {rgb.shape[0]} and {flow.shape[0]} videos")
    return torch.cat([_centre_normalise(rgb), _centre_normalise(flow)], dim=1)


def _same_labels(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    if not torch.equal(a.long(), b.long()):
        raise InputError(f"the RGB and flow results list different {what}: were they run on the same split?")


def fuse_results(rgb, flow) -> Dict:
    """R+F results from two saved outputs (both topk ``[scores, labels]`` or both retrieval dicts)."""
    if isinstance(rgb, (list, tuple)) and isinstance(flow, (list, tuple)):
        _same_labels(rgb[1], flow[1], "labels")
        result = topk_accuracy(fuse_scores(rgb[0], flow[0]), rgb[1])
        return {"evaluator": "topk", "fusion": "mean of per-video softmax", **result, "num_videos": len(rgb[1])}
    if isinstance(rgb, dict) and isinstance(flow, dict):
        _same_labels(rgb["gallery_labels"], flow["gallery_labels"], "gallery labels")
        _same_labels(rgb["query_labels"], flow["query_labels"], "query labels")
        result = retrieval_recall(fuse_features(rgb["gallery"], flow["gallery"]), rgb["gallery_labels"],
                                  fuse_features(rgb["queries"], flow["queries"]), rgb["query_labels"],
                                  rgb.get("topk", (1, 5, 10, 20, 50)))
        return {"evaluator": "retrieval", "fusion": "concatenated centred L2-normalised features", **result}
    raise InputError("the two files must both be saved by the topk evaluator or both by the retrieval evaluator "
                     "(TEST.SAVE_RESULTS_PATH)")
