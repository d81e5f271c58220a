"""AVA keyframes as samples: a clip centred on the keyframe, its person boxes and their multi-hot actions.

Train mode (PySlowFast's ``ava_dataset``): ``NUM_FRAMES`` frames every
``SAMPLING_RATE`` around the keyframe (indices clamped to the video), one
random crop + flip drawn per clip (:class:`~.transforms.ClipTransform`), and
the boxes moved with the pixels (:func:`~.transforms.boxes.transform_boxes`).
Test mode: the whole frame with its short side scaled to ``test_size`` (no
crop, as PySlowFast tests AVA), boxes scaled with it.

A sample: ``views`` [``3 x T x H x W``], ``boxes`` ``K x 4`` (pixels of the
clip), ``box_labels`` ``K x num_classes`` (multi-hot of AVA's 1-based ids; a
proposal without label is all zeros), ``ori_boxes`` ``K x 4`` (normalised,
as read), ``video_id`` and ``timestamp`` (the keyframe), ``index``, ``label``
(-1) and ``meta``.
"""

import os
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms.v2 import functional as TF

from ..errors import DataError, InputError
from . import seeds
from .dataset import split_key
from .lists.ava import Keyframe, keyframes, read_box_files, read_frame_lists
from .transforms import ClipTransform
from .transforms.boxes import transform_boxes
from .transforms.clip_aug import params_to_row


@dataclass(frozen=True)
class AvaLayout:
    """Where an AVA folder's parts are (resolved from ``AVA.*`` or the synthetic AVA's cache)."""

    frame_dir: str
    frame_lists: Dict[str, List[str]]  # "train" / "test" -> frame list files
    box_files: Dict[str, List[Tuple[str, bool]]]  # "train" / "test" -> (file, is ground truth)
    groundtruth: str
    excluded: str
    label_map: str
    score_thresh: float


@dataclass(frozen=True)
class AvaSample:
    """A keyframe with its video's name and frame files (the dataset's record)."""

    video: str
    frames: Tuple[str, ...]
    keyframe: Keyframe


def read_samples(layout: AvaLayout, split: str) -> List[AvaSample]:
    """Every keyframe of ``split`` ("train" or "test") with at least one box."""
    names, frames = read_frame_lists(layout.frame_lists[split], layout.frame_dir)
    boxes = read_box_files(layout.box_files[split], layout.score_thresh)
    samples = [AvaSample(names[k.video], tuple(frames[k.video]), k) for k in keyframes(names, boxes)]
    if not samples:
        raise InputError(f"AVA {split}: no keyframe with boxes in {layout.box_files[split]} for the videos of "
                         f"{layout.frame_lists[split]}")
    return samples


def clip_indices(center: int, num_frames: int, sampling_rate: int, length: int) -> List[int]:
    """PySlowFast's ``get_sequence``: ``num_frames`` indices every ``sampling_rate`` from
    ``center - num_frames * sampling_rate // 2``, clamped to ``[0, length - 1]``."""
    half = num_frames * sampling_rate // 2
    return [min(max(i, 0), length - 1) for i in range(center - half, center + half, sampling_rate)]


