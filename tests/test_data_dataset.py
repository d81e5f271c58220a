"""Datasets and loaders: one decode per sample, rho clips, test views, determinism, resume, robustness."""

import logging
import os

import numpy as np
import pytest
import torch

from videossl.config import get_cfg
from videossl.data import build_dataset, build_loader
from videossl.data.decoding import DecodeError
from videossl.data.decoding.pyav_reader import PyAVReader
from videossl.data.fixtures import STEP, make_kinetics
from videossl.data.loader import TrainSampler


@pytest.fixture(scope="module")
def k400(tmp_path_factory):
    return make_kinetics(str(tmp_path_factory.mktemp("k400")), labels=(0, 1, 2, 0, 1, 2, 0, 1), num_frames=40)


def _cfg(data_dir, **over):
    cfg = get_cfg()
    opts = {
        "DATA.PATH_TO_DATA_DIR": data_dir, "DATA.NUM_FRAMES": 4, "DATA.SAMPLING_RATE": 2,
        "DATA.TRAIN_CROP_SIZE": 24, "DATA.TEST_CROP_SIZE": 32, "DATA.TRAIN_JITTER_SCALES": [32, 40],
        "DATA_LOADER.NUM_WORKERS": 0, "RNG_SEED": 3, "TEST.NUM_ENSEMBLE_VIEWS": 2, "TEST.NUM_SPATIAL_CROPS": 3,
    }
    opts.update(over)
    for k, v in opts.items():
        node = cfg
        *parents, leaf = k.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = v
    return cfg


def _frame_ids(view, mean=0.0, std=1.0):
    """Frame numbers of a C x T x H x W view of numbered frames (median grey level per frame)."""
    levels = (view * std + mean).mul(255).flatten(2).median(dim=2).values.mean(0)
    return [int(round((float(v) - 2) / STEP)) for v in levels]


def test_train_sample_decodes_once_and_cuts_rho_clips(k400, monkeypatch):
    calls = {"open": 0, "read": 0}
    orig_init, orig_read = PyAVReader.__init__, PyAVReader.read

    def init(self, *a, **k):
        calls["open"] += 1
        orig_init(self, *a, **k)

    def read(self, idx):
        calls["read"] += 1
        return orig_read(self, idx)

    monkeypatch.setattr(PyAVReader, "__init__", init)
    monkeypatch.setattr(PyAVReader, "read", read)
    cfg = _cfg(k400, **{"DATA.TRAIN_CROP_NUM_TEMPORAL": 3, "DATA.TRAIN_CROP_NUM_SPATIAL": 2,
                        "DATA.MEAN": [0.0] * 3, "DATA.STD": [1.0] * 3,
                        "CONTRASTIVE.DELTA_CLIPS_MIN": 2, "CONTRASTIVE.DELTA_CLIPS_MAX": 12})
    ds = build_dataset(cfg, "train")
    for key in [(0, 0), (1, 5), (2, 3)]:
        calls.update(open=0, read=0)
        sample = ds[key]
        assert calls == {"open": 1, "read": 1}
        views = sample["views"]
        assert len(views) == 6 and all(v.shape == (3, 4, 24, 24) for v in views)
        offset = sample["index"]  # video k's frame i shows number i + k
        clips = [[f - offset for f in _frame_ids(views[2 * c])] for c in range(3)]
        for c in range(3):
            assert _frame_ids(views[2 * c + 1]) == _frame_ids(views[2 * c])  # both crops: same frames
            # linspace(start, start + 7, 4) of a fractional start: steps of 2-3 frames spanning 6-7
            assert set(np.diff(clips[c]).tolist()) <= {2, 3} and clips[c][-1] - clips[c][0] in (6, 7)
        starts = sorted(c[0] for c in clips)
        gaps = np.diff(starts) - 7  # clip of 8 native frames: end = start + 7
        assert ((gaps >= 2 - 1) & (gaps <= 12 + 1)).all(), (clips, gaps)  # integer rounding of starts


