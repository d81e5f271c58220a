"""``build_dataset`` / ``build_loader``: the only data code that reads the config.

Datasets are registered by name (``TRAIN.DATASET`` / ``TEST.DATASET``, lower
case); a dataset function turns ``(cfg, split)`` into its file list plus any
options that differ from the defaults (e.g. no flip for ssv2), and may bring
its own ``Dataset`` class (AVA).  ``build_dataset(cfg, split, **overrides)``
replaces constructor arguments of that class (e.g. ``test_crops=1``) without
editing the config.
"""

import inspect
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Type

import torch

from ..errors import InputError
from .dataset import VideoDataset
from .lists import read_hmdb51, read_kinetics_csv, read_ssv2, read_ucf101
from .loader import make_loader
from .records import VideoRecord
from .transforms import ClipTransform, ColorConfig

SPLITS = ("train", "val", "test")


@dataclass
class DatasetSpec:
    """What a dataset function returns."""

    records: List[VideoRecord]
    random_flip: Optional[bool] = None  # None: DATA.RANDOM_FLIP
    segment: bool = False  # default temporal sampling is TSN segments
    dataset_cls: Type = VideoDataset  # the class built over the records (same arguments as VideoDataset)
    extra: Dict = field(default_factory=dict)  # constructor arguments of dataset_cls beyond VideoDataset's


DATASETS: Dict[str, Callable] = {}


def register_dataset(*names: str):
    """Decorator: ``fn(cfg, split) -> DatasetSpec`` under each name."""

    def deco(fn):
        for name in names:
            DATASETS[name.lower()] = fn
        return fn

    return deco


def flow_root(cfg) -> Optional[str]:
    if not cfg.DATA.USE_FLOW:
        return None
    return cfg.DATA.PATH_TO_FLOW_DIR or os.path.join(cfg.DATA.PATH_TO_DATA_DIR, "flow")


@register_dataset("kinetics", "kinetics400", "kinetics600", "k400", "k600")
def _kinetics(cfg, split: str) -> DatasetSpec:
    return DatasetSpec(read_kinetics_csv(cfg.DATA.PATH_TO_DATA_DIR, split, cfg.DATA.PATH_PREFIX,
                                         cfg.DATA.PATH_LABEL_SEPARATOR, flow_root(cfg)))


@register_dataset("synthetic")
def _synthetic(cfg, split: str) -> DatasetSpec:
    from .synthetic import build_synthetic_root

    root = build_synthetic_root(cfg)
    flow = os.path.join(root, "flow") if cfg.DATA.USE_FLOW else None
    if flow and not os.path.isdir(flow):
        raise InputError("DATA.USE_FLOW with the synthetic dataset needs SYNTHETIC.WRITE_FLOW True")
    return DatasetSpec(read_kinetics_csv(root, split, os.path.join(root, "videos"), " ", flow))


@register_dataset("ava", "synthetic_ava")
def _ava(cfg, split: str) -> DatasetSpec:
    """AVA keyframes from the AVA.* layout (frame lists, box files; test: proposals above
    AVA.DETECTION_SCORE_THRESH), or from the synthetic AVA generated into the cache."""
    from .ava_dataset import AvaDataset, ava_layout, read_samples

    records = read_samples(ava_layout(cfg), "train" if split == "train" else "test")
    return DatasetSpec(records, dataset_cls=AvaDataset, extra={"num_classes": cfg.MODEL.NUM_CLASSES})


def video_root(cfg, *candidates: str) -> str:
    """``DATA.PATH_PREFIX`` if set, else the first existing ``PATH_TO_DATA_DIR/<candidate>``, else the data dir."""
    if cfg.DATA.PATH_PREFIX:
        return cfg.DATA.PATH_PREFIX
    for sub in candidates:
        path = os.path.join(cfg.DATA.PATH_TO_DATA_DIR, sub)
        if os.path.isdir(path):
            return path
    return cfg.DATA.PATH_TO_DATA_DIR


