"""Decoding real-world files: all 300 clips of /work/shared/data/fight-surveillance (odd sizes, rates, audio).

Every clip must yield one clip of the requested shape through the normal
dataset path, with PyAV and (when importable) torchcodec; a file that
cannot be decoded would be a counted, reported skip (none is expected).
"""

import glob
import os
import time

import pytest
import torch

from videossl.config import get_cfg
from videossl.data import build_dataset, build_loader
from videossl.data.decoding import DecodeError

ROOT = os.environ.get("VIDEOSSL_FIGHT_DIR", "/work/shared/data/fight-surveillance")


@pytest.fixture(scope="module")
def fight_dir(tmp_path_factory):
    files = sorted(glob.glob(os.path.join(ROOT, "*", "*.mp4")))
    if not files:
        pytest.skip(f"real clips not found in {ROOT} (set VIDEOSSL_FIGHT_DIR)")
    d = tmp_path_factory.mktemp("fight")
    with open(d / "test.csv", "w") as f:
        for path in files:
            f.write(f"{path} {int(os.path.basename(os.path.dirname(path)) == 'fight')}\n")
    return str(d), len(files)


def _cfg(data_dir, backend):
    cfg = get_cfg()
    cfg.TEST.DATASET = "kinetics"
    cfg.DATA.PATH_TO_DATA_DIR = data_dir
    cfg.DATA.DECODING_BACKEND = backend
    cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE, cfg.DATA.TEST_CROP_SIZE = 4, 4, 48
    cfg.DATA.DECODE_MAX_SHORT_SIDE = 64  # 1080p files are scaled down while decoding
    cfg.TEST.NUM_ENSEMBLE_VIEWS, cfg.TEST.NUM_SPATIAL_CROPS = 1, 1
    cfg.DATA_LOADER.NUM_WORKERS = 2
    return cfg


class _Counted(torch.utils.data.Dataset):
    """Item i of ``ds``, or the error message of a file that fails (a counted skip)."""

    def __init__(self, ds, items):
        self.ds, self.items = ds, items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, k):
        try:
            return self.ds[self.items[k]]["views"][0]
        except DecodeError as err:
            return str(err)


# PyAV: the centre clip (a seek into the file); torchcodec: the first clip (it decodes at full
# resolution before resizing, so a centre clip of the 1080p files would take too long here)
@pytest.mark.parametrize("backend,views,first", [("pyav", 1, 0), ("torchcodec", 2, 0)])
def test_every_real_clip_decodes(fight_dir, backend, views, first):
    if backend == "torchcodec":
        from videossl.data.decoding.torchcodec_reader import torchcodec_available

        if not torchcodec_available():
            pytest.skip("torchcodec is not importable")
    data_dir, n = fight_dir
    cfg = _cfg(data_dir, backend)
    cfg.TEST.NUM_ENSEMBLE_VIEWS = views
    ds = build_dataset(cfg, "test")
    assert ds.num_videos == n == 300
    skipped, seen = [], 0
    start = time.time()
    items = list(range(first, len(ds), views))
    loader = torch.utils.data.DataLoader(_Counted(ds, items), batch_size=None, num_workers=2)
    for view in loader:  # one sample per item: a bad file is a counted skip, not a failed batch
        if isinstance(view, str):
            skipped.append(view)
            continue
        assert view.shape == (3, 4, 48, 48) and torch.isfinite(view).all()
        seen += 1
    assert seen + len(skipped) == n
    assert not skipped, f"{len(skipped)} real clips failed: {skipped[:3]}"
    assert time.time() - start < 120


def test_real_clips_through_the_train_loader(fight_dir):
    data_dir, _ = fight_dir
    cfg = _cfg(data_dir, "pyav")
    cfg.TRAIN.DATASET = "kinetics"
    cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.TRAIN_JITTER_SCALES = 40, [48, 64]
    cfg.DATA.TRAIN_CROP_NUM_TEMPORAL = 2
    os.symlink(os.path.join(data_dir, "test.csv"), os.path.join(data_dir, "train.csv"))
    ds = build_dataset(cfg, "train")
    ds.records = ds.records[::10]  # 30 clips, ρ = 2
    batches = list(build_loader(cfg, ds, train=True, batch_size=6))
    assert len(batches) == 5
    assert all(len(b["views"]) == 2 and b["views"][0].shape == (6, 3, 4, 40, 40) for b in batches)
    assert sum(int(b["num_failed"].sum()) for b in batches) == 0


def test_skipping_nonreference_pictures_changes_no_frame_of_a_real_clip():
    """A third of the real clips, a stride-4 clip and a sparse set of frames: the reader that skips unneeded
    H.264 non-reference pictures returns the same bytes as the one that decodes every packet."""
    import numpy as np

    from videossl.data.decoding.pyav_reader import PyAVReader

    files = sorted(glob.glob(os.path.join(ROOT, "*", "*.mp4")))[::3]
    if not files:
        pytest.skip(f"real clips not found in {ROOT} (set VIDEOSSL_FIGHT_DIR)")
    rng = np.random.default_rng(0)
    skipped = decoded = 0
    for path in files:
        plain, fast = PyAVReader(path, max_short_side=64, skip_nonref=False), PyAVReader(path, max_short_side=64)
        n = plain.num_frames
        start = int(rng.integers(0, max(n - 16, 1)))
        idx = sorted(set(range(start, start + 16, 4)) | set(int(i) for i in rng.integers(0, n, 3)))
        assert torch.equal(plain.read(idx), fast.read(idx)), path
        skipped, decoded = skipped + fast.packets_skipped, decoded + fast.packets_decoded
        plain.close()
        fast.close()
    assert skipped > 0.15 * (skipped + decoded)  # about a third of these files' pictures are non-reference