def test_items_depend_only_on_seed_epoch_index(k400):
    cfg = _cfg(k400, **{"DATA.TRAIN_CROP_NUM_TEMPORAL": 2, "DATA.SSL_COLOR_JITTER": True,
                        "DATA.SSL_MOCOV2_AUG": True, "DATA.COLOR_RND_GRAYSCALE": 0.2})
    a, b = build_dataset(cfg, "train"), build_dataset(cfg, "train")
    torch.manual_seed(0)
    x = a[(1, 4)]
    torch.manual_seed(123)
    np.random.seed(5)
    y = b[(1, 4)]
    for u, v in zip(x["views"], y["views"]):
        assert torch.equal(u, v)
    z = a[(2, 4)]
    assert not torch.equal(x["views"][0], z["views"][0])
    assert torch.equal(a[4]["views"][0], a[(0, 4)]["views"][0])  # an int key is epoch 0


def test_test_mode_enumerates_views_and_crops(k400):
    cfg = _cfg(k400, **{"DATA.MEAN": [0.0] * 3, "DATA.STD": [1.0] * 3})
    ds = build_dataset(cfg, "test")
    assert ds.num_videos == 8 and len(ds) == 8 * 2 * 3
    seen = set()
    for i in range(len(ds)):
        s = ds[i]
        m = s["meta"]
        seen.add((m["video_idx"], m["clip_idx"], m["crop_idx"]))
        assert len(s["views"]) == 1 and s["views"][0].shape == (3, 4, 32, 32)
        assert s["index"] == m["video_idx"] == i // 6
    assert seen == {(v, c, k) for v in range(8) for c in range(2) for k in range(3)}
    # clip 0 of 2 starts at 0, clip 1 at delta / 2 = (40 - 8) / 2; the crops differ in place only
    first = [_frame_ids(ds[i]["views"][0])[0] - 2 for i in (12, 15)]
    assert first == [0, 16]
    crops = [ds[12 + k]["views"][0] for k in range(3)]
    assert not torch.equal(crops[0], crops[2])
    assert _frame_ids(crops[0]) == _frame_ids(crops[2])


def test_loader_is_reproducible_and_resumes_mid_epoch(k400):
    cfg = _cfg(k400, **{"DATA.TRAIN_CROP_NUM_TEMPORAL": 2})
    ds = build_dataset(cfg, "train")
    full = list(build_loader(cfg, ds, train=True, batch_size=2, epoch=1))
    assert len(full) == 4
    cfg2 = _cfg(k400, **{"DATA.TRAIN_CROP_NUM_TEMPORAL": 2, "DATA_LOADER.NUM_WORKERS": 2})
    again = list(build_loader(cfg2, build_dataset(cfg2, "train"), train=True, batch_size=2, epoch=1))
    resumed = list(build_loader(cfg, ds, train=True, batch_size=2, epoch=1, start_iter=2))
    assert len(resumed) == 2
    for a, b in zip(full, again):
        assert torch.equal(a["index"], b["index"]) and torch.equal(a["views"][1], b["views"][1])
    for a, b in zip(full[2:], resumed):
        assert torch.equal(a["index"], b["index"]) and torch.equal(a["views"][0], b["views"][0])
    other = list(build_loader(cfg, ds, train=True, batch_size=2, epoch=2))
    assert [b["index"].tolist() for b in other] != [b["index"].tolist() for b in full]
    batch = full[0]
    assert batch["views"][0].shape == (2, 3, 4, 24, 24) and batch["label"].dtype == torch.long
    assert set(batch["meta"]) == {"video_idx", "clip_idx", "crop_idx"}
    assert torch.equal(batch["source_id"], batch["index"]) and batch["num_failed"].tolist() == [0, 0]