@register_dataset("ucf101", "ucf")
def _ucf101(cfg, split: str) -> DatasetSpec:
    """Split files in DATA.PATH_TO_DATA_DIR (or its ucfTrainTestlist/), videos in PATH_PREFIX or UCF-101/."""
    return DatasetSpec(read_ucf101(cfg.DATA.PATH_TO_DATA_DIR, video_root(cfg, "UCF-101", "videos"), split,
                                   cfg.DATA.SPLIT, flow_root(cfg)))


@register_dataset("hmdb51", "hmdb")
def _hmdb51(cfg, split: str) -> DatasetSpec:
    """Split files in DATA.PATH_TO_DATA_DIR (or testTrainMulti_7030_splits/), videos in PATH_PREFIX or videos/."""
    return DatasetSpec(read_hmdb51(cfg.DATA.PATH_TO_DATA_DIR, video_root(cfg, "videos", "hmdb51_org"), split,
                                   cfg.DATA.SPLIT, flow_root(cfg)))


@register_dataset("ssv2", "something-something-v2", "somethingsomethingv2")
def _ssv2(cfg, split: str) -> DatasetSpec:
    """Official json lists in DATA.PATH_TO_DATA_DIR; ``<id>.webm`` (or frame folders ``<id>/``) in PATH_PREFIX
    or 20bn-something-something-v2/.  No horizontal flip (labels such as "left to right"), TSN segments."""
    records = read_ssv2(cfg.DATA.PATH_TO_DATA_DIR, video_root(cfg, "20bn-something-something-v2", "videos"),
                        split, flow_root=flow_root(cfg))
    return DatasetSpec(records, random_flip=False, segment=True)


def build_transform(cfg, random_flip: Optional[bool] = None) -> ClipTransform:
    """The per-clip transform from DATA.* / AUG.* keys."""
    d = cfg.DATA
    color = None
    if d.SSL_COLOR_JITTER:
        # SSL_BLUR_SIGMA_MIN/MAX are [temporal, spatial]; the spatial pair is the blur's sigma range
        # (PySlowFast's SSL colour path hard-codes [0.1, 2.0], the defaults; the temporal entry is unused).
        color = ColorConfig(tuple(d.SSL_COLOR_BRI_CON_SAT), float(d.SSL_COLOR_HUE),
                            float(d.COLOR_RND_GRAYSCALE), bool(d.SSL_MOCOV2_AUG),
                            (float(d.SSL_BLUR_SIGMA_MIN[-1]), float(d.SSL_BLUR_SIGMA_MAX[-1])))
    from .randaug import build_clip_random_erasing, build_clip_randaug

    return ClipTransform(
        crop_size=d.TRAIN_CROP_SIZE, test_size=d.TEST_CROP_SIZE, mean=d.MEAN, std=d.STD,
        jitter_scales=d.TRAIN_JITTER_SCALES,
        relative_scale=d.TRAIN_JITTER_SCALES_RELATIVE or None,
        relative_aspect=d.TRAIN_JITTER_ASPECT_RELATIVE or None,
        inverse_uniform=d.INV_UNIFORM_SAMPLE,
        random_flip=d.RANDOM_FLIP if random_flip is None else random_flip,
        color=color, flow_color=d.FLOW_COLOR_AUG,
        randaug=build_clip_randaug(cfg), erasing=build_clip_random_erasing(cfg), fused=d.FUSED_CPU_AUGMENT,
    )


def dataset_name(cfg, split: str) -> str:
    return (cfg.TEST.DATASET if split == "test" else cfg.TRAIN.DATASET).lower()


