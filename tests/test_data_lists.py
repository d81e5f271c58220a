"""Real dataset layouts (tiny copies): UCF101, HMDB51, SSv2, Kinetics CSV, frame folders."""

import os
import shutil

import pytest

from videossl.config import get_cfg
from videossl.data import build_dataset
from videossl.data.fixtures import frame_numbers, make_hmdb51, make_kinetics, make_ssv2, make_ucf101
from videossl.data.lists import ucf101_group


def _cfg(name, root, **over):
    cfg = get_cfg()
    cfg.TRAIN.DATASET = cfg.TEST.DATASET = name
    cfg.DATA.PATH_TO_DATA_DIR = root
    cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE = 4, 2
    cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.TEST_CROP_SIZE, cfg.DATA.TRAIN_JITTER_SCALES = 24, 32, [32, 40]
    cfg.TEST.NUM_ENSEMBLE_VIEWS, cfg.TEST.NUM_SPATIAL_CROPS = 1, 1
    for k, v in over.items():
        a, b = k.split(".")
        cfg[a][b] = v
    return cfg


@pytest.fixture(scope="module")
def ucf(tmp_path_factory):
    return make_ucf101(str(tmp_path_factory.mktemp("ucf")))


def test_ucf101_splits_labels_and_source_groups(ucf):
    train = build_dataset(_cfg("ucf101", ucf), "train")
    test = build_dataset(_cfg("ucf101", ucf), "test")
    assert train.num_videos == 6 and test.num_videos == 6  # 3 classes x 2 groups x 2 clips, group 1 held out
    assert all("_g01_" in p for p in test.paths) and not any("_g01_" in p for p in train.paths)
    assert train.labels == [0, 0, 1, 1, 2, 2]
    # the two clips of one group share a source id; different groups do not
    assert train.source_ids == [0, 0, 1, 1, 2, 2]
    test2 = build_dataset(_cfg("ucf101", ucf, **{"DATA.SPLIT": 2}), "test")
    assert all("_g02_" in p for p in test2.paths)
    sample = train[(0, 3)]
    assert sample["source_id"] == 1 and sample["label"] == 1 and sample["views"][0].shape == (3, 4, 24, 24)
    assert ucf101_group("X/v_ApplyEyeMakeup_g08_c01.avi") == "v_ApplyEyeMakeup_g08"
    with pytest.raises(ValueError, match="DATA.SPLIT=4"):
        build_dataset(_cfg("ucf101", ucf, **{"DATA.SPLIT": 4}), "train")


def test_ucf101_missing_list_is_named(tmp_path):
    (tmp_path / "ucfTrainTestlist").mkdir()
    with pytest.raises(FileNotFoundError, match="classInd.txt"):
        build_dataset(_cfg("ucf101", str(tmp_path)), "train")


def test_hmdb51_split_markers(tmp_path):
    root = make_hmdb51(str(tmp_path / "hmdb"))
    for fold, n_train, n_test in ((1, 4, 4), (3, 4, 2)):  # split 3 leaves one video per class unused
        cfg = _cfg("hmdb51", root, **{"DATA.SPLIT": fold})
        train, test = build_dataset(cfg, "train"), build_dataset(cfg, "test")
        assert (train.num_videos, test.num_videos) == (n_train, n_test)
        assert sorted(set(train.labels)) == [0, 1]
        assert all(os.path.basename(os.path.dirname(p)) in ("brush_hair", "cartwheel") for p in train.paths)
        assert not set(train.paths) & set(test.paths)
    assert build_dataset(_cfg("hmdb51", root), "train")[(0, 0)]["views"][0].shape == (3, 4, 24, 24)


@pytest.mark.parametrize("frame_folders", [False, True])
def test_ssv2_json_lists_webm_or_frames_segments_and_no_flip(tmp_path, frame_folders):
    root = make_ssv2(str(tmp_path / "ssv2"), frame_folders=frame_folders)
    cfg = _cfg("ssv2", root, **{"DATA.MEAN": [0.0] * 3, "DATA.STD": [1.0] * 3, "DATA.FRAME_FPS": 12.0})
    train, val = build_dataset(cfg, "train"), build_dataset(cfg, "val")
    assert train.num_videos == 4 and val.num_videos == 2
    assert train.labels == [0, 1, 0, 1]
    assert train.segment and not train.transform.random_flip
    # TSN centre frames of 4 segments of a 24-frame video: round(5.75 k) .. centre
    view = val[0]["views"][0]
    levels = view.mul(255).flatten(2).median(dim=2).values.mean(0)
    assert [int(round((float(v) - 2) / 4)) for v in levels] == [3, 9, 14, 20]
    assert train[(0, 1)]["views"][0].shape == (3, 4, 24, 24)


def test_frame_folders_stand_in_for_any_list(tmp_path):
    root = make_ucf101(str(tmp_path / "ucf"), classes=("A", "B"), groups=2, clips=1, frame_folders=True)
    ds = build_dataset(_cfg("ucf101", root), "train")
    assert ds.paths[0].endswith(".avi") and not os.path.exists(ds.paths[0])  # only frames on disk
    assert ds[(0, 1)]["views"][0].shape == (3, 4, 24, 24)


def test_kinetics600_name_and_prefix(tmp_path):
    root = make_kinetics(str(tmp_path / "k600"), labels=(599, 3), num_frames=16, splits=("train",))
    ds = build_dataset(_cfg("kinetics600", root), "train")
    assert ds.labels == [599, 3] and ds[(0, 0)]["label"] == 599


def test_ssv2_train_views_are_never_flipped_even_with_random_flip_on(tmp_path, ucf):
    """SSv2 labels name directions ("left to right"): its train clips are never mirrored, while
    the same config (DATA.RANDOM_FLIP True) flips about half of another dataset's clips."""
    root = make_ssv2(str(tmp_path / "ssv2"), frame_folders=True)
    flips = {}
    for name, data_root in (("ssv2", root), ("ucf101", ucf)):
        cfg = _cfg(name, data_root, **{"DATA.RANDOM_FLIP": True, "DATA.FRAME_FPS": 12.0,
                                       "DATA.TRAIN_CROP_NUM_SPATIAL": 2})
        ds = build_dataset(cfg, "train")
        drawn = []
        sample_train = ds.transform.sample_train

        def record(*a, _orig=sample_train, _out=drawn, **k):
            params = _orig(*a, **k)
            _out.append(params.flip)
            return params

        ds.transform.sample_train = record
        for epoch in range(3):
            for i in range(ds.num_videos):
                assert len(ds[(epoch, i)]["views"]) == 2
        flips[name] = drawn
    assert len(flips["ssv2"]) == 24 and not any(flips["ssv2"])
    assert 0 < sum(flips["ucf101"]) < len(flips["ucf101"])