def test_samplers_split_ranks_like_distributed_sampler():
    parts = [TrainSampler(10, seed=1, epoch=0, rank=r, world=3).items for r in range(3)]
    assert all(len(p) == 4 for p in parts)  # padded to 12
    assert set(sum(parts, [])) == set(range(10))
    eval_ds = list(range(7))
    cfg = get_cfg()
    cfg.DATA_LOADER.NUM_WORKERS = 0
    from videossl.data.loader import EvalSampler
    assert list(EvalSampler(7, rank=1, world=2)) == [1, 3, 5, 0]
    assert list(EvalSampler(len(eval_ds), rank=0, world=1)) == eval_ds


def test_bad_videos_are_retried_counted_and_logged_once(tmp_path, caplog):
    root = make_kinetics(str(tmp_path / "k"), labels=(0, 1, 2, 0), num_frames=24, splits=("train", "test"))
    (tmp_path / "k" / "videos" / "train_1.mp4").write_bytes(os.urandom(2000))  # corrupt
    os.remove(tmp_path / "k" / "videos" / "train_2.mp4")  # missing
    cfg = _cfg(root, **{"DATA_LOADER.MAX_FAILED_FRACTION": 0.9})
    ds = build_dataset(cfg, "train")
    with caplog.at_level(logging.WARNING, logger="videossl.data.dataset"):
        failed = 0
        for epoch in range(3):
            for batch in build_loader(cfg, ds, train=True, batch_size=2, epoch=epoch):
                failed += int(batch["num_failed"].sum())
                assert set(batch["index"].tolist()) <= {0, 3}
        assert failed >= 6  # two of four videos fail in each of three epochs
        for batch in build_loader(cfg, ds, train=True, batch_size=2, epoch=3):
            pass
    warned = [r.getMessage() for r in caplog.records if "skipping unreadable" in r.getMessage()]
    assert len(warned) == 2 and any("train_1.mp4" in w for w in warned) and any("train_2.mp4" in w for w in warned)
    # test mode: the bad file is named in the error
    (tmp_path / "k" / "videos" / "test_1.mp4").write_bytes(b"junk")
    test_ds = build_dataset(cfg, "test")
    with pytest.raises(DecodeError, match="test_1.mp4"):
        test_ds[6]


def test_too_many_failures_stop_the_epoch(tmp_path):
    root = make_kinetics(str(tmp_path / "k"), labels=(0, 1, 2, 0, 1, 2), num_frames=24, splits=("train",))
    for k in range(1, 6):
        (tmp_path / "k" / "videos" / f"train_{k}.mp4").write_bytes(b"x")
    cfg = _cfg(root, **{"DATA_LOADER.MAX_RETRIES": 20, "DATA_LOADER.MAX_FAILED_FRACTION": 0.5})
    # the trainer's data-health hook sees each batch before its step and stops as soon as the rule is broken
    from types import SimpleNamespace

    from videossl.engine.hooks import DataHealth

    trainer = SimpleNamespace(epoch=0, iters_this_epoch=3, device=torch.device("cpu"),
                              settings=SimpleNamespace(global_batch=2, max_epoch=1))
    hook = DataHealth(cfg.DATA_LOADER.MAX_FAILED_FRACTION)
    hook.before_epoch(trainer)
    steps = 0
    with pytest.raises(RuntimeError, match="MAX_FAILED_FRACTION"):
        for batch in build_loader(cfg, build_dataset(cfg, "train"), train=True, batch_size=2):
            trainer.batch = batch
            hook.before_step(trainer)
            steps += 1
    # 5 of 6 videos are bad: the failures outnumber the epoch's 6 samples before its last batch
    assert steps < 3 and hook.failed > 6
    cfg = _cfg(root, **{"DATA_LOADER.MAX_RETRIES": 0, "DATA_LOADER.MAX_FAILED_FRACTION": 1.0})
    with pytest.raises(RuntimeError, match="MAX_RETRIES=0"):
        for _ in build_loader(cfg, build_dataset(cfg, "train"), train=True, batch_size=6):
            pass