def build_dataset(cfg, split: str, mode: Optional[str] = None, **overrides) -> VideoDataset:
    """The dataset of ``split`` ("train" | "val" | "test").

    ``mode`` "train" (random clips, augmentation, ρ clips) or "test" (uniform
    views x crops); default "train" for split "train", else "test".  The
    dataset name comes from ``TRAIN.DATASET`` for train/val and
    ``TEST.DATASET`` for test.  ``overrides``: constructor arguments of the
    dataset's class that replace the config's (e.g. ``test_crops=1``).

    Raises:
        FileNotFoundError / ValueError: missing data directory or file list, empty list,
            unknown dataset name (one line naming the culprit).
    """
    if split not in SPLITS:
        raise InputError(f"split must be one of {SPLITS}, got {split!r}")
    mode = mode or ("train" if split == "train" else "test")
    name = dataset_name(cfg, split)
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r} (TRAIN.DATASET / TEST.DATASET); known: {sorted(DATASETS)}")
    spec = DATASETS[name](cfg, split)
    d = cfg.DATA
    sampling = d.TEMPORAL_SAMPLING or ("segment" if spec.segment else "clip")
    if sampling not in ("clip", "segment"):
        raise InputError(f"DATA.TEMPORAL_SAMPLING={sampling!r} is not 'clip' or 'segment'")
    kwargs = dict(
        records=spec.records, mode=mode, transform=build_transform(cfg, spec.random_flip),
        num_frames=d.NUM_FRAMES, sampling_rate=d.SAMPLING_RATE, target_fps=d.TARGET_FPS,
        num_clips=d.TRAIN_CROP_NUM_TEMPORAL, num_augs=d.TRAIN_CROP_NUM_SPATIAL * cfg.AUG.NUM_SAMPLE,
        test_views=cfg.TEST.NUM_ENSEMBLE_VIEWS, test_crops=cfg.TEST.NUM_SPATIAL_CROPS,
        jitter_fps=d.TRAIN_JITTER_FPS,
        min_gap=float(cfg.CONTRASTIVE.DELTA_CLIPS_MIN), max_gap=float(cfg.CONTRASTIVE.DELTA_CLIPS_MAX),
        use_offset=d.USE_OFFSET_SAMPLING, segment=sampling == "segment", use_flow=d.USE_FLOW,
        seed=cfg.RNG_SEED, max_retries=cfg.DATA_LOADER.MAX_RETRIES, backend=d.DECODING_BACKEND,
        max_short_side=d.DECODE_MAX_SHORT_SIDE or None, frame_fps=d.FRAME_FPS, name=name,
        stream=d.INPUT_STREAM, view_composition=d.SSL_VIEW_COMPOSITION,
    )
    params = inspect.signature(spec.dataset_cls).parameters
    unknown = [k for k in overrides if k not in params]
    if unknown:
        raise InputError(f"{spec.dataset_cls.__name__} has no argument {unknown[0]!r} to override; "
                         f"its arguments: {sorted(params)}")
    return spec.dataset_cls(**{**kwargs, **spec.extra, **overrides})


def build_loader(cfg, dataset, *, train: bool, batch_size: int, epoch: int = 0,
                 start_iter: int = 0) -> torch.utils.data.DataLoader:
    """The DataLoader of ``dataset`` for this process.

    ``train=True``: a permutation seeded by ``(RNG_SEED, epoch)`` split across
    ranks, ``(epoch, index)`` items, ``drop_last``, the first ``start_iter``
    batches skipped.  ``train=False``: in order, padded across ranks, no
    ``drop_last``.  ``batch_size`` is per process.  Workers:
    ``DATA_LOADER.NUM_WORKERS``, kept across epochs for training with
    ``DATA_LOADER.PERSISTENT_WORKERS`` (:func:`~videossl.data.loader.restart_epoch`);
    pinned memory when CUDA is available.
    """
    return make_loader(
        dataset, train=train, batch_size=batch_size, seed=cfg.RNG_SEED, epoch=epoch, start_iter=start_iter,
        num_workers=cfg.DATA_LOADER.NUM_WORKERS, persistent_workers=cfg.DATA_LOADER.PERSISTENT_WORKERS,
        pin_memory=bool(cfg.DATA_LOADER.PIN_MEMORY and torch.cuda.is_available()),
    )
