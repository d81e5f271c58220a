"""Multi-view testing: top-1 / top-5 accuracy of the combined softmax scores of each video's views."""

import os
from typing import Dict, Optional

import torch
import torch.nn.functional as F

from ...errors import DataError
from ...utils import distributed as du
from ..metrics import aggregate_views, topk_accuracy
from .base import Evaluator, extract, register_evaluator, video_labels


class TopKEvaluator(Evaluator):
    """Softmax scores of ``views x crops`` views per video, combined by ``ensemble`` (sum | max).

    Args:
        dataset: the test-mode dataset (one item per view).
        make_loader: ``dataset -> loader``.
        views_per_video: ``TEST.NUM_ENSEMBLE_VIEWS x TEST.NUM_SPATIAL_CROPS``; checked.
        ensemble: ``DATA.ENSEMBLE_METHOD``.
        num_classes: for the chance level reported beside the accuracy.
        save_path: where to ``torch.save([scores, labels])`` (``TEST.SAVE_RESULTS_PATH``), or None.
    """

    def __init__(self, dataset, make_loader, views_per_video: int, ensemble: str, num_classes: int,
                 save_path: Optional[str] = None, protocol: str = ""):
        self.dataset, self.make_loader = dataset, make_loader
        self.views_per_video, self.ensemble = views_per_video, ensemble
        self.num_classes, self.save_path, self.protocol = num_classes, save_path, protocol

    def __call__(self, method, device) -> Dict:
        rows = extract(method, self.make_loader(self.dataset), device,
                       lambda m, b: F.softmax(m.predict(b), dim=1))
        num_videos = self.dataset.num_videos
        counts = torch.bincount(rows["video_idx"], minlength=num_videos)
        if (counts != self.views_per_video).any():
            raise DataError(f"multi-view test expected {self.views_per_video} views per video, "
                               f"got {counts.tolist()}")
        scores = aggregate_views(rows["out"], rows["video_idx"], num_videos, self.ensemble)
        labels = video_labels(rows, num_videos)
        result = topk_accuracy(scores, labels)
        result.update(num_videos=num_videos, views_per_video=self.views_per_video,
                      chance_acc=100.0 / max(int(labels.max()) + 1, self.num_classes))
        if self.save_path and du.is_main_process():
            torch.save([scores, labels], self.save_path)
        return result


@register_evaluator("topk")
def build(cfg) -> TopKEvaluator:
    from ...data import build_dataset
    from .base import eval_loader

    views, crops = cfg.TEST.NUM_ENSEMBLE_VIEWS, cfg.TEST.NUM_SPATIAL_CROPS
    save = os.path.join(cfg.OUTPUT_DIR, cfg.TEST.SAVE_RESULTS_PATH) if cfg.TEST.SAVE_RESULTS_PATH else None
    return TopKEvaluator(
        build_dataset(cfg, "test", mode="test"), lambda ds: eval_loader(cfg, ds), views * crops,
        cfg.DATA.ENSEMBLE_METHOD, cfg.MODEL.NUM_CLASSES, save,
        protocol=f"multi-view test {views}x{crops} ({cfg.DATA.ENSEMBLE_METHOD} of softmax)")
