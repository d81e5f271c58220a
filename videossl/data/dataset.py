"""The one video dataset class: a file list + temporal sampling + per-clip transforms.

Train mode (``mode="train"``), item ``(epoch, index)`` (an int means epoch 0):
decode the video **once**, cut ``num_clips`` (ρ) clips at random times, and
give each clip ``num_augs`` independently augmented views, clip-major:
``views[c * num_augs + a]`` (``view_composition="coclr"``: CoCLR's two views of
two clips, see :mod:`videossl.data.view_composition`).  Test mode: item ``i`` is view
``(video, clip, crop) = (i // (V*C), (i // C) % V, i % C)`` of
``V = test_views`` uniform clips x ``C = test_crops`` crops; one view.

Every random draw comes from :func:`videossl.data.seeds.rng_for` keyed by
``(seed, epoch, index, attempt, purpose, clip, aug)``, so a sample is a pure
function of its key.

Robustness (train mode): a video that fails to open or decode is logged once
per process and replaced by another video chosen from ``(seed, epoch, index,
attempt)``, up to ``max_retries`` times; ``num_failed`` counts the failures.
Test mode raises :class:`~videossl.data.decoding.DecodeError` naming the file.
"""

import dataclasses
import logging
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch.utils.data import Dataset

from ..errors import DataError, InputError
from . import seeds
from .decoding import DecodeError, open_video
from .decoding.frames_reader import FrameFolderReader, list_frames
from .records import VideoRecord
from .sampling import sample_test_clip, sample_train_clips, union
from .transforms import ClipTransform
from .transforms.clip_aug import params_to_row
from .view_composition import check_composition, coclr_plan

logger = logging.getLogger(__name__)

_WARNED: set = set()  # files already reported by this process


def warn_once(path: str, err: Exception) -> None:
    if path not in _WARNED:
        _WARNED.add(path)
        logger.warning("skipping unreadable video (%s)", err)


def split_key(key: Union[int, Tuple[int, int]]) -> Tuple[int, int]:
    """``(epoch, index)`` from a sampler item (an int is epoch 0)."""
    if isinstance(key, (tuple, list)):
        return int(key[0]), int(key[1])
    return 0, int(key)


