"""``TrainSettings``: every value the training loop and its hooks need, read from the config once."""

import os
from dataclasses import dataclass
from typing import Optional

import torch

from ..config import compute_scale
from ..utils.logging import get_logger
from .tasks import TaskSpec, get_task

logger = get_logger("settings")


@dataclass(frozen=True)
class TrainSettings:
    """Plain, frozen values; nothing inside the loop or a hook reads ``cfg``.

    Sizes are per process unless named global; LRs are already scaled by
    shards (:func:`videossl.config.compute_scale`).
    """

    task: TaskSpec
    output_dir: str
    seed: int
    world_size: int
    per_process_batch: int
    global_batch: int
    base_lr: float  # SOLVER.BASE_LR, scaled by shards
    max_epoch: int
    iters_per_epoch_cap: int  # TRAIN.ITERS_PER_EPOCH; 0 = the whole loader
    # checkpoints
    checkpoint_period: int  # epochs
    checkpoint_iter_period: int  # iterations; 0 = none mid-epoch
    checkpoint_keep_last: int  # newest epoch checkpoints kept; 0 = all
    auto_resume: bool
    # logging
    log_period: int
    tensorboard_dir: Optional[str]  # None = no TensorBoard
    # periodic evaluation
    eval_period: int  # epochs; 0 = never
    knn_monitor: bool  # CONTRASTIVE.KNN_ON
    # the step
    amp: bool
    amp_dtype: torch.dtype
    clip_grad_val: float  # 0 = off
    clip_grad_l2norm: float  # 0 = off
    # BN
    precise_bn_batches: int  # BN.NUM_BATCHES_PRECISE with BN.USE_PRECISE_STATS; 0 = off
    # guards
    loss_explosion_factor: float  # 0 = off
    max_failed_fraction: float

    @property
    def checkpoint_prefix(self) -> str:
        return self.task.checkpoint_prefix

    def iters_per_epoch(self, loader_len: int) -> int:
        """Iterations of an epoch whose loader has ``loader_len`` batches."""
        cap = self.iters_per_epoch_cap
        return min(loader_len, cap) if cap > 0 else loader_len


def build_train_settings(cfg, world_size: int, device: torch.device) -> TrainSettings:
    """TrainSettings from ``cfg`` for a run of ``world_size`` processes on ``device``."""
    scale = compute_scale(cfg, world_size)
    amp = cfg.TRAIN.MIXED_PRECISION
    amp_dtype = torch.bfloat16 if cfg.TRAIN.MIXED_PRECISION_DTYPE == "bfloat16" else torch.float16
    if amp and amp_dtype == torch.float16 and device.type == "cpu":
        # CPU float16 autocast falls back to slow kernels (a Slow R50 step runs ~50x slower
        # than fp32); a GPU config (PySlowFast's MoCo YAML) brought to a CPU runs in fp32.
        logger.warning("TRAIN.MIXED_PRECISION with float16 on CPU: running in float32 "
                       "(set TRAIN.MIXED_PRECISION_DTYPE bfloat16 for CPU autocast)")
        amp = False
    tb_dir = None
    if cfg.TENSORBOARD.ENABLE:
        tb_dir = cfg.TENSORBOARD.LOG_DIR or os.path.join(cfg.OUTPUT_DIR, f"runs-{cfg.TASK}")
    return TrainSettings(
        task=get_task(cfg.TASK), output_dir=cfg.OUTPUT_DIR, seed=cfg.RNG_SEED, world_size=world_size,
        per_process_batch=scale.per_process_batch, global_batch=scale.global_batch, base_lr=scale.base_lr,
        max_epoch=cfg.SOLVER.MAX_EPOCH, iters_per_epoch_cap=cfg.TRAIN.ITERS_PER_EPOCH,
        checkpoint_period=cfg.TRAIN.CHECKPOINT_PERIOD, checkpoint_iter_period=cfg.TRAIN.CHECKPOINT_ITER_PERIOD,
        checkpoint_keep_last=cfg.TRAIN.CHECKPOINT_KEEP_LAST,
        auto_resume=cfg.TRAIN.AUTO_RESUME, log_period=cfg.LOG_PERIOD, tensorboard_dir=tb_dir,
        eval_period=cfg.TRAIN.EVAL_PERIOD, knn_monitor=cfg.CONTRASTIVE.KNN_ON,
        amp=amp, amp_dtype=amp_dtype, clip_grad_val=cfg.SOLVER.CLIP_GRAD_VAL,
        clip_grad_l2norm=cfg.SOLVER.CLIP_GRAD_L2NORM, loss_explosion_factor=cfg.TRAIN.KILL_LOSS_EXPLOSION_FACTOR,
        precise_bn_batches=cfg.BN.NUM_BATCHES_PRECISE if cfg.BN.USE_PRECISE_STATS else 0,
        max_failed_fraction=cfg.DATA_LOADER.MAX_FAILED_FRACTION,
    )
