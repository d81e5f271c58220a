"""Datasets, decoding, temporal sampling, video transforms, loader construction.

Entry points (the only functions that read the config)::

    build_dataset(cfg, split, mode=None) -> VideoDataset
    build_loader(cfg, dataset, *, train, batch_size, epoch=0, start_iter=0) -> DataLoader

Batch contract (after :func:`collate_batch`): ``views`` list of
``B x C x T x H x W`` float (normalised), ``label`` / ``index`` /
``source_id`` / ``num_failed`` LongTensor[B], ``meta`` dict of LongTensor[B]
(``video_idx``, ``clip_idx``, ``crop_idx``), optional ``flow`` like ``views``.
"""

from .build import DATASETS, DatasetSpec, build_dataset, build_loader, build_transform, register_dataset
from .collate import collate_batch
from .dataset import VideoDataset
from .decoding import DecodeError, open_video
from .records import VideoRecord

__all__ = ["build_dataset", "build_loader", "build_transform", "register_dataset", "DATASETS", "DatasetSpec",
           "collate_batch", "VideoDataset", "DecodeError", "open_video", "VideoRecord"]