def test_missing_dir_and_bad_csv_raise_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere")):
        build_dataset(_cfg(str(tmp_path / "nowhere")), "train")
    (tmp_path / "d").mkdir()
    with pytest.raises(FileNotFoundError, match="train.csv"):
        build_dataset(_cfg(str(tmp_path / "d")), "train")
    (tmp_path / "d" / "train.csv").write_text("\n")
    with pytest.raises(ValueError, match="train.csv"):
        build_dataset(_cfg(str(tmp_path / "d")), "train")
    (tmp_path / "d" / "val.csv").write_text("a.mp4 notalabel\n")
    with pytest.raises(ValueError, match="val.csv:1"):
        build_dataset(_cfg(str(tmp_path / "d")), "val")


def test_path_prefix_and_separator(tmp_path):
    vids = str(tmp_path / "vids")
    root = make_kinetics(str(tmp_path / "k"), labels=(0, 4), num_frames=16, splits=("train",), prefix_dir=vids)
    csv = tmp_path / "k" / "train.csv"
    csv.write_text(csv.read_text().replace(" ", ","))
    ds = build_dataset(_cfg(root, **{"DATA.PATH_PREFIX": vids, "DATA.PATH_LABEL_SEPARATOR": ","}), "train")
    assert ds.paths == [os.path.join(vids, "train_0.mp4"), os.path.join(vids, "train_1.mp4")]
    assert ds.labels == [0, 4]
    assert ds[(0, 1)]["label"] == 4


def test_clips_span_the_same_time_at_any_frame_rate(tmp_path):
    from videossl.data.fixtures import write_numbered_video

    root = tmp_path / "fps"
    lines = []
    for k, fps in enumerate((30, 60, 15)):
        write_numbered_video(str(root / f"v{k}.mp4"), 60, fps=fps)
        lines.append(f"v{k}.mp4 {k}")
    (root / "test.csv").write_text("\n".join(lines) + "\n")
    cfg = _cfg(str(root), **{"DATA.PATH_PREFIX": str(root), "DATA.MEAN": [0.0] * 3, "DATA.STD": [1.0] * 3,
                             "TEST.NUM_ENSEMBLE_VIEWS": 1, "TEST.NUM_SPATIAL_CROPS": 1})
    ds = build_dataset(cfg, "test")  # 4 frames x stride 2 at TARGET_FPS 30 = 8/30 s per clip
    steps = [np.diff(_frame_ids(ds[i]["views"][0])).tolist() for i in range(3)]
    assert set(steps[0]) <= {2, 3} and set(steps[1]) <= {4, 5} and set(steps[2]) <= {1, 2}
    assert sum(steps[1]) in (14, 15) and sum(steps[2]) == 3


def test_videos_shorter_than_a_clip_are_padded_with_their_last_frame(tmp_path):
    """Documented rule: a clip longer than the video starts at frame 0 and repeats the last frame."""
    from videossl.data.fixtures import write_numbered_video

    root = tmp_path / "short"
    write_numbered_video(str(root / "v0.mp4"), 5)
    (root / "train.csv").write_text("v0.mp4 0\n")
    (root / "test.csv").write_text("v0.mp4 0\n")
    cfg = _cfg(str(root), **{"DATA.PATH_PREFIX": str(root), "DATA.MEAN": [0.0] * 3, "DATA.STD": [1.0] * 3,
                             "DATA.NUM_FRAMES": 8, "DATA.SAMPLING_RATE": 2, "TEST.NUM_ENSEMBLE_VIEWS": 3,
                             "TEST.NUM_SPATIAL_CROPS": 1, "DATA.TRAIN_CROP_NUM_TEMPORAL": 2})
    test_ds = build_dataset(cfg, "test")  # clip = 16 frames, video = 5
    for i in range(3):
        ids = _frame_ids(test_ds[i]["views"][0])
        assert ids[0] == 0 and ids[-1] == 4 and ids == sorted(ids) and ids.count(4) >= 4
    sample = build_dataset(cfg, "train")[(0, 0)]
    assert sample["num_failed"] == 0 and len(sample["views"]) == 2
    assert all(v.shape == (3, 8, 24, 24) for v in sample["views"])
