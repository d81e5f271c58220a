"""Evaluation tasks on one feature-extraction path, with pluggable evaluators.

* ``topk``: multi-view testing; softmax scores of the ``NUM_ENSEMBLE_VIEWS x
  NUM_SPATIAL_CROPS`` views of a video are combined (``DATA.ENSEMBLE_METHOD``
  sum or max, as PySlowFast) and top-1/top-5 accuracy reported.
* ``retrieval``: CoCLR/ViCC nearest-neighbour retrieval (train split =
  gallery, test split = queries), Recall@k.
* ``knn``: weighted kNN classification on backbone features.

Every result is written to ``OUTPUT_DIR/results_<task>_<evaluator>.json``
naming the protocol that produced it.
"""

import json
import os
from typing import Callable, Dict, Sequence

import torch
import torch.nn.functional as F

from ..data import build_dataset, build_loader
from ..utils import distributed as du
from ..utils.logging import get_logger
from .device import to_device
from .metrics import aggregate_views, topk_accuracy

logger = get_logger("evaluate")
EVALUATORS: Dict[str, Callable] = {}


def register_evaluator(name: str):
    def deco(fn):
        EVALUATORS[name] = fn
        return fn

    return deco


@torch.no_grad()
def extract(method, loader, device, fn: Callable) -> Dict[str, torch.Tensor]:
    """Run ``fn(method, batch) -> B x D`` over ``loader``; gather over ranks; one row per view.

    Returns ``{"out": N x D, "label", "video_idx", "clip_idx", "crop_idx"}`` on
    CPU with duplicate views (distributed padding) removed, sorted by view.
    """
    was_training = method.training
    method.eval()
    outs, labels, vids, clips, crops = [], [], [], [], []
    for batch in loader:
        batch = to_device(batch, device)
        outs.append(fn(method, batch).float().cpu())
        labels.append(batch["label"].cpu())
        vids.append(batch["meta"]["video_idx"].cpu())
        clips.append(batch["meta"]["clip_idx"].cpu())
        crops.append(batch["meta"]["crop_idx"].cpu())
    method.train(was_training)
    local = [torch.cat(t) if t else torch.empty(0) for t in (outs, labels, vids, clips, crops)]
    gathered = du.all_gather_object(local)
    out, label, vid, clip, crop = (torch.cat([g[i] for g in gathered]) for i in range(5))
    key = (vid * 100000 + clip * 10 + crop)
    order = torch.argsort(key)
    key = key[order]
    keep = torch.ones_like(key, dtype=torch.bool)
    keep[1:] = key[1:] != key[:-1]
    idx = order[keep]
    return {"out": out[idx], "label": label[idx], "video_idx": vid[idx], "clip_idx": clip[idx],
            "crop_idx": crop[idx]}


def _eval_cfg(cfg, **overrides):
    c = cfg.clone()
    c.defrost()
    for key, value in overrides.items():
        node = c
        *parents, leaf = key.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    c.freeze()
    return c


def _loader(cfg, split: str, batch_size: int):
    dataset = build_dataset(cfg, split, mode="test")
    return dataset, build_loader(cfg, dataset, train=False, batch_size=batch_size)


