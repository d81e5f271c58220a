"""Nearest-neighbour video retrieval (CoCLR / ViCC protocol): train split = gallery, test split = queries."""

import os
from typing import Dict, Optional, Sequence, Tuple

import torch

from ...utils import distributed as du
from ..retrieval import retrieval_recall, video_features
from .base import Evaluator, extract, register_evaluator, video_labels


def per_video_features(method, dataset, make_loader, device) -> Tuple[torch.Tensor, torch.Tensor]:
    """(V x D per-video mean of L2-normalised window features, LongTensor[V] labels) of ``dataset``."""
    rows = extract(method, make_loader(dataset), device, lambda m, b: m.features(b))
    return video_features(rows["out"], rows["video_idx"], dataset.num_videos), video_labels(rows, dataset.num_videos)


class GalleryQueryEvaluator(Evaluator):
    """Base of retrieval and kNN: per-video features of a gallery (train split) and queries (test split).

    Args:
        gallery, queries: test-mode datasets with one crop per window.
        make_loader: ``dataset -> loader``.
    """

    def __init__(self, gallery, queries, make_loader):
        self.gallery, self.queries, self.make_loader = gallery, queries, make_loader

    def features(self, method, device):
        """``(gallery feats, gallery labels, query feats, query labels)``."""
        g_feats, g_labels = per_video_features(method, self.gallery, self.make_loader, device)
        q_feats, q_labels = per_video_features(method, self.queries, self.make_loader, device)
        return g_feats, g_labels, q_feats, q_labels


class RetrievalEvaluator(GalleryQueryEvaluator):
    """Recall@k (:func:`videossl.engine.retrieval.retrieval_recall`) of the queries in the gallery."""

    protocol = ("CoCLR/ViCC retrieval: train=gallery, test=queries, per-video mean of "
                "L2-normalised window features, mean-centred, cosine, R@k")

    def __init__(self, gallery, queries, make_loader, topk: Sequence[int], windows_per_video: int,
                 save_path: Optional[str] = None):
        super().__init__(gallery, queries, make_loader)
        self.topk, self.windows_per_video, self.save_path = tuple(topk), windows_per_video, save_path

    def __call__(self, method, device) -> Dict:
        g_feats, g_labels, q_feats, q_labels = self.features(method, device)
        result = retrieval_recall(g_feats, g_labels, q_feats, q_labels, self.topk)
        result.update(num_gallery=len(g_labels), num_queries=len(q_labels),
                      windows_per_video=self.windows_per_video)
        if self.save_path and du.is_main_process():  # for tools/fuse_streams.py (R+F)
            torch.save({"gallery": g_feats.cpu(), "gallery_labels": g_labels.cpu(), "queries": q_feats.cpu(),
                        "query_labels": q_labels.cpu(), "topk": list(self.topk)}, self.save_path)
        return result


def gallery_and_queries(cfg):
    """The train (gallery) and test (query) splits in test mode, one crop per window."""
    from ...data import build_dataset

    return (build_dataset(cfg, "train", mode="test", test_crops=1),
            build_dataset(cfg, "test", mode="test", test_crops=1))


@register_evaluator("retrieval")
def build(cfg) -> RetrievalEvaluator:
    from .base import eval_loader

    gallery, queries = gallery_and_queries(cfg)
    save = os.path.join(cfg.OUTPUT_DIR, cfg.TEST.SAVE_RESULTS_PATH) if cfg.TEST.SAVE_RESULTS_PATH else None
    return RetrievalEvaluator(gallery, queries, lambda ds: eval_loader(cfg, ds), cfg.RETRIEVAL.TOPK,
                              cfg.TEST.NUM_ENSEMBLE_VIEWS, save)
