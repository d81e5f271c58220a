"""Weighted kNN classification on backbone features (PySlowFast's kNN monitor of SSL pretraining)."""

from typing import Dict

import torch.nn.functional as F

from ..knn import knn_predict
from ..metrics import topk_accuracy
from .base import register_evaluator
from .retrieval import GalleryQueryEvaluator, gallery_and_queries


class KNNEvaluator(GalleryQueryEvaluator):
    """Top-1/5 of :func:`videossl.engine.knn.knn_predict` (k = min(200, gallery), vote weight exp(sim/T))."""

    protocol = "weighted kNN (k=200, exp(sim/T)) on backbone features"

    def __init__(self, gallery, queries, make_loader, T: float, k: int = 200):
        super().__init__(gallery, queries, make_loader)
        self.T, self.k = T, k

    def __call__(self, method, device) -> Dict:
        g_feats, g_labels, q_feats, q_labels = self.features(method, device)
        num_classes = int(max(g_labels.max(), q_labels.max())) + 1
        k = min(self.k, len(g_labels))
        scores = knn_predict(F.normalize(g_feats, dim=1), g_labels, F.normalize(q_feats, dim=1),
                             num_classes, k=k, T=self.T)
        result = topk_accuracy(scores, q_labels)
        result.update(k=k, T=self.T)
        return result


@register_evaluator("knn")
def build(cfg) -> KNNEvaluator:
    from .base import eval_loader

    gallery, queries = gallery_and_queries(cfg)
    return KNNEvaluator(gallery, queries, lambda ds: eval_loader(cfg, ds), cfg.CONTRASTIVE.T)