def _test_batch_size(cfg) -> int:
    return max(cfg.TEST.BATCH_SIZE // max(cfg.NUM_GPUS, 1), 1)


def _per_video(rows: Dict[str, torch.Tensor], num_videos: int):
    """Mean of L2-normalised view features per video -> (V x D, labels V)."""
    feats = F.normalize(rows["out"], dim=1)
    summed = aggregate_views(feats, rows["video_idx"], num_videos, "sum")
    counts = torch.bincount(rows["video_idx"], minlength=num_videos).clamp(min=1)
    labels = torch.zeros(num_videos, dtype=torch.long)
    labels[rows["video_idx"]] = rows["label"]
    return summed / counts[:, None], labels


@register_evaluator("topk")
def evaluate_topk(cfg, method, device) -> Dict:
    dataset, loader = _loader(cfg, "test", _test_batch_size(cfg))
    rows = extract(method, loader, device, lambda m, b: F.softmax(m.predict(b), dim=1))
    num_videos = dataset.num_videos
    expected = cfg.TEST.NUM_ENSEMBLE_VIEWS * cfg.TEST.NUM_SPATIAL_CROPS
    counts = torch.bincount(rows["video_idx"], minlength=num_videos)
    if (counts != expected).any():
        raise RuntimeError(f"multi-view test expected {expected} views per video, got {counts.tolist()}")
    scores = aggregate_views(rows["out"], rows["video_idx"], num_videos, cfg.DATA.ENSEMBLE_METHOD)
    labels = torch.zeros(num_videos, dtype=torch.long)
    labels[rows["video_idx"]] = rows["label"]
    result = topk_accuracy(scores, labels)
    result.update(num_videos=num_videos, views_per_video=expected,
                  chance_acc=100.0 / max(int(labels.max()) + 1, cfg.MODEL.NUM_CLASSES))
    if cfg.TEST.SAVE_RESULTS_PATH and du.is_main_process():
        torch.save([scores, labels], os.path.join(cfg.OUTPUT_DIR, cfg.TEST.SAVE_RESULTS_PATH))
    return result


def _gallery_and_queries(cfg, method, device):
    c = _eval_cfg(cfg, **{"TEST.NUM_SPATIAL_CROPS": 1})
    bs = _test_batch_size(cfg)
    feats_fn = lambda m, b: m.features(b)  # noqa: E731
    g_ds, g_loader = _loader(c, "train", bs)
    q_ds, q_loader = _loader(c, "test", bs)
    g_feats, g_labels = _per_video(extract(method, g_loader, device, feats_fn), g_ds.num_videos)
    q_feats, q_labels = _per_video(extract(method, q_loader, device, feats_fn), q_ds.num_videos)
    return g_feats, g_labels, q_feats, q_labels


@register_evaluator("retrieval")
def evaluate_retrieval(cfg, method, device) -> Dict:
    from .retrieval import retrieval_recall

    g_feats, g_labels, q_feats, q_labels = _gallery_and_queries(cfg, method, device)
    result = retrieval_recall(g_feats, g_labels, q_feats, q_labels, tuple(cfg.RETRIEVAL.TOPK))
    result.update(num_gallery=len(g_labels), num_queries=len(q_labels),
                  windows_per_video=cfg.TEST.NUM_ENSEMBLE_VIEWS)
    return result


@register_evaluator("knn")
def evaluate_knn(cfg, method, device) -> Dict:
    from .knn import knn_predict

    g_feats, g_labels, q_feats, q_labels = _gallery_and_queries(cfg, method, device)
    num_classes = int(max(g_labels.max(), q_labels.max())) + 1
    scores = knn_predict(F.normalize(g_feats, dim=1), g_labels, F.normalize(q_feats, dim=1),
                         num_classes, k=min(200, len(g_labels)), T=cfg.CONTRASTIVE.T)
    result = topk_accuracy(scores, q_labels)
    result.update(k=min(200, len(g_labels)), T=cfg.CONTRASTIVE.T)
    return result


def run_test(cfg, method, device) -> Dict:
    """Run ``TEST.EVALUATOR`` (``knn`` for a pretraining task asked for ``topk``) and save JSON."""
    name = cfg.TEST.EVALUATOR
    if name == "topk" and cfg.TASK == "pretrain":
        name = "knn"
    protocol = {
        "topk": f"multi-view test {cfg.TEST.NUM_ENSEMBLE_VIEWS}x{cfg.TEST.NUM_SPATIAL_CROPS} "
                f"({cfg.DATA.ENSEMBLE_METHOD} of softmax)",
        "retrieval": "CoCLR/ViCC retrieval: train=gallery, test=queries, per-video mean of "
                     "L2-normalised window features, mean-centred, cosine, R@k",
        "knn": "weighted kNN (k=200, exp(sim/T)) on backbone features",
    }[name]
    result = EVALUATORS[name](cfg, method, device)
    result = {"task": cfg.TASK, "evaluator": name, "protocol": protocol,
              "linear_protocol": cfg.LINEAR.PROTOCOL if cfg.TASK == "linear" else None,
              "method": cfg.SSL.METHOD, "arch": cfg.MODEL.ARCH, **result}
    if du.is_main_process():
        os.makedirs(cfg.OUTPUT_DIR, exist_ok=True)
        path = os.path.join(cfg.OUTPUT_DIR, f"results_{cfg.TASK}_{name}.json")
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
        logger.info("test results (%s): %s", path, json.dumps(result))
    return result
