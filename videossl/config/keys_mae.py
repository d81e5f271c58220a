"""Config keys owned by the mae area (videossl-only keys; PySlowFast keys live in defaults.py).

PySlowFast's MASK.*, AUG.MASK_*, MVIT.* and SOLVER.LAYER_DECAY keys keep
their meaning.  The one addition selects VideoMAE's reconstruction target:

``MASK.NORM_PIX_PER_CHANNEL`` (videossl, default False)
    False: MAE-ST / PySlowFast target -- each patch's values (768 with
    ``MASK.TIME_STRIDE_LOSS``, else 1536) normalised jointly,
    ``(x - mean) / sqrt(var + 1e-6)``, on the mean/std-normalised input.
    True: VideoMAE target -- pixels un-normalised with DATA.MEAN/STD, then
    each patch normalised per colour channel,
    ``(x - mean_c) / (std_c + 1e-6)`` (only used with ``MASK.NORM_PRED_PIXEL``).
"""

from fvcore.common.config import CfgNode


def add_keys(cfg: CfgNode) -> None:
    """Add this area's keys to `cfg` in place."""
    cfg.MASK.NORM_PIX_PER_CHANNEL = False
