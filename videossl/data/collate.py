"""Collation of dataset samples into a :class:`~videossl.data.batch.Batch`.

View fields (``views`` / ``flow``): lists of per-sample ``C x T x H x W``
tensors -> list of ``B x C x T x H x W``; the long fields -> LongTensor[B];
``meta`` -> dict of LongTensor[B].  Deferred views (``DATA.AUGMENT_ON_DEVICE``)
are ``uint8 T x H x W x 3`` frames that may differ in size between videos:
they are zero-padded at the bottom and right to the batch's largest (their
crop boxes lie inside each frame), and their ``view_params`` / ``flow_params``
rows stack like views.  Detection fields (AVA) keep per-sample
box counts: ``boxes`` ``N_i x 4`` become one ``N x 5`` tensor whose first
column is the sample's position in the batch, and ``box_labels`` /
``ori_boxes`` are concatenated along the same rows.  Any other key goes
through ``torch.utils.data.default_collate``.
"""

from typing import Dict, List

import torch
from torch.utils.data import default_collate

from .batch import BOX_ROW_FIELDS, LONG_FIELDS, PARAM_FIELDS, VIEW_FIELDS, Batch


def collate_batch(samples: List[Dict]) -> Batch:
    """Collate dataset samples (dicts) into one batch."""
    first = samples[0]
    batch: Batch = {}
    for key in first:
        values = [s[key] for s in samples]
        if key in VIEW_FIELDS or key in PARAM_FIELDS:
            batch[key] = [stack_padded([v[i] for v in values]) for i in range(len(values[0]))]
        elif key in LONG_FIELDS:
            batch[key] = torch.as_tensor(values, dtype=torch.long)
        elif key == "meta":
            batch[key] = {k: torch.as_tensor([m[k] for m in values], dtype=torch.long) for k in values[0]}
        elif key == "boxes":
            rows = [torch.cat([torch.full((len(b), 1), float(i)), torch.as_tensor(b, dtype=torch.float32)], 1)
                    for i, b in enumerate(values)]
            batch[key] = torch.cat(rows) if rows else torch.zeros(0, 5)
        elif key in BOX_ROW_FIELDS:
            batch[key] = torch.cat([torch.as_tensor(v) for v in values])
        else:
            batch[key] = default_collate(values)
    return batch


def stack_padded(tensors: List[torch.Tensor]) -> torch.Tensor:
    """``torch.stack``; raw ``T x H x W x C`` frames of different sizes are zero-padded to the largest."""
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) == 1:
        return torch.stack(tensors)
    if tensors[0].dtype != torch.uint8 or len({(s[0], s[-1]) for s in shapes}) != 1 or len(tensors[0].shape) != 4:
        raise ValueError(f"cannot collate views of shapes {sorted(shapes)}")
    h, w = max(s[1] for s in shapes), max(s[2] for s in shapes)
    out = tensors[0].new_zeros((len(tensors), tensors[0].shape[0], h, w, tensors[0].shape[-1]))
    for k, t in enumerate(tensors):
        out[k, :, : t.shape[1], : t.shape[2]] = t
    return out
