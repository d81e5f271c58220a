"""Augmentation of a whole batch on the training step's device (``DATA.AUGMENT_ON_DEVICE``).

With the key on, the loader's workers only decode: each view leaves them as
its ``uint8 T x H x W x 3`` frames plus its drawn parameters as a row
(:func:`~.clip_aug.params_to_row`; flow views get their own rows, boxes are
left normalised), and :class:`BatchAugmenter` turns the collated batch into
the usual normalised float views on the method's device::

    frames  uint8  B x T x H x W x 3  (padded to the batch's largest frame)
    rows    float64 B x len(ROW_FIELDS)
      -> crop + resize + flip: per-clip source pixels and filter weights, gathered over the batch
      -> colour: :func:`~.color.apply_color_batch` (each op once per order position)
      -> normalise -> B x 3 x T x S x S

The result equals the workers' path (:meth:`~.clip_aug.ClipTransform.apply`)
up to rounding: the gathers reproduce the antialiased bilinear filter of
``F.interpolate`` on the crop (its taps and weights, inside the crop) in
float, rounded to uint8 levels after each pass as the workers' uint8 resize
does (whose fixed-point weights can land a level apart on a few pixels);
every later op is the same code.  (``grid_sample`` / ``roi_align`` sample
points without the shrinking filter and without the clamp to the crop, so
they cannot reproduce it.)
RandAugment and random erasing (supervised recipes, PIL based) stay in the
workers: the config rejects them with this key.
"""

import math
from typing import Dict, Sequence

import torch

from ...errors import InputError
from .clip_aug import ROW_FIELDS, params_from_row
from .color import apply_color_batch

_TOP, _LEFT, _H, _W, _FLIP = (ROW_FIELDS.index(k) for k in ("top", "left", "height", "width", "flip"))
_FH, _FW = ROW_FIELDS.index("frame_height"), ROW_FIELDS.index("frame_width")


def _aa_taps(start: torch.Tensor, length: torch.Tensor, size: int, flip: torch.Tensor):
    """Per clip, the source pixels and weights of each of ``size`` outputs when the span
    ``[start, start + length)`` is resized by torch's antialiased bilinear interpolation
    (``F.interpolate(..., antialias=True)``: a triangle filter as wide as the scale when
    shrinking, plain bilinear when enlarging, weights normalised at the borders); outputs
    reversed where ``flip``.  ``N x size x K`` pixel indices (long) and weights (float32),
    zero-weighted beyond each output's own taps."""
    scale = (length / size).view(-1, 1, 1)  # N x 1 x 1, float64
    support = scale.clamp(min=1.0)
    taps = int(math.ceil(float(support.max()))) * 2 + 1
    centre = scale * (torch.arange(size, dtype=torch.float64).view(1, -1, 1) + 0.5)  # N x S x 1
    lo = (centre - support + 0.5).floor().clamp(min=0.0)
    count = torch.minimum((centre + support + 0.5).floor(), length.view(-1, 1, 1)) - lo
    j = torch.arange(taps, dtype=torch.float64).view(1, 1, -1)
    wts = (1.0 - ((j + lo - centre + 0.5) / support).abs()).clamp(min=0.0) * (j < count)
    wts = wts / wts.sum(dim=-1, keepdim=True)
    idx = (lo + torch.minimum(j, count - 1)).long() + start.long().view(-1, 1, 1)
    idx[flip], wts[flip] = idx[flip].flip(1), wts[flip].flip(1)
    return idx, wts.float()


def _lines(x: torch.Tensor, dim: int, lines: torch.Tensor) -> torch.Tensor:
    """``x[n, ..., lines[n, j], ...]`` for every clip ``n`` and ``j`` (``lines``: ``N x J`` indices along
    ``dim``), laid out ``N x J x (the other dims)``: whole lines picked as contiguous rows by one
    ``index_select`` over clip x line, not element by element."""
    n, count = lines.shape
    moved = x.movedim(dim, 1).contiguous()
    length = moved.shape[1]
    flat_idx = (lines + torch.arange(n, device=lines.device).view(-1, 1) * length).view(-1)
    return moved.view(n * length, -1).index_select(0, flat_idx).view(n, count, *moved.shape[2:])


def _resize_pass(x: torch.Tensor, dim: int, idx: torch.Tensor, wts: torch.Tensor) -> torch.Tensor:
    """One separable pass along ``dim`` of ``x`` (``N x ...``): output ``i`` of clip ``n`` is
    ``sum_k wts[n, i, k] * x[n, ..., idx[n, i, k], ...]``, rounded to uint8 levels."""
    n, size, taps = idx.shape
    picked = _lines(x, dim, idx.view(n, -1))
    rest = picked.shape[2:]
    picked = picked.view(n, size, taps, -1)
    out = picked[:, :, 0].float().mul_(wts[:, :, 0, None])
    for k in range(1, taps):
        out.add_(picked[:, :, k].float().mul_(wts[:, :, k, None]))
    return out.round_().clamp_(0.0, 255.0).view(n, size, *rest).movedim(1, dim)


