"""The built-in synthetic dataset: generated once, stored as real H.264 files + Kinetics CSVs.

``ensure_synthetic(settings)`` returns a directory holding::

    videos/{train,test}/cCC_NNN.mp4     H.264 (yuv420p, keyframe every 16 frames)
    flow/{train,test}/cCC_NNN/flow_%05d.jpg   (only with write_flow; CoCLR encoding, see flow.py)
    train.csv  val.csv  test.csv        "train/c03_007.mp4 3" (paths relative to videos/;
                                        val.csv = test.csv = the test split)
    settings.json                       what was generated (its hash names the directory)

The data are then read like any Kinetics-style dataset.  Generation is
deterministic in the settings (video ``(split, class, i)`` uses its own RNG
stream of ``SYNTHETIC.SEED``), atomic (written to a temporary directory and
renamed into place) and safe when several processes start at once (a file
lock serialises them; the loser of a race just uses the winner's copy).

Location: ``SYNTHETIC.ROOT`` if set, else ``$VIDEOSSL_CACHE/synthetic-<hash>``,
else ``~/.cache/videossl/synthetic-<hash>``.  See ``synthetic_render.py`` for
what the videos show.
"""

import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
from typing import Optional

from ..errors import InputError
from . import seeds
from .flow import FLOW_TEMPLATE, write_flow_jpeg
from .write_once import write_once
from .synthetic_render import SENSOR_NOISE, class_table, render_video
from .video_writer import write_video

VERSION = 2  # bump when the generator's output changes

# Known caveat: frames are rendered deterministically and a fresh process generating serially
# usually writes the same bytes for the same settings (the tests compare decoded frames, as about
# one fresh generation in five differed), and an occasional file encodes differently once the
# process has encoded other videos (libx264 or swscale appears to
# read uninitialised memory past a small frame's planes; the decoded frames then differ by codec
# noise).  Pool workers take jobs in a load-dependent order, so two generations of a large set can
# differ in a few files.  The cache is generated once and reused, so a run's data stay fixed.
_SPLITS = {"train": 0, "test": 1}


