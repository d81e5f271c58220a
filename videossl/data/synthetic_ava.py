"""A synthetic AVA: several moving actors per video, each with a box track and persistent actions,
written in PySlowFast's AVA layout (frame folders, frame lists, box files, label map, proposals).

Every actor is a shape of the synthetic set (:mod:`videossl.data.synthetic_render`)
moving in its own slot of the frame. Its **actions** persist for the whole
video: its motion (:data:`ACTIONS` 1-5: linear, rotation, zoom, oscillation,
circular) and, for some actors, ``pulsing`` (6: its brightness beats with a
period of 10 frames). The shape is a nuisance, not a label. A keyframe's
ground-truth box of an actor is the bounding box of its rendered mask on that
frame. **Proposals** (what a person detector would give) are the ground-truth
boxes with their corners jittered (std 8% of the box's size) and scores in [0.8, 1], plus false positives (random boxes
with scores in [0.3, 0.95]), so a model must learn to rank them.

The timeline follows AVA: keyframe second ``s`` (from 902) is frame
``(s - 900) * 30`` of a 30 fps frame list (:func:`~videossl.data.lists.ava.sec_to_frame`).
"""

import math
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .lists.ava import FPS, sec_to_frame
from .synthetic_render import SHAPES, _sdf, trajectory

ACTIONS = ("linear", "rotation", "zoom", "oscillation", "circular", "pulsing")  # action id = index + 1
PULSING = len(ACTIONS)
FIRST_KEYFRAME_SEC = 902
LABEL_MAP = "ava_action_list_v2.2_for_activitynet_2019.pbtxt"
EXCLUDED = "ava_val_excluded_timestamps_v2.2.csv"


@dataclass(frozen=True)
class SyntheticAvaSettings:
    """What the synthetic AVA holds (small defaults: a CPU finetune in minutes)."""

    num_videos: int = 16  # even videos train, odd videos val
    num_keyframes: int = 4  # seconds 902 .. 902 + num_keyframes - 1
    height: int = 48
    width: int = 64
    min_actors: int = 2
    max_actors: int = 3
    pulse_prob: float = 0.5
    proposal_jitter: float = 0.08  # std of the proposal box corners, in fractions of the box's size
    false_positives: int = 1  # per keyframe
    seed: int = 0


@dataclass
class ActorVideo:
    """One rendered video: frames, per-actor masks and labels."""

    frames: np.ndarray  # uint8 T x H x W x 3
    masks: np.ndarray  # bool A x T x H x W
    labels: List[Tuple[int, ...]]  # action ids of each actor

    def box(self, actor: int, frame: int) -> Tuple[float, float, float, float]:
        """Normalised ``x1, y1, x2, y2`` bounding box of ``actor``'s mask on ``frame``."""
        ys, xs = np.nonzero(self.masks[actor, frame])
        h, w = self.masks.shape[2:]
        return xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h