class AvaDataset(Dataset):
    """AVA keyframes (see the module docstring). Takes :class:`~.dataset.VideoDataset`'s arguments
    (the unused ones are ignored) plus ``num_classes``."""

    def __init__(self, records: Sequence[AvaSample], mode: str, transform: ClipTransform, *, num_frames: int,
                 sampling_rate: int, seed: int = 0, num_classes: int = 80, name: str = "ava",
                 defer_augmentation: bool = False, **_unused):
        if mode not in ("train", "test"):
            raise InputError(f"mode must be 'train' or 'test', got {mode!r}")
        self.records = list(records)
        self.mode, self.transform = mode, transform
        self.num_frames, self.sampling_rate = num_frames, sampling_rate
        self.seed, self.num_classes, self.name = seed, num_classes, name
        self.defer_augmentation = defer_augmentation  # train: frames + params rows, boxes normalised

    @property
    def num_videos(self) -> int:
        return len(self.records)

    @property
    def views_per_video(self) -> int:
        return 1

    @property
    def labels(self) -> List[int]:
        return [-1] * len(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def _read(self, paths: Sequence[str]) -> torch.Tensor:
        try:
            return torch.from_numpy(np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths]))
        except OSError as err:
            raise DataError(f"AVA frame unreadable: {err} (check the folder with tools/check_ava.py)") from None

    def _multi_hot(self, labels: Sequence[Tuple[int, ...]]) -> torch.Tensor:
        out = torch.zeros(len(labels), self.num_classes)
        for i, ids in enumerate(labels):
            for a in ids:
                if a > 0:
                    if a > self.num_classes:
                        raise InputError(f"AVA action id {a} exceeds MODEL.NUM_CLASSES={self.num_classes}")
                    out[i, a - 1] = 1.0
        return out

    def __getitem__(self, key) -> Dict:
        epoch, index = split_key(key)
        rec = self.records[index]
        k = rec.keyframe
        frames = self._read([rec.frames[i] for i in
                             clip_indices(k.frame, self.num_frames, self.sampling_rate, len(rec.frames))])
        height, width = frames.shape[1:3]
        ori = torch.tensor(k.boxes, dtype=torch.float32).reshape(-1, 4)
        if self.mode == "train":
            params = self.transform.sample_train(seeds.rng_for(self.seed, epoch, index, 0, seeds.SPATIAL, 0, 0),
                                                 height, width)
            if self.defer_augmentation:  # the training step crops frames and boxes (transforms/on_device.py)
                clip, boxes = frames, ori
            else:
                clip = self.transform.apply(frames, params)
                boxes = transform_boxes(ori, params, height, width, self.transform.crop_size)
        else:
            clip, boxes = self._test_view(frames, ori)
        sample = {"views": [clip], "boxes": boxes, "box_labels": self._multi_hot(k.labels), "ori_boxes": ori,
                  "video_id": rec.video, "timestamp": k.sec, "index": index, "label": -1,
                  "meta": {"video_idx": index, "clip_idx": 0, "crop_idx": 0}}
        if self.mode == "train" and self.defer_augmentation:
            sample["view_params"] = [params_to_row(params, height, width)]
        return sample

    def _test_view(self, frames: torch.Tensor, boxes: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The whole frame, short side scaled to ``test_size``; boxes in its pixels."""
        x = TF.resize(frames.permute(0, 3, 1, 2), self.transform.test_size, antialias=True)  # T x C x H' x W'
        h, w = x.shape[-2:]
        t = self.transform
        x = (x.float() / 255.0 - t.mean.view(1, -1, 1, 1)) / t.std.view(1, -1, 1, 1)
        scale = torch.tensor([w, h, w, h], dtype=torch.float32)
        return x.permute(1, 0, 2, 3).contiguous(), boxes * scale


def ava_layout(cfg) -> AvaLayout:
    """The AVA folder of ``cfg``: ``AVA.*`` paths, or the synthetic AVA (generated once into the cache)
    when the dataset is ``synthetic_ava``."""
    a = cfg.AVA
    if "synthetic_ava" in (cfg.TRAIN.DATASET.lower(), cfg.TEST.DATASET.lower()):
        from .synthetic_ava import ensure_synthetic_ava, settings_from_cfg

        root = ensure_synthetic_ava(settings_from_cfg(cfg))
        frame_dir, list_dir, ann_dir = (os.path.join(root, d) for d in ("frames", "frame_lists", "annotations"))
        train_lists, test_lists = ["train.csv"], ["val.csv"]
        train_gt, train_pred, test_pred = ["ava_train_v2.2.csv"], [], ["ava_val_predicted_boxes.csv"]
        gt, excluded = "ava_val_v2.2.csv", "ava_val_excluded_timestamps_v2.2.csv"
        label_map = "ava_action_list_v2.2_for_activitynet_2019.pbtxt"
    else:
        frame_dir, list_dir, ann_dir = a.FRAME_DIR, a.FRAME_LIST_DIR, a.ANNOTATION_DIR
        train_lists, test_lists = list(a.TRAIN_LISTS), list(a.TEST_LISTS)
        train_gt, train_pred, test_pred = list(a.TRAIN_GT_BOX_LISTS), list(a.TRAIN_PREDICT_BOX_LISTS), \
            list(a.TEST_PREDICT_BOX_LISTS)
        gt, excluded, label_map = a.GROUNDTRUTH_FILE, a.EXCLUSION_FILE, a.LABEL_MAP_FILE

    def ann(files, is_gt):
        return [(os.path.join(ann_dir, f), is_gt) for f in files]

    return AvaLayout(
        frame_dir=frame_dir,
        frame_lists={"train": [os.path.join(list_dir, f) for f in train_lists],
                     "test": [os.path.join(list_dir, f) for f in test_lists]},
        box_files={"train": ann(train_gt, True) + ann(train_pred, False), "test": ann(test_pred, False)},
        groundtruth=os.path.join(ann_dir, gt), excluded=os.path.join(ann_dir, excluded),
        label_map=os.path.join(ann_dir, label_map), score_thresh=a.DETECTION_SCORE_THRESH)
