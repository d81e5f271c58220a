"""Config keys owned by the data area (videossl-only keys; PySlowFast keys live in defaults.py).

``DATA.PATH_TO_FLOW_DIR`` ("")
    Root of the optical-flow frames used when ``DATA.USE_FLOW``: the flow of
    video ``a/b.mp4`` (its path as written in the file list) is the folder
    ``<root>/a/b/`` of ``flow_%05d.jpg`` (CoCLR encoding, see
    ``videossl/data/flow.py``).  "" means ``<DATA.PATH_TO_DATA_DIR>/flow``.
``DATA.INPUT_STREAM`` ("rgb")
    "flow": every dataset returns its flow clips as ``views`` (and no
    ``flow``), so linear probes, finetuning and retrieval evaluate a flow
    encoder unchanged. Needs ``DATA.USE_FLOW``. CoCLR's pretraining methods
    pick their stream with ``SSL.COCLR_STREAM`` instead.
``DATA.FLOW_COLOR_AUG`` (True)
    Apply the clip's colour augmentation to its flow too (CoCLR feeds flow
    exactly like RGB); crops and flips are always shared.
``DATA.SSL_VIEW_COMPOSITION`` ("clips")
    How training views come from the sampled clips. "clips": each clip gives
    ``TRAIN_CROP_NUM_SPATIAL`` views, each with the full augmentation
    (PySlowFast). "coclr": CoCLR's and ViCC's two views of two clips, TwoClip
    (each view coloured with p 0.3) or OneClip (one clip, one coloured and
    one plain view), 50/50 per sample (``videossl/data/view_composition.py``).
``DATA.FRAME_FPS`` (30.0)
    Frame rate of videos stored as folders of per-frame images (folders carry
    no timing).
``DATA.DECODE_MAX_SHORT_SIDE`` (0)
    If > 0, frames are downscaled while decoding so their short side is at
    most this (never upscaled); 0 keeps the stored size.  Useful for
    datasets that were not resized beforehand.
``DATA.TEMPORAL_SAMPLING`` ("")
    "clip": contiguous clips (PySlowFast's Kinetics sampling); "segment":
    TSN segments (one frame per segment, PySlowFast's SSv2); "" = the
    dataset's default ("segment" for ssv2, else "clip").
``DATA.AUGMENT_ON_DEVICE`` (False)
    Training loaders' workers only decode: each view leaves them as uint8
    frames plus its drawn crop / flip / colour parameters, and the training
    step augments the whole batch on the method's device (batched crop and
    resize by ``grid_sample``, batched colour ops), equal to the workers'
    augmentation up to rounding (``videossl/data/transforms/on_device.py``).
    For GPUs whose loader CPUs cannot keep up.  Not with RandAugment or
    random erasing (``AUG.ENABLE``), which stay PIL based in the workers.
``DATA.FUSED_CPU_AUGMENT`` (True)
    On CPU, each clip's float conversion, flip, colour jitter, grayscale,
    blur and normalisation run as fused numba kernels
    (``videossl/data/transforms/fused_cpu.py``): about 2.4x faster than the
    torch kernels and equal to them up to float rounding.  False, or numba
    not installed: the torch kernels.
``DATA_LOADER.PERSISTENT_WORKERS`` (True)
    Keep the training loader's worker processes from epoch to epoch (the
    sampler hands them the next epoch's ``(epoch, index)`` keys, so each
    epoch's augmentation differs and resuming stays exact).  Evaluation
    loaders always start their own.
"""

from fvcore.common.config import CfgNode


def add_keys(cfg: CfgNode) -> None:
    """Add this area's keys to `cfg` in place."""
    cfg.DATA.PATH_TO_FLOW_DIR = ""
    cfg.DATA.FLOW_COLOR_AUG = True
    cfg.DATA.INPUT_STREAM = "rgb"
    cfg.DATA.SSL_VIEW_COMPOSITION = "clips"
    cfg.DATA.FRAME_FPS = 30.0
    cfg.DATA.DECODE_MAX_SHORT_SIDE = 0
    cfg.DATA.TEMPORAL_SAMPLING = ""
    cfg.DATA.AUGMENT_ON_DEVICE = False
    cfg.DATA.FUSED_CPU_AUGMENT = True
    cfg.DATA_LOADER.PERSISTENT_WORKERS = True
