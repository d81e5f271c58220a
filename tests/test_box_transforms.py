"""AVA boxes follow the clip's crop, resize and flip: the transformed box bounds the transformed object pixels."""

import numpy as np
import pytest
import torch

from videossl.data.transforms import ClipTransform
from videossl.data.transforms.boxes import transform_boxes
from videossl.data.transforms.clip_aug import ClipParams


def _frames_with_object(height, width, box_px):
    """4 frames, black, with a white rectangle at pixel box (x1, y1, x2, y2) (exclusive ends)."""
    frames = torch.zeros(4, height, width, 3, dtype=torch.uint8)
    x1, y1, x2, y2 = box_px
    frames[:, y1:y2, x1:x2] = 255
    return frames


def _mask_bounds(clip):
    """(x1, y1, x2, y2) pixel extent of the bright pixels of a normalised 3 x T x S x S clip (mean 0, std 1)."""
    mask = clip[0, 0] > 0.5
    ys, xs = torch.nonzero(mask, as_tuple=True)
    return xs.min().item(), ys.min().item(), xs.max().item() + 1, ys.max().item() + 1


@pytest.mark.parametrize("seed", range(12))
def test_transformed_boxes_bound_the_transformed_object(seed):
    rng = np.random.default_rng(seed)
    height, width, size = 90, 160, 64
    x1, y1 = int(rng.integers(30, 80)), int(rng.integers(20, 40))
    box_px = (x1, y1, x1 + int(rng.integers(20, 40)), y1 + int(rng.integers(20, 40)))
    frames = _frames_with_object(height, width, box_px)
    transform = ClipTransform(crop_size=size, test_size=size, mean=[0, 0, 0], std=[1, 1, 1],
                              relative_scale=(0.5, 1.0), random_flip=True)
    params = transform.sample_train(rng, height, width)
    top, left, h, w = params.box
    if not (left < box_px[0] and box_px[2] < left + w and top < box_px[1] and box_px[3] < top + h):
        params = ClipParams((0, 0, height, width), params.flip)  # keep the object inside the crop
    clip = transform.apply(frames, params)
    norm = torch.tensor([[box_px[0] / width, box_px[1] / height, box_px[2] / width, box_px[3] / height]])
    got = transform_boxes(norm, params, height, width, size)[0].tolist()
    want = _mask_bounds(clip)
    assert got == pytest.approx(want, abs=1.0), (params, got, want)  # antialiased resize: within a pixel


def test_flip_mirrors_and_crop_clamps():
    params = ClipParams((10, 20, 50, 100), flip=False)  # top, left, h, w in a 100 x 200 frame
    boxes = torch.tensor([[0.2, 0.2, 0.3, 0.4], [0.0, 0.0, 0.05, 0.05]])
    # by hand: x' = (x*200 - 20) * 64/100, y' = (y*100 - 10) * 64/50
    out = transform_boxes(boxes, params, 100, 200, 64)
    torch.testing.assert_close(out[0], torch.tensor([12.8, 12.8, 25.6, 38.4]))
    torch.testing.assert_close(out[1], torch.tensor([0.0, 0.0, 0.0, 0.0]))  # cut off: clamped, empty
    flipped = transform_boxes(boxes, ClipParams((10, 20, 50, 100), flip=True), 100, 200, 64)
    torch.testing.assert_close(flipped[0], torch.tensor([64 - 25.6, 12.8, 64 - 12.8, 38.4]))