def crop_resize_batch(frames: torch.Tensor, rows: torch.Tensor, size: int) -> torch.Tensor:
    """``uint8 N x T x H x W x C`` + rows (box, flip) -> float ``N x T x C x size x size`` on the
    frames' device: each clip's box resized (antialiased bilinear) and flipped as the workers'
    uint8 resize does it (horizontal pass, round, vertical pass, round), batched over the clips."""
    rows = rows.detach().to("cpu", torch.float64)
    flip = rows[:, _FLIP] > 0
    xi, xw = (t.to(frames.device) for t in _aa_taps(rows[:, _LEFT], rows[:, _W], size, flip))
    yi, yw = (t.to(frames.device) for t in _aa_taps(rows[:, _TOP], rows[:, _H], size, torch.zeros_like(flip)))
    # only the crop's rows go through the horizontal pass: pick them first (padded to the tallest crop)
    top, height = rows[:, _TOP].long(), rows[:, _H].long()
    lines = torch.minimum(torch.arange(int(height.max())).view(1, -1), height.view(-1, 1) - 1) + top.view(-1, 1)
    crop_rows = _lines(frames, 2, lines.to(frames.device)).movedim(1, 2)
    out = _resize_pass(_resize_pass(crop_rows, 3, xi, xw), 2, yi - top.view(-1, 1, 1).to(yi.device), yw)
    return out.permute(0, 1, 4, 2, 3).contiguous()


def augment_clips(frames: torch.Tensor, rows: torch.Tensor, size: int, mean: torch.Tensor,
                  std: torch.Tensor) -> torch.Tensor:
    """``uint8 N x T x H x W x 3`` + ``N`` parameter rows -> normalised float ``N x 3 x T x size x size``
    on the frames' device (crop, resize, flip, colour, normalisation as the workers' path)."""
    if rows.shape[0] != frames.shape[0]:
        raise InputError(f"{frames.shape[0]} clips but {rows.shape[0]} parameter rows")
    rows = rows.detach().to("cpu", torch.float64)  # parameters are read on the host, once
    x = crop_resize_batch(frames, rows, size).div_(255.0)
    colors = [params_from_row(r).color for r in rows]
    if any(c is not None for c in colors):
        apply_color_batch(x, colors)
    x = x.transpose(1, 2)  # N x C x T x S x S
    out = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    torch.sub(x, mean.to(x.device).view(1, -1, 1, 1, 1), out=out)
    return out.div_(std.to(x.device).view(1, -1, 1, 1, 1))


def transform_boxes_batch(boxes: torch.Tensor, rows: torch.Tensor, size: int) -> torch.Tensor:
    """AVA boxes ``N x 5`` (column 0 the sample's position, then ``x1 y1 x2 y2`` normalised to the
    decoded frame) -> the same rows in pixels of each sample's ``size x size`` crop, flipped with it
    (:func:`~.boxes.transform_boxes` for every box at once)."""
    r = rows.to(boxes.device, torch.float32)[boxes[:, 0].long()]
    top, left, h, w, flip = r[:, _TOP], r[:, _LEFT], r[:, _H], r[:, _W], r[:, _FLIP] > 0
    x = ((boxes[:, 1::2] * r[:, _FW, None] - left[:, None]) * (size / w[:, None])).clamp(0, size)
    y = ((boxes[:, 2::2] * r[:, _FH, None] - top[:, None]) * (size / h[:, None])).clamp(0, size)
    x = torch.where(flip[:, None], size - x.flip(1), x)
    return torch.stack([boxes[:, 0], x[:, 0], y[:, 0], x[:, 1], y[:, 1]], dim=1)


class BatchAugmenter:
    """The training step's batch preparation with ``DATA.AUGMENT_ON_DEVICE``: replaces a batch's raw
    views (and flow, and boxes) by augmented ones; batches without parameter rows pass through.

    Args:
        size: the train crop side (``DATA.TRAIN_CROP_SIZE``).
        mean, std: per-channel normalisation (``DATA.MEAN`` / ``DATA.STD``).
    """

    def __init__(self, size: int, mean: Sequence[float], std: Sequence[float]):
        self.size = int(size)
        self.mean = torch.tensor(mean, dtype=torch.float32)
        self.std = torch.tensor(std, dtype=torch.float32)

    def __call__(self, batch: Dict) -> Dict:
        """``batch`` (already on the device; the small parameter rows are read back on the host once
        per view) with its views, flow and boxes augmented."""
        if "view_params" not in batch:
            return batch
        batch = dict(batch)
        view_rows = batch.pop("view_params")
        batch["views"] = [augment_clips(v, r, self.size, self.mean, self.std)
                          for v, r in zip(batch["views"], view_rows)]
        if "flow_params" in batch:
            batch["flow"] = [augment_clips(v, r, self.size, self.mean, self.std)
                             for v, r in zip(batch["flow"], batch.pop("flow_params"))]
        if "boxes" in batch:  # normalised to the frame in a deferred batch: follow the first view's crop
            batch["boxes"] = transform_boxes_batch(batch["boxes"], view_rows[0], self.size)
        return batch


def build_batch_augmenter(cfg):
    """The :class:`BatchAugmenter` of ``cfg``, or None when ``DATA.AUGMENT_ON_DEVICE`` is off."""
    if not cfg.DATA.AUGMENT_ON_DEVICE:
        return None
    return BatchAugmenter(cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.MEAN, cfg.DATA.STD)