def render_actors(rng: np.random.Generator, num_frames: int, height: int, width: int, num_actors: int,
                  pulse_prob: float = 0.5) -> ActorVideo:
    """Render ``num_actors`` actors, each in its own vertical slot, on a plain grey background with noise."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    img = np.full((num_frames, height, width), 0.3, dtype=np.float32)
    slot = width / num_actors
    side = min(slot, height)
    masks, labels = [], []
    t = np.arange(num_frames, dtype=np.float32)
    for a in range(num_actors):
        motion = int(rng.integers(0, 5))
        pulse = bool(rng.uniform() < pulse_prob)
        shape = SHAPES[int(rng.integers(0, 4))]
        radius = float(rng.uniform(0.18, 0.24) * side)
        traj = trajectory(rng, ACTIONS[motion], num_frames, int(side), radius)
        cx = (traj.centre[:, 0] + a * slot + (slot - side) / 2).astype(np.float32)[:, None, None]
        cy = (traj.centre[:, 1] + (height - side) / 2).astype(np.float32)[:, None, None]
        r = (radius * traj.scale).astype(np.float32)[:, None, None]
        ca = np.cos(traj.angle).astype(np.float32)[:, None, None]
        sa = np.sin(traj.angle).astype(np.float32)[:, None, None]
        px, py = xx[None] - cx, yy[None] - cy
        alpha = np.clip(0.5 - _sdf(shape, (ca * px + sa * py) / r, (-sa * px + ca * py) / r) * r, 0, 1)
        level = float(rng.uniform(0.7, 0.9))
        if pulse:
            level = level * (0.75 + 0.25 * np.sin(2 * math.pi * t / 10.0 + rng.uniform(0, 2 * math.pi)))
        level = np.broadcast_to(np.asarray(level, dtype=np.float32), (num_frames,))[:, None, None]
        img = img * (1 - alpha) + level * alpha
        masks.append(alpha > 0.5)
        labels.append((motion + 1, PULSING) if pulse else (motion + 1,))
    img = img + 0.012 * rng.standard_normal(img.shape, dtype=np.float32)
    frames = np.repeat(np.clip(np.round(img * 255), 0, 255).astype(np.uint8)[..., None], 3, axis=3)
    return ActorVideo(frames, np.stack(masks), labels)


def _proposals(rng: np.random.Generator, gt: Sequence[Tuple[float, ...]], s: SyntheticAvaSettings):
    out = []
    for box in gt:
        w, h = box[2] - box[0], box[3] - box[1]
        b = np.clip(np.asarray(box) + rng.normal(0, s.proposal_jitter, 4) * np.array([w, h, w, h]), 0, 1)
        out.append((min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3]), rng.uniform(0.8, 1.0)))
    for _ in range(s.false_positives):
        x1, y1 = rng.uniform(0, 0.7, 2)
        w, h = rng.uniform(0.15, 0.3, 2)
        out.append((x1, y1, min(x1 + w, 1.0), min(y1 + h, 1.0), rng.uniform(0.3, 0.95)))
    return out


def write_synthetic_ava(settings: SyntheticAvaSettings, root: str) -> Dict[str, str]:
    """Render and write the dataset under ``root``; returns the paths of its parts.

    ``root/frames/<vid>/<vid>_%06d.jpg`` (1-based, PySlowFast's naming),
    ``root/frame_lists/{train,val}.csv``, ``root/annotations/`` with
    ``ava_{train,val}_v2.2.csv`` (ground truth), ``ava_{train,val}_predicted_boxes.csv``
    (proposals), the label map and the excluded timestamps (the last keyframe
    of the first val video).
    """
    from PIL import Image

    s = settings
    rng = np.random.default_rng(s.seed)
    secs = list(range(FIRST_KEYFRAME_SEC, FIRST_KEYFRAME_SEC + s.num_keyframes))
    num_frames = sec_to_frame(secs[-1]) + 2 * FPS  # two seconds past the last keyframe (a 64-frame clip fits)
    paths = {k: os.path.join(root, k) for k in ("frames", "frame_lists", "annotations")}
    for p in paths.values():
        os.makedirs(p, exist_ok=True)
    lists = {"train": ["original_vido_id video_id frame_id path labels"],
             "val": ["original_vido_id video_id frame_id path labels"]}
    gt = {"train": [], "val": []}
    pred = {"train": [], "val": []}
    excluded = []
    for v in range(s.num_videos):
        split = "train" if v % 2 == 0 else "val"
        name = f"synth{v:03d}"
        video = render_actors(rng, num_frames, s.height, s.width,
                              int(rng.integers(s.min_actors, s.max_actors + 1)), s.pulse_prob)
        os.makedirs(os.path.join(paths["frames"], name), exist_ok=True)
        for f in range(num_frames):
            rel = f"{name}/{name}_{f + 1:06d}.jpg"
            Image.fromarray(video.frames[f]).save(os.path.join(paths["frames"], rel), quality=95)
            lists[split].append(f'{name} {v} {f} {rel} ""')
        for sec in secs:
            frame = sec_to_frame(sec)
            boxes = [video.box(a, frame) for a in range(len(video.labels))]
            for person, (box, actions) in enumerate(zip(boxes, video.labels)):
                for action in actions:
                    gt[split].append(f"{name},{sec:04d}," + ",".join(f"{c:.3f}" for c in box) + f",{action},{person}")
            for *box, score in _proposals(rng, boxes, s):
                pred[split].append(f"{name},{sec:04d}," + ",".join(f"{c:.3f}" for c in box) + f",,{score:.4f}")
        if split == "val" and not excluded:
            excluded.append(f"{name},{secs[-1]:04d}")
    ann = paths["annotations"]
    for split in ("train", "val"):
        _write_lines(os.path.join(paths["frame_lists"], f"{split}.csv"), lists[split])
        _write_lines(os.path.join(ann, f"ava_{split}_v2.2.csv"), gt[split])
        _write_lines(os.path.join(ann, f"ava_{split}_predicted_boxes.csv"), pred[split])
    _write_lines(os.path.join(ann, EXCLUDED), excluded)
    _write_lines(os.path.join(ann, LABEL_MAP),
                 [f'item {{\n  name: "{a}"\n  id: {i + 1}\n}}' for i, a in enumerate(ACTIONS)])
    return paths


def _write_lines(path: str, lines: Sequence[str]) -> None:
    with open(path, "w") as f:
        f.write("\n".join(lines) + ("\n" if lines else ""))


def settings_from_cfg(cfg) -> SyntheticAvaSettings:
    """The synthetic AVA of a config: the defaults, with ``RNG_SEED``-independent data (seed 0)."""
    return SyntheticAvaSettings()


def ensure_synthetic_ava(settings: SyntheticAvaSettings, root: Optional[str] = None) -> str:
    """Write the synthetic AVA once into ``root`` (default: the cache, keyed by the settings); return it."""
    import hashlib
    import json
    from dataclasses import asdict

    from .write_once import write_once

    digest = hashlib.sha256(json.dumps({**asdict(settings), "version": 1}, sort_keys=True).encode()).hexdigest()[:12]
    base = os.environ.get("VIDEOSSL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "videossl")
    root = os.path.abspath(root or os.path.join(base, f"synthetic_ava-{digest}"))

    def write(tmp: str) -> None:
        write_synthetic_ava(settings, tmp)
        with open(os.path.join(tmp, "settings.json"), "w") as f:
            json.dump({**asdict(settings), "digest": digest}, f)

    return write_once(root, lambda r: os.path.isfile(os.path.join(r, "settings.json")), write)
