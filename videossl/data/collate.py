"""Collation of dataset samples into a :class:`~videossl.data.batch.Batch`.

View fields (``views`` / ``flow``): lists of per-sample ``C x T x H x W``
tensors -> list of ``B x C x T x H x W``; the long fields -> LongTensor[B];
``meta`` -> dict of LongTensor[B].  Detection fields (AVA) keep per-sample
box counts: ``boxes`` ``N_i x 4`` become one ``N x 5`` tensor whose first
column is the sample's position in the batch, and ``box_labels`` /
``ori_boxes`` are concatenated along the same rows.  Any other key goes
through ``torch.utils.data.default_collate``.
"""

from typing import Dict, List

import torch
from torch.utils.data import default_collate

from .batch import BOX_ROW_FIELDS, LONG_FIELDS, VIEW_FIELDS, Batch


def collate_batch(samples: List[Dict]) -> Batch:
    """Collate dataset samples (dicts) into one batch."""
    first = samples[0]
    batch: Batch = {}
    for key in first:
        values = [s[key] for s in samples]
        if key in VIEW_FIELDS:
            batch[key] = [torch.stack([v[i] for v in values]) for i in range(len(values[0]))]
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