class VideoDataset(Dataset):
    """Videos of ``records`` as training samples or test views (see the module docstring).

    Args:
        records: the file list.
        mode: "train" (random clips + augmentation) or "test" (uniform clips, fixed crops).
        transform: crops/colour/normalisation.
        num_frames, sampling_rate, target_fps: clip = ``num_frames`` frames spanning
            ``sampling_rate * num_frames / target_fps`` seconds.
        num_clips: ρ, clips per video in train mode.
        num_augs: augmented views per clip in train mode.
        test_views, test_crops: views per video in test mode.
        jitter_fps: train: target fps + U[0, jitter_fps].
        min_gap, max_gap: train: gap bounds between sorted clips (frames).
        use_offset: test: PySlowFast's offset sampling.
        segment: TSN segment sampling instead of contiguous clips.
        use_flow: also return ``flow`` views (records need ``flow`` folders).
        seed: the run's RNG seed.
        max_retries: train: other videos tried after a failure.
        backend: "pyav" | "torchcodec".
        max_short_side: downscale on decode (None: keep the stored size).
        frame_fps: rate of frame-folder videos.
        name: the dataset's name, for messages.
        stream: "flow" returns the flow clips as ``views`` (evaluating a flow encoder).
        view_composition: train: "clips" (every clip x augmentation a fully augmented view) or
            "coclr" (CoCLR's TwoClip / OneClip, see ``view_composition.py``).
        defer_augmentation: train: return each view as its ``uint8 T x H x W x 3`` frames plus its
            drawn parameters (``view_params`` / ``flow_params`` rows) for the training step to
            augment (``DATA.AUGMENT_ON_DEVICE``, :mod:`videossl.data.transforms.on_device`).
    """

    def __init__(self, records: Sequence[VideoRecord], mode: str, transform: ClipTransform, *,
                 num_frames: int, sampling_rate: int, target_fps: float, num_clips: int = 1,
                 num_augs: int = 1, test_views: int = 1, test_crops: int = 1, jitter_fps: float = 0.0,
                 min_gap: float = -math.inf, max_gap: float = math.inf, use_offset: bool = False,
                 segment: bool = False, use_flow: bool = False, seed: int = 0, max_retries: int = 10,
                 backend: str = "pyav", max_short_side: Optional[int] = None, frame_fps: float = 30.0,
                 name: str = "", stream: str = "rgb", view_composition: str = "clips",
                 defer_augmentation: bool = False):
        if mode not in ("train", "test"):
            raise InputError(f"mode must be 'train' or 'test', got {mode!r}")
        if stream not in ("rgb", "flow"):
            raise InputError(f"DATA.INPUT_STREAM={stream!r} is not 'rgb' or 'flow'")
        if stream == "flow" and not use_flow:
            raise InputError("DATA.INPUT_STREAM flow needs DATA.USE_FLOW True (and flow folders)")
        if use_flow and any(r.flow is None for r in records):
            raise InputError(f"{name or 'dataset'}: DATA.USE_FLOW needs flow folders for every video "
                             "(set DATA.PATH_TO_FLOW_DIR)")
        check_composition(view_composition, num_clips, num_augs)
        self.records = list(records)
        self.mode = mode
        self.transform = transform
        self.num_frames = num_frames
        self.sampling_rate = sampling_rate
        self.target_fps = target_fps
        self.num_clips = num_clips
        self.num_augs = num_augs
        self.test_views = test_views
        self.test_crops = test_crops
        self.jitter_fps = jitter_fps
        self.min_gap, self.max_gap = min_gap, max_gap
        self.use_offset = use_offset
        self.segment = segment
        self.use_flow = use_flow
        self.seed = seed
        self.max_retries = max_retries
        self.backend = backend
        self.max_short_side = max_short_side
        self.frame_fps = frame_fps
        self.name = name
        self.stream = stream
        self.view_composition = view_composition
        self.defer_augmentation = defer_augmentation

    # -- the public attributes the engine uses ------------------------------------
    @property
    def labels(self) -> List[int]:
        return [r.label for r in self.records]

    @property
    def paths(self) -> List[str]:
        return [r.path for r in self.records]

    @property
    def source_ids(self) -> List[int]:
        return [r.source_id for r in self.records]

    @property
    def num_videos(self) -> int:
        return len(self.records)

    @property
    def views_per_video(self) -> int:
        return 1 if self.mode == "train" else self.test_views * self.test_crops

    def __len__(self) -> int:
        return self.num_videos * self.views_per_video

    # -- items --------------------------------------------------------------------
    def __getitem__(self, key) -> Dict:
        sample = self._item(key)
        if self.stream == "flow":  # the flow clips take the place of the RGB ones (evaluating a flow encoder)
            sample["views"] = sample.pop("flow")
            if "flow_params" in sample:
                sample["view_params"] = sample.pop("flow_params")
        return sample

    def _item(self, key) -> Dict:
        epoch, index = split_key(key)
        if self.mode == "test":
            return self._test_item(index)
        video, failed, last_err = index, 0, None
        for attempt in range(self.max_retries + 1):
            try:
                sample = self._train_item(epoch, index, video, attempt)
                sample["num_failed"] = failed
                return sample
            except DecodeError as err:
                warn_once(self.records[video].path, err)
                failed, last_err = failed + 1, err
                video = int(seeds.rng_for(self.seed, epoch, index, attempt, seeds.RETRY).integers(self.num_videos))
        raise DataError(
            f"{failed} videos in a row failed to decode (DATA_LOADER.MAX_RETRIES={self.max_retries}); "
            f"last: {last_err}; check the dataset with tools/check_dataset.py")

    def _open(self, record: VideoRecord):
        return open_video(record.path, self.backend, self.max_short_side, self.frame_fps)

    def _flow_reader(self, record: VideoRecord) -> FrameFolderReader:
        names = [n for n in list_frames(record.flow) if n.startswith("flow_")] if os.path.isdir(record.flow) else []
        if not names:
            raise DecodeError(f"no flow frames in {record.flow}")
        return FrameFolderReader(record.flow, fps=1.0, frames=names)

    def _train_item(self, epoch: int, index: int, video: int, attempt: int) -> Dict:
        record = self.records[video]
        with self._open(record) as reader:
            n = reader.num_frames
            rng = seeds.rng_for(self.seed, epoch, index, attempt, seeds.TEMPORAL)
            clips, _ = sample_train_clips(
                rng, n, reader.fps, num_frames=self.num_frames, sampling_rate=self.sampling_rate,
                target_fps=self.target_fps, num_clips=self.num_clips, jitter_fps=self.jitter_fps,
                min_gap=self.min_gap, max_gap=self.max_gap, segment=self.segment)
            needed = union(clips)
            frames = reader.read(needed)  # the one decode of this sample
        pos = {int(i): k for k, i in enumerate(needed)}
        flow_frames = self._flow_reader(record).read(needed) if self.use_flow else None
        views, flows, view_rows, flow_rows = [], [], [], []
        height, width = frames.shape[1:3]
        for v, (c, color) in enumerate(self._view_plan(epoch, index, attempt)):
            sel = [pos[int(i)] for i in clips[c]]
            params = self.transform.sample_train(
                seeds.rng_for(self.seed, epoch, index, attempt, seeds.SPATIAL, *divmod(v, self.num_augs)),
                height, width)
            if not color:
                params = dataclasses.replace(params, color=None)
            fclip = take_frames(flow_frames, sel) if flow_frames is not None else None
            fparams = scale_params(params, frames, fclip) if fclip is not None else None
            if self.defer_augmentation:
                views.append(take_frames(frames, sel))
                view_rows.append(params_to_row(params, height, width))
                if fclip is not None:
                    flows.append(fclip)
                    flow_rows.append(params_to_row(self.transform.flow_params(fparams), *fclip.shape[1:3]))
                continue
            views.append(self.transform.apply(take_frames(frames, sel), params))
            if fclip is not None:
                flows.append(self.transform.apply(fclip, fparams, is_flow=True))
        sample = self._sample(views, video, 0, 0)
        if self.use_flow:
            sample["flow"] = flows
        if self.defer_augmentation:
            sample["view_params"] = view_rows
            if self.use_flow:
                sample["flow_params"] = flow_rows
        return sample

    def _view_plan(self, epoch: int, index: int, attempt: int) -> List[Tuple[int, bool]]:
        """``(clip, colour on)`` for each training view, in output order.

        View ``v`` draws its crop, flip and colour from the spatial stream
        ``divmod(v, num_augs)``, which is ``(clip, aug)`` in the default
        clip-major order.
        """
        if self.view_composition == "coclr":
            return list(coclr_plan(seeds.rng_for(self.seed, epoch, index, attempt, seeds.COMPOSE)))
        return [(c, True) for c in range(self.num_clips) for _ in range(self.num_augs)]

    def _test_item(self, index: int) -> Dict:
        per_video = self.test_views * self.test_crops
        video, clip_idx, crop_idx = index // per_video, (index // self.test_crops) % self.test_views, \
            index % self.test_crops
        record = self.records[video]
        with self._open(record) as reader:
            idx = sample_test_clip(reader.num_frames, reader.fps, clip_idx, self.test_views,
                                   num_frames=self.num_frames, sampling_rate=self.sampling_rate,
                                   target_fps=self.target_fps, use_offset=self.use_offset,
                                   segment=self.segment)
            frames = reader.read(idx)
        params = self.transform.test_params(frames.shape[1], frames.shape[2], crop_idx, self.test_crops)
        size = self.transform.test_size
        sample = self._sample([self.transform.apply(frames, params, size=size)], video, clip_idx, crop_idx)
        if self.use_flow:
            fframes = self._flow_reader(record).read(idx)
            sample["flow"] = [self.transform.apply(fframes, scale_params(params, frames, fframes), size=size,
                                                   is_flow=True)]
        sample["num_failed"] = 0
        return sample

    def _sample(self, views: List[torch.Tensor], video: int, clip_idx: int, crop_idx: int) -> Dict:
        record = self.records[video]
        return {
            "views": views,
            "label": record.label,
            "index": video,
            "source_id": record.source_id,
            "meta": {"video_idx": video, "clip_idx": clip_idx, "crop_idx": crop_idx},
        }


def take_frames(frames: torch.Tensor, positions: Sequence[int]) -> torch.Tensor:
    """``frames[positions]``: a strided view when the positions are evenly spaced (a clip of the
    decoded union usually is), else a copy."""
    step = positions[1] - positions[0] if len(positions) > 1 else 1
    if step > 0 and all(b - a == step for a, b in zip(positions, positions[1:])):
        return frames[positions[0]:positions[-1] + 1:step]
    return frames.index_select(0, torch.as_tensor(positions))


def scale_params(params, frames: torch.Tensor, other: torch.Tensor):
    """``params`` with its box rescaled from ``frames``' size to ``other``'s (flow stored at another size)."""
    h, w = frames.shape[1:3]
    oh, ow = other.shape[1:3]
    if (h, w) == (oh, ow):
        return params
    top, left, bh, bw = params.box
    sy, sx = oh / h, ow / w
    box = (int(round(top * sy)), int(round(left * sx)), max(int(round(bh * sy)), 1), max(int(round(bw * sx)), 1))
    return dataclasses.replace(params, box=box)
