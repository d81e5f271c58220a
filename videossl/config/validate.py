"""Consistency checks run once at start-up, before the config is frozen."""

import logging

from ..data.view_composition import COMPOSITIONS
from ..engine.tasks import get_task
from ..errors import InputError


def _choice(cfg_value, key, choices):
    if cfg_value not in choices:
        raise InputError(f"{key}={cfg_value!r} is not one of {tuple(choices)}")


def validate_cfg(cfg) -> None:
    """Raise ValueError naming the offending key for an inconsistent config."""
    num_procs = max(cfg.NUM_GPUS, 1)
    for key in ("TRAIN", "TEST"):
        bs = cfg[key].BATCH_SIZE
        if bs <= 0 or bs % num_procs:
            raise InputError(
                f"{key}.BATCH_SIZE={bs} is per machine and must be a positive "
                f"multiple of NUM_GPUS={cfg.NUM_GPUS}"
            )
    if not 0 <= cfg.SHARD_ID < cfg.NUM_SHARDS:
        raise InputError(f"SHARD_ID={cfg.SHARD_ID} must lie in [0, NUM_SHARDS={cfg.NUM_SHARDS})")
    _choice(cfg.SOLVER.OPTIMIZING_METHOD, "SOLVER.OPTIMIZING_METHOD", ("sgd", "adam", "adamw"))
    _choice(
        cfg.SOLVER.LR_POLICY,
        "SOLVER.LR_POLICY",
        ("cosine", "steps_with_relative_lrs", "constant"),
    )
    if cfg.SOLVER.LR_POLICY == "steps_with_relative_lrs":
        if len(cfg.SOLVER.STEPS) != len(cfg.SOLVER.LRS) or not cfg.SOLVER.STEPS:
            raise InputError(
                "SOLVER.STEPS and SOLVER.LRS must be non-empty lists of equal length "
                f"for steps_with_relative_lrs (got {cfg.SOLVER.STEPS} and {cfg.SOLVER.LRS})"
            )
    if cfg.SOLVER.WARMUP_EPOCHS > cfg.SOLVER.MAX_EPOCH:
        # PySlowFast runs it (the usual smoke test SOLVER.MAX_EPOCH 1 of a recipe): the whole run is warmup.
        logging.getLogger("videossl.config").warning(
            "SOLVER.WARMUP_EPOCHS=%s exceeds SOLVER.MAX_EPOCH=%s: the whole run is warmup (as in PySlowFast)",
            cfg.SOLVER.WARMUP_EPOCHS, cfg.SOLVER.MAX_EPOCH)
    _choice(cfg.BN.NORM_TYPE, "BN.NORM_TYPE", ("batchnorm", "sync_batchnorm"))
    _choice(cfg.TRAIN.MIXED_PRECISION_DTYPE, "TRAIN.MIXED_PRECISION_DTYPE", ("float16", "bfloat16"))
    _choice(cfg.TEST.EVALUATOR, "TEST.EVALUATOR", get_task(cfg.TASK).evaluators)
    _choice(cfg.LINEAR.PROTOCOL, "LINEAR.PROTOCOL", ("pyslowfast", "coclr"))
    _choice(cfg.DATA.DECODING_BACKEND, "DATA.DECODING_BACKEND", ("pyav", "torchcodec"))
    _choice(cfg.DATA.ENSEMBLE_METHOD, "DATA.ENSEMBLE_METHOD", ("sum", "max"))
    _choice(cfg.DATA.SSL_VIEW_COMPOSITION, "DATA.SSL_VIEW_COMPOSITION", COMPOSITIONS)
    if cfg.DATA.AUGMENT_ON_DEVICE and cfg.AUG.ENABLE and (cfg.AUG.AA_TYPE or cfg.AUG.RE_PROB > 0):
        raise InputError("DATA.AUGMENT_ON_DEVICE does not run RandAugment or random erasing (AUG.ENABLE True): "
                         "turn one of them off")
    if cfg.DATA.TRAIN_CROP_NUM_TEMPORAL < 1:
        raise InputError("DATA.TRAIN_CROP_NUM_TEMPORAL (rho) must be >= 1")
    if cfg.TEST.NUM_ENSEMBLE_VIEWS < 1 or cfg.TEST.NUM_SPATIAL_CROPS not in (1, 3):
        raise InputError(
            "TEST.NUM_ENSEMBLE_VIEWS must be >= 1 and TEST.NUM_SPATIAL_CROPS 1 or 3 "
            f"(got {cfg.TEST.NUM_ENSEMBLE_VIEWS}, {cfg.TEST.NUM_SPATIAL_CROPS})"
        )
    if cfg.TRAIN.ENABLE and cfg.SOLVER.MAX_EPOCH < 1:
        raise InputError(f"SOLVER.MAX_EPOCH={cfg.SOLVER.MAX_EPOCH} must be >= 1")
    if cfg.TRAIN.CHECKPOINT_KEEP_LAST < 0:
        raise InputError(f"TRAIN.CHECKPOINT_KEEP_LAST={cfg.TRAIN.CHECKPOINT_KEEP_LAST} must be >= 0 (0: keep all)")
