"""Initialising a method from a pretrain checkpoint (``TRAIN.CHECKPOINT_FILE_PATH``).

Evaluation tasks (linear / finetune) take backbone weights only: SSL heads,
momentum copies (``backbone_hist``), queues and kNN memories are dropped, and
a report of what was loaded and what was not is logged.  With no explicit
path, ``linear``/``finetune`` chain from the last pretraining checkpoint in
the same ``OUTPUT_DIR`` (PySlowFast's ``ssl_eval`` behaviour).
"""

from typing import Optional

from ..utils import checkpoint as cu
from ..utils.logging import get_logger

logger = get_logger("pretrained")

PRETRAIN_PREFIX = "ssl"  # PySlowFast names pretraining checkpoints ssl_checkpoint_epoch_*.pyth


def resolve_init_path(cfg) -> Optional[str]:
    """Explicit TRAIN.CHECKPOINT_FILE_PATH (a path, zoo name or URL), else the chained SSL checkpoint."""
    path = cfg.TRAIN.CHECKPOINT_FILE_PATH
    if path:
        try:
            from ..models.zoo import resolve_checkpoint_path
        except ImportError:
            return path
        return resolve_checkpoint_path(path)
    if cfg.TASK in ("linear", "finetune"):
        return cu.last_checkpoint(cfg.OUTPUT_DIR, PRETRAIN_PREFIX)
    return None


def init_from_pretrained(cfg, method) -> Optional[str]:
    """Load backbone weights into ``method`` per TRAIN.CHECKPOINT_*; returns the path used."""
    path = resolve_init_path(cfg)
    if not path:
        return None
    from ..models.convert import load_pretrained

    target = getattr(method, "pretrain_target", None) or method
    patterns = tuple(cfg.TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN)
    evaluation = cfg.TASK in ("linear", "finetune")
    if evaluation and not patterns:
        patterns = ("backbone.",)
    head = getattr(target, "head", None) if evaluation else None
    if head is not None:
        target.head = None  # heads are never taken from a pretrain checkpoint
    try:
        report = load_pretrained(
            target, path, clear_name_patterns=patterns, inflate=cfg.TRAIN.CHECKPOINT_INFLATE,
            source="caffe2" if cfg.TRAIN.CHECKPOINT_TYPE == "caffe2" else None,
        )
    finally:
        if head is not None:
            target.head = head
    logger.info("initialised from %s\n%s", path, report.table())
    return path
