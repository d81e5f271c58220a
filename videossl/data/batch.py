"""The batch: what every dataset yields (per sample) and every method, hook and evaluator reads.

This is the one definition; :func:`videossl.data.collate.collate_batch` turns
a list of samples into a :class:`Batch`.  Shapes after collation (B samples,
ρ clips x crops views, C channels, T frames, H x W pixels)::

    views       list of Tensor[B, C, T, H, W], float, normalised (rho clips x crops per sample)
    label       LongTensor[B]
    index       LongTensor[B]   dataset row of the video (kNN, retrieval, queues)
    source_id   LongTensor[B]   videos cut from one source share it (UCF101 v_X_gYY)
    num_failed  LongTensor[B]   videos that failed to decode before this sample succeeded (train)
    meta        Meta: LongTensor[B] each of video_idx, clip_idx, crop_idx (multi-view testing)

Optional fields:

    flow        list like ``views`` (Tensor[B, 3, T, H, W]: CoCLR's flow image (128, y, x),
                normalised like RGB); flow[i] shares frames and augmentation with views[i]
    mask        BoolTensor[B, N] (or [B, t, h, w]) MAE mask from the loader, True = masked
    boxes       Tensor[N, 5] AVA boxes, column 0 the sample's position in the batch
    box_labels  Tensor[N, K] multi-hot labels of those boxes
    ori_boxes   Tensor[N, 4] boxes before augmentation
    video_id / timestamp  AVA keyframe identity (default-collated)

With ``DATA.AUGMENT_ON_DEVICE`` the loader's training batches carry the views
before augmentation, which the training step's
:class:`~videossl.data.transforms.on_device.BatchAugmenter` turns into the
fields above before the method sees them::

    views       list of uint8 Tensor[B, T, H, W, 3] (frames padded to the batch's largest)
    view_params list of float64 Tensor[B, P]: each view's drawn parameters (transforms.clip_aug.ROW_FIELDS)
    flow / flow_params   likewise for flow
    boxes       Tensor[N, 5], coordinates still normalised to the decoded frame

A sample (what ``Dataset.__getitem__`` returns) has the same keys with
per-sample values: ``views`` a list of ``C x T x H x W`` tensors, ints for
the LongTensor fields, ``meta`` a dict of ints, ``boxes`` ``N_i x 4``.
"""

from typing import List, TypedDict

import torch


class Meta(TypedDict):
    video_idx: torch.Tensor
    clip_idx: torch.Tensor
    crop_idx: torch.Tensor


class Batch(TypedDict, total=False):
    views: List[torch.Tensor]
    label: torch.Tensor
    index: torch.Tensor
    source_id: torch.Tensor
    num_failed: torch.Tensor
    meta: Meta
    flow: List[torch.Tensor]
    mask: torch.Tensor
    boxes: torch.Tensor
    box_labels: torch.Tensor
    ori_boxes: torch.Tensor
    view_params: List[torch.Tensor]
    flow_params: List[torch.Tensor]


#: Fields collated into LongTensor[B].
LONG_FIELDS = ("label", "index", "source_id", "num_failed")
#: Fields that are lists of views, collated view by view into Tensor[B, ...].
VIEW_FIELDS = ("views", "flow")
#: Parameter rows of deferred views (``DATA.AUGMENT_ON_DEVICE``), collated like views.
PARAM_FIELDS = ("view_params", "flow_params")
#: Per-box fields concatenated along the rows of ``boxes``.
BOX_ROW_FIELDS = ("box_labels", "ori_boxes")
