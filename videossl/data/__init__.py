"""Datasets, decoding, temporal sampling, video transforms, loader construction.

Entry points (the only functions that read the config)::

    build_dataset(cfg, split, mode=None) -> VideoDataset
    build_loader(cfg, dataset, *, train, batch_size, epoch=0, start_iter=0) -> DataLoader

The batch every dataset yields is defined once, in :mod:`videossl.data.batch`.
"""

from .batch import Batch
from .build import DATASETS, DatasetSpec, build_dataset, build_loader, build_transform, register_dataset
from .collate import collate_batch
from .dataset import VideoDataset
from .decoding import DecodeError, open_video
from .records import VideoRecord

__all__ = ["Batch", "build_dataset", "build_loader", "build_transform", "register_dataset", "DATASETS", "DatasetSpec",
           "collate_batch", "VideoDataset", "DecodeError", "open_video", "VideoRecord"]
