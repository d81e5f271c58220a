"""AVA frame-mAP: score every proposal box of the test keyframes, then the official metric against the ground truth.

Per test keyframe the method scores its proposal boxes (``predict`` -> N x K
sigmoids). Every (box, evaluated class) pair is a detection row
``video, sec, x1, y1, x2, y2, action, score`` with the box as read
(normalised). The rows of all ranks are gathered, and
:func:`videossl.engine.ava_map.frame_map` scores them against the ground
truth (``AVA.GROUNDTRUTH_FILE``), skipping ``AVA.EXCLUSION_FILE``'s
timestamps, over the label map's classes. ``detections.csv`` and
``groundtruth.csv`` are written to ``OUTPUT_DIR`` in the official format (so
ActivityNet's tool can be run on them), and a per-class AP table is logged.
"""

import os
from typing import Dict

import torch

from ...utils import distributed as du
from ...utils.logging import get_logger
from .. import ava_map
from ..device import to_device
from .base import Evaluator, eval_loader, register_evaluator

logger = get_logger("ava")


class AvaMapEvaluator(Evaluator):
    """Frame-mAP@0.5 of the method's box scores (see the module docstring)."""

    protocol = "AVA frame mAP@0.5 IoU (PASCAL VOC AP over the label map's classes, excluded timestamps skipped)"

    def __init__(self, dataset, make_loader, groundtruth: str, excluded: str, label_map: str, out_dir: str):
        self.dataset, self.make_loader = dataset, make_loader
        self.groundtruth, self.excluded, self.label_map, self.out_dir = groundtruth, excluded, label_map, out_dir

    @torch.no_grad()
    def __call__(self, method, device) -> Dict:
        names, class_ids = ava_map.read_label_map(self.label_map)
        classes = sorted(class_ids)
        was_training = method.training
        method.eval()
        rows = []
        for batch in self.make_loader(self.dataset):
            scores = method.predict(to_device(batch, device)).float().cpu()
            owner = batch["boxes"][:, 0].long()
            for i in range(len(scores)):
                b = int(owner[i])
                box = [float(v) for v in batch["ori_boxes"][i]]
                video, sec = batch["video_id"][b], int(batch["timestamp"][b])
                rows += [(video, sec, *box, c, float(scores[i, c - 1])) for c in classes if c <= scores.shape[1]]
        method.train(was_training)
        rows = sorted({r[:7]: r for g in du.all_gather_object(rows) for r in g}.values())  # drop padding repeats
        truth = ava_map.read_csv_rows(self.groundtruth, "groundtruth")
        excluded = ava_map.read_excluded(self.excluded) if os.path.isfile(self.excluded) else set()
        result = ava_map.frame_map(truth, rows, class_ids, excluded)
        if du.is_main_process():
            os.makedirs(self.out_dir, exist_ok=True)
            ava_map.write_csv(os.path.join(self.out_dir, "detections.csv"), rows, "detections")
            ava_map.write_csv(os.path.join(self.out_dir, "groundtruth.csv"), truth, "groundtruth")
            logger.info("AVA per-class AP\n%s", ava_map.format_table(result, names))
        return {"mAP": 100.0 * result["mAP"], "per_class_ap": {int(c): 100.0 * ap for c, ap in result["per_class"].items()},
                "num_keyframes": len(self.dataset), "num_detections": len(rows)}


@register_evaluator("ava_map")
def build(cfg) -> AvaMapEvaluator:
    from ...data import build_dataset
    from ...data.ava_dataset import ava_layout

    layout = ava_layout(cfg)
    return AvaMapEvaluator(build_dataset(cfg, "test", mode="test"), lambda ds: eval_loader(cfg, ds),
                           layout.groundtruth, layout.excluded, layout.label_map, cfg.OUTPUT_DIR)
