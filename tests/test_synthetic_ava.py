"""The synthetic AVA: actors with box tracks and persistent actions, written in AVA's layout and read back with
the AVA readers; and the boxes follow the actors' pixels through the clip's crop, resize and flip."""

import os

import numpy as np
import pytest
import torch

from videossl.data.lists.ava import keyframes, read_box_files, read_frame_lists
from videossl.data.synthetic_ava import ACTIONS, EXCLUDED, LABEL_MAP, PULSING, SyntheticAvaSettings, render_actors, \
    write_synthetic_ava
from videossl.data.transforms import ClipTransform
from videossl.data.transforms.boxes import transform_boxes
from videossl.engine.ava_map import frame_map, read_excluded, read_label_map


def test_actors_have_box_tracks_and_persistent_actions():
    video = render_actors(np.random.default_rng(3), num_frames=40, height=48, width=96, num_actors=3,
                          pulse_prob=0.5)
    assert video.frames.shape == (40, 48, 96, 3) and video.masks.shape == (3, 40, 48, 96)
    for a, labels in enumerate(video.labels):
        assert 1 <= labels[0] <= 5 and set(labels[1:]) <= {PULSING}
        x1, y1, x2, y2 = video.box(a, 20)
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
        assert a / 3 - 1e-6 <= x1 and x2 <= (a + 1) / 3 + 1e-6  # each actor stays in its slot
        ys, xs = np.nonzero(video.masks[a, 20])
        inside = video.frames[20, ys, xs, 0].astype(float).mean()
        assert inside > 0.5 * 255  # the actor is bright on the dark background
        # pulsing actors change brightness over time, the others do not (beyond noise)
        levels = [video.frames[t][video.masks[a, t]][:, 0].astype(float).mean() for t in range(40)]
        assert (np.std(levels) > 8) == (PULSING in labels), (labels, np.std(levels))


def test_written_layout_reads_back_through_the_ava_readers(tmp_path):
    s = SyntheticAvaSettings(num_videos=4, num_keyframes=2, height=32, width=48, seed=1)
    paths = write_synthetic_ava(s, str(tmp_path))
    ann = paths["annotations"]
    names, frames = read_frame_lists([os.path.join(paths["frame_lists"], "train.csv")], paths["frames"])
    assert names == ["synth000", "synth002"] and all(len(f) == (903 - 900) * 30 + 60 for f in frames)
    assert all(os.path.isfile(p) for p in frames[0][::30])
    gt = read_box_files([(os.path.join(ann, "ava_train_v2.2.csv"), True)])
    keys = keyframes(names, gt)
    assert [(k.video, k.sec, k.frame) for k in keys] == [(0, 902, 60), (0, 903, 90), (1, 902, 60), (1, 903, 90)]
    assert all(2 <= len(k.boxes) <= 3 and all(1 <= lab[0] <= 5 for lab in k.labels) for k in keys)
    # proposals: one per actor plus a false positive, without labels, scored
    pred = read_box_files([(os.path.join(ann, "ava_train_predicted_boxes.csv"), False)], score_thresh=0.0)
    for k in keys:
        assert len(pred[names[k.video]][k.sec]) == len(k.boxes) + 1
    names_by_id, class_ids = read_label_map(os.path.join(ann, LABEL_MAP))
    assert names_by_id == {i + 1: a for i, a in enumerate(ACTIONS)} and class_ids == set(range(1, 7))
    excluded = read_excluded(os.path.join(ann, EXCLUDED))
    assert excluded == {("synth001", 903)}
    # the ground truth scored as detections is a perfect detector
    rows = [line.strip().split(",") for line in open(os.path.join(ann, "ava_val_v2.2.csv"))]
    truth = [(r[0], int(r[1]), *map(float, r[2:6]), int(r[6]), int(r[7])) for r in rows]
    dets = [(*t[:7], 1.0) for t in truth]
    assert frame_map(truth, dets, class_ids, excluded)["mAP"] == pytest.approx(1.0)


def test_boxes_follow_the_actors_pixels_through_crop_resize_and_flip():
    tight = flipped = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        video = render_actors(rng, num_frames=16, height=60, width=90, num_actors=2)
        key = 8
        transform = ClipTransform(crop_size=48, test_size=48, mean=[0, 0, 0], std=[1, 1, 1],
                                  relative_scale=(0.4, 1.0), random_flip=True)
        params = transform.sample_train(rng, 60, 90)
        flipped += params.flip
        top, left, h, w = params.box
        for a in range(len(video.labels)):
            mask = torch.from_numpy(np.repeat(video.masks[a][..., None], 3, axis=3).astype(np.uint8) * 255)
            moved = transform.apply(mask, params)[0, key] > 0.5  # the actor's pixels after the augmentation
            box = transform_boxes(torch.tensor([video.box(a, key)]), params, 60, 90, 48)[0].tolist()
            ys, xs = torch.nonzero(moved, as_tuple=True)
            if len(xs) == 0:  # cropped away: the box is clamped to an empty one at the border
                assert box[2] - box[0] < 1.5 or box[3] - box[1] < 1.5, box
                continue
            want = [xs.min().item(), ys.min().item(), xs.max().item() + 1, ys.max().item() + 1]
            x1, y1, x2, y2 = video.box(a, key)
            if left <= x1 * 90 and x2 * 90 <= left + w and top <= y1 * 60 and y2 * 60 <= top + h:
                assert box == pytest.approx(want, abs=1.5), (seed, params, a, box, want)  # whole actor: tight
                tight += 1
            else:  # cut by the crop: the clamped box still holds every visible pixel of the actor
                assert box[0] <= want[0] + 1.5 and box[1] <= want[1] + 1.5, (seed, params, a, box, want)
                assert box[2] >= want[2] - 1.5 and box[3] >= want[3] - 1.5, (seed, params, a, box, want)
    assert tight >= 6 and 0 < flipped < 10, (tight, flipped)  # both branches of the check ran
