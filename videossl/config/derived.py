"""Values computed from the config (never written back into it)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Effective distributed sizes for one run."""

    world_size: int
    per_process_batch: int
    global_batch: int
    base_lr: float
    warmup_start_lr: float
    cosine_end_lr: float


def compute_scale(cfg, world_size: int) -> Scale:
    """Batch per process / global batch and LRs scaled by shards (PySlowFast rules).

    ``TRAIN.BATCH_SIZE`` is per machine: each of the ``NUM_GPUS`` processes of
    a machine gets ``BATCH_SIZE / NUM_GPUS``.  With
    ``SOLVER.BASE_LR_SCALE_NUM_SHARDS`` the three LRs are multiplied by
    ``NUM_SHARDS``.
    """
    procs_per_machine = max(world_size // max(cfg.NUM_SHARDS, 1), 1)
    per_process = cfg.TRAIN.BATCH_SIZE // procs_per_machine
    factor = cfg.NUM_SHARDS if cfg.SOLVER.BASE_LR_SCALE_NUM_SHARDS else 1
    return Scale(
        world_size=world_size,
        per_process_batch=per_process,
        global_batch=per_process * world_size,
        base_lr=cfg.SOLVER.BASE_LR * factor,
        warmup_start_lr=cfg.SOLVER.WARMUP_START_LR * factor,
        cosine_end_lr=cfg.SOLVER.COSINE_END_LR * factor,
    )
