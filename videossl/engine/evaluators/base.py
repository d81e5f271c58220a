"""What every evaluator shares: the registry, the feature-extraction pass and the loaders.

An evaluator is built from the config once (``build(cfg) -> Evaluator``,
registered by name with :func:`register_evaluator`) and then called as
``evaluator(method, device) -> dict``.  It owns its datasets, loaders and
feature extraction; the trainer and the test entry point know none of them
by name.
"""

from typing import Callable, Dict

import torch

from ...errors import InputError
from ...utils import distributed as du
from ..device import to_device

EVALUATORS: Dict[str, Callable] = {}


def register_evaluator(name: str):
    """Decorator registering ``build(cfg) -> Evaluator`` under ``name`` (``TEST.EVALUATOR``)."""

    def deco(fn):
        EVALUATORS[name] = fn
        return fn

    return deco


def build_evaluator(cfg, name: str):
    """The evaluator ``name`` built from ``cfg``; ValueError naming the known ones otherwise."""
    if name not in EVALUATORS:
        raise InputError(f"TEST.EVALUATOR={name!r} is not an evaluator; known: {sorted(EVALUATORS)}")
    return EVALUATORS[name](cfg)


class Evaluator:
    """Base: ``protocol`` names what the result means; :meth:`__call__` computes it."""

    protocol = ""

    def __call__(self, method, device: torch.device) -> Dict:  # pragma: no cover - abstract
        raise NotImplementedError


def view_order(video_idx: torch.Tensor, clip_idx: torch.Tensor, crop_idx: torch.Tensor) -> torch.Tensor:
    """Row indices that sort views by (video, clip, crop) and keep one row per view.

    The three indices are packed into one integer key with exact radices
    (clip and crop counts taken from the data), so any number of clips or
    crops sorts correctly.
    """
    n_crop = int(crop_idx.max()) + 1 if crop_idx.numel() else 1
    n_clip = int(clip_idx.max()) + 1 if clip_idx.numel() else 1
    key = (video_idx.long() * n_clip + clip_idx.long()) * n_crop + crop_idx.long()
    order = torch.argsort(key)
    key = key[order]
    keep = torch.ones_like(key, dtype=torch.bool)
    keep[1:] = key[1:] != key[:-1]  # distributed padding repeats views
    return order[keep]


@torch.no_grad()
def extract(method, loader, device: torch.device, fn: Callable) -> Dict[str, torch.Tensor]:
    """Run ``fn(method, batch) -> B x D`` over ``loader`` in eval mode; gather over ranks; one row per view.

    Returns ``{"out": N x D, "label", "video_idx", "clip_idx", "crop_idx"}`` on
    CPU, sorted by view, duplicates (distributed padding) removed.
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
    idx = view_order(vid, clip, crop)
    return {"out": out[idx], "label": label[idx], "video_idx": vid[idx], "clip_idx": clip[idx],
            "crop_idx": crop[idx]}


def video_labels(rows: Dict[str, torch.Tensor], num_videos: int) -> torch.Tensor:
    """LongTensor[V]: each video's label from its views' rows."""
    labels = torch.zeros(num_videos, dtype=torch.long)
    labels[rows["video_idx"]] = rows["label"]
    return labels


def eval_loader(cfg, dataset):
    """The in-order, rank-split loader of an evaluation dataset (``TEST.BATCH_SIZE`` per machine)."""
    from ...data import build_loader

    return build_loader(cfg, dataset, train=False, batch_size=max(cfg.TEST.BATCH_SIZE // max(cfg.NUM_GPUS, 1), 1))