@dataclasses.dataclass(frozen=True)
class SyntheticSettings:
    """The ``SYNTHETIC.*`` keys that determine the data."""

    num_classes: int = 8
    train_per_class: int = 24
    test_per_class: int = 8
    num_frames: int = 32
    size: int = 64
    seed: int = 0
    fps: float = 30.0
    write_flow: bool = False
    background_texture: float = 1.0
    colour_variation: float = 1.0
    sensor_noise: float = SENSOR_NOISE
    illumination_gradient: float = 0.0
    object_glow: float = 0.0

    # Fields added after VERSION 2 whose default reproduces VERSION 2's output: left out of the
    # digest at their default, so existing caches stay valid.
    _DIGEST_OPTIONAL = {"background_texture": 1.0, "colour_variation": 1.0, "sensor_noise": SENSOR_NOISE,
                        "illumination_gradient": 0.0, "object_glow": 0.0}

    def __post_init__(self):
        if self.background_texture < 0:
            raise InputError(f"SYNTHETIC.BACKGROUND_TEXTURE={self.background_texture} must be >= 0")
        if not 0 <= self.colour_variation <= 1:
            raise InputError(f"SYNTHETIC.COLOUR_VARIATION={self.colour_variation} must be in [0, 1]")
        if self.sensor_noise < 0:
            raise InputError(f"SYNTHETIC.SENSOR_NOISE={self.sensor_noise} must be >= 0")
        if not 0 <= self.illumination_gradient < math.sqrt(2):
            raise InputError(f"SYNTHETIC.ILLUMINATION_GRADIENT={self.illumination_gradient} must be in [0, 1.41) "
                             "(at sqrt(2) the darkest corner gets no light)")
        if not 0 <= self.object_glow <= 1:
            raise InputError(f"SYNTHETIC.OBJECT_GLOW={self.object_glow} must be in [0, 1]")
        if self.size % 16 or self.size < 16:
            raise InputError(f"SYNTHETIC.SIZE={self.size} must be a multiple of 16 (H.264 macroblocks; "
                             "other sizes do not encode reproducibly)")

    def digest(self) -> str:
        fields = {k: v for k, v in dataclasses.asdict(self).items()
                  if k not in self._DIGEST_OPTIONAL or v != self._DIGEST_OPTIONAL[k]}
        if self.colour_variation != 1.0 and self.background_texture > 0:
            fields["grey_gratings"] = True  # these videos changed (gratings kept on grey): not an old cache
        blob = json.dumps({**fields, "version": VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def default_root(settings: SyntheticSettings) -> str:
    base = os.environ.get("VIDEOSSL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "videossl")
    return os.path.join(base, f"synthetic-{settings.digest()}")


def _complete(root: str, settings: SyntheticSettings) -> bool:
    try:
        with open(os.path.join(root, "settings.json")) as f:
            return json.load(f).get("digest") == settings.digest()
    except (OSError, ValueError):
        return False


def ensure_synthetic(settings: SyntheticSettings, root: Optional[str] = None) -> str:
    """Generate the dataset unless a complete copy exists; return its directory.

    Raises:
        ValueError: ``root`` holds a synthetic dataset generated with other settings.
    """
    root = os.path.abspath(root or default_root(settings))
    if _complete(root, settings):
        return root
    if os.path.exists(os.path.join(root, "settings.json")):
        raise InputError(f"{root} holds a synthetic dataset with other SYNTHETIC settings; "
                         "use another SYNTHETIC.ROOT or delete it")
    return write_once(root, lambda r: _complete(r, settings), lambda tmp: generate(settings, tmp))


def _write_one(job) -> str:
    """Render and write video ``(split, label, i)``; returns its CSV row."""
    settings, out, split, label, i = job
    shape, motion = class_table(settings.num_classes)[label]
    name = f"c{label:02d}_{i:03d}"
    rng = seeds.rng_for(settings.seed, _SPLITS[split], label, i)
    frames, flow = render_video(rng, shape, motion, settings.num_frames, settings.size,
                                with_flow=settings.write_flow, texture=settings.background_texture,
                                colour_variation=settings.colour_variation, sensor_noise=settings.sensor_noise,
                                illumination_gradient=settings.illumination_gradient,
                                object_glow=settings.object_glow)
    rel = os.path.join(split, name + ".mp4")  # CSV paths are relative to videos/
    write_video(os.path.join(out, "videos", rel), frames, fps=settings.fps, gop=16, crf=18)
    if flow is not None:
        fdir = os.path.join(out, "flow", split, name)
        os.makedirs(fdir)
        for k, f in enumerate(flow):
            write_flow_jpeg(os.path.join(fdir, FLOW_TEMPLATE.format(k + 1)), f)
    return f"{rel} {label}"


def generate(settings: SyntheticSettings, out: str, workers: Optional[int] = None) -> None:
    """Write every video, flow folder, CSV and ``settings.json`` into ``out``.

    ``workers``: processes to render with (default: the CPU count, serial for
    small sets); the output does not depend on it.
    """
    table = class_table(settings.num_classes)
    jobs = {"train": [], "test": []}
    for split, per_class in (("train", settings.train_per_class), ("test", settings.test_per_class)):
        os.makedirs(os.path.join(out, "videos", split), exist_ok=True)
        jobs[split] = [(settings, out, split, label, i) for label in range(len(table)) for i in range(per_class)]
    all_jobs = jobs["train"] + jobs["test"]
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers > 1 and len(all_jobs) >= 32:
        # "spawn", not "fork": the caller has usually started torch's threads already, and a
        # forked child can inherit a lock held by one of them and hang.
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            rows = pool.map(_write_one, all_jobs, chunksize=8)
    else:
        rows = [_write_one(job) for job in all_jobs]
    by_split = {"train": rows[:len(jobs["train"])], "test": rows[len(jobs["train"]):]}
    for name, split in (("train", "train"), ("val", "test"), ("test", "test")):
        with open(os.path.join(out, f"{name}.csv"), "w") as f:
            f.write("\n".join(by_split[split]) + "\n")
    with open(os.path.join(out, "classes.json"), "w") as f:
        json.dump([{"label": k, "shape": s, "motion": m} for k, (s, m) in enumerate(table)], f, indent=1)
    with open(os.path.join(out, "settings.json"), "w") as f:
        json.dump({**dataclasses.asdict(settings), "version": VERSION, "digest": settings.digest()}, f, indent=1)


def settings_from_cfg(cfg) -> SyntheticSettings:
    s = cfg.SYNTHETIC
    return SyntheticSettings(int(s.NUM_CLASSES), int(s.TRAIN_PER_CLASS), int(s.TEST_PER_CLASS),
                             int(s.NUM_FRAMES), int(s.SIZE), int(s.SEED), float(s.FPS), bool(s.WRITE_FLOW),
                             float(s.BACKGROUND_TEXTURE), float(s.COLOUR_VARIATION), float(s.SENSOR_NOISE),
                             float(s.ILLUMINATION_GRADIENT), float(s.OBJECT_GLOW))


def build_synthetic_root(cfg) -> str:
    """Generate (if needed) the dataset ``cfg.SYNTHETIC`` describes; return its directory."""
    settings = settings_from_cfg(cfg)
    return ensure_synthetic(settings, cfg.SYNTHETIC.ROOT or None)
