"""PySlowFast keys that videossl accepts only at PySlowFast's default value.

A PySlowFast YAML merges into our tree unchanged; if it sets one of these keys
to anything but the default, :func:`check_unsupported` refuses the config with
a message naming the key, instead of silently ignoring a setting the user
relied on.  An entry ending in ``.`` covers a whole node.
"""

from typing import Iterable, List

from ..errors import InputError

UNSUPPORTED_KEYS: List[str] = [
    # whole nodes
    "X3D.",
    "NONLOCAL.",
    "SLOWFAST.",
    "MULTIGRID.",
    "DEMO.",
    "BENCHMARK.",
    "VIS_MASK.",
    "MVIT.REV.",
    "TENSORBOARD.CONFUSION_MATRIX.",
    "TENSORBOARD.HISTOGRAM.",
    "TENSORBOARD.MODEL_VIS.",
    "TENSORBOARD.WRONG_PRED_VIS.",
    # single keys
    "AVA.BGR",
    "AVA.TRAIN_USE_COLOR_AUGMENTATION",
    "AVA.TEST_FORCE_FLIP",
    "AVA.FULL_TEST_ON_VAL",
    "TENSORBOARD.PREDICTIONS_PATH",
    "TENSORBOARD.CLASS_NAMES_PATH",
    "TENSORBOARD.CATEGORIES_PATH",
    "BN.NUM_SPLITS",
    "TRAIN.CHECKPOINT_IN_INIT",
    "MODEL.DROPCONNECT_RATE",
    "MODEL.FROZEN_BN",
    "MODEL.FP16_ALLREDUCE",
    "CONTRASTIVE.INTERP_MEMORY",
    "CONTRASTIVE.MEM_TYPE",
    "DATA.PATH_TO_PRELOAD_IMDB",
    "DATA.IN22K_TRAINVAL",
    "DATA.IN22k_VAL_IN1K",
    "DATA.LOADER_CHUNK_SIZE",
    "DATA.LOADER_CHUNK_OVERALL_SIZE",
    "DATA.TIME_DIFF_PROB",
    "DATA.TRAIN_JITTER_MOTION_SHIFT",
    "DATA.REVERSE_INPUT_CHANNEL",
    "DATA.MULTI_LABEL",
    "DATA.DUMMY_LOAD",
    "AUG.GEN_MASK_LOADER",
    "AUG.MASK_FRAMES",
    "AUG.MAX_MASK_PATCHES_PER_BLOCK",
    "MASK.PRED_HOG",
    "MASK.DEC_KV_KERNEL",
    "MASK.DEC_KV_STRIDE",
    "MVIT.POOL_FIRST",
    "MVIT.DIM_MUL",
    "MVIT.HEAD_MUL",
    "MVIT.POOL_KV_STRIDE",
    "MVIT.POOL_KV_STRIDE_ADAPTIVE",
    "MVIT.POOL_Q_STRIDE",
    "MVIT.POOL_KVQ_KERNEL",
    "MVIT.REL_POS_SPATIAL",
    "MVIT.REL_POS_TEMPORAL",
    "MVIT.REL_POS_ZERO_INIT",
    "MVIT.RESIDUAL_POOLING",
    "MVIT.DIM_MUL_IN_ATT",
    "MVIT.SEPARATE_QKV",
    "MVIT.NORM_STEM",
    "MVIT.PATCH_2D",
    "MVIT.LAYER_SCALE_INIT_VALUE",
]


def _flatten(node, prefix=""):
    for key, value in node.items():
        full = prefix + key
        if hasattr(value, "items"):
            yield from _flatten(value, full + ".")
        else:
            yield full, value


def _covered(key: str, patterns: Iterable[str]) -> bool:
    return any(key == p or (p.endswith(".") and key.startswith(p)) for p in patterns)


def check_unsupported(cfg, defaults) -> None:
    """Raise ValueError naming every unsupported key set away from its default."""
    default_values = dict(_flatten(defaults))
    bad = []
    for key, value in _flatten(cfg):
        if not _covered(key, UNSUPPORTED_KEYS):
            continue
        default = default_values.get(key)
        if _normalise(value) != _normalise(default):
            bad.append(f"{key}={value!r} (PySlowFast default {default!r})")
    if bad:
        raise InputError(
            "config sets PySlowFast keys that videossl does not implement; "
            "remove them or set them to PySlowFast's default: " + "; ".join(bad)
        )


def _normalise(value):
    if isinstance(value, (list, tuple)):
        return tuple(_normalise(v) for v in value)
    return value
