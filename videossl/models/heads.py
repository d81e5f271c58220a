"""Heads shared by all backbones, with PySlowFast's module names.

``VideoHead`` is what PySlowFast calls ``ResNetBasicHead`` (for any backbone
here): dropout -> optional detach -> ``projection`` (a Linear, or an
:class:`MLPHead` for SSL) -> optional ``predictors`` (BYOL).  Parameter
names match PySlowFast checkpoints: ``head.projection.weight`` or
``head.projection.projection.{0,2,4}.weight``, ``head.predictors.0.projection.*``.

``RoIHead`` is PySlowFast's ``ResNetRoIHead`` for one pathway (AVA detection):
it takes the res5 feature map and K boxes and classifies each box; its only
parameters are ``head.projection.{weight,bias}``.
"""

from typing import List, Optional, Sequence, Union

import torch
from torch import nn
from torchvision.ops import RoIAlign

from ..errors import InputError


def c2_xavier_fill(layer: nn.Module) -> None:
    """Caffe2's XavierFill, as PySlowFast initialises MLP heads."""
    nn.init.kaiming_uniform_(layer.weight, a=1)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


class MLPHead(nn.Module):
    """``num_layers`` Linears with ReLU (and BN1d when ``bn``) between them.

    Input B x dim_in, output B x dim_out.  With ``num_layers == 1`` it is a
    single Linear.  Hidden Linears have no bias when ``bn`` (PySlowFast rule);
    the last one always has a bias.  ``norm_layer`` builds the BN1d (pass a
    synchronised BN for ``CONTRASTIVE.BN_SYNC_MLP``).
    """

    def __init__(self, dim_in: int, dim_out: int, mlp_dim: int, num_layers: int,
                 bn: bool = False, norm_layer=nn.BatchNorm1d):
        super().__init__()
        hidden_bias = not bn
        layers: List[nn.Module] = [
            nn.Linear(dim_in, dim_out if num_layers == 1 else mlp_dim,
                      bias=True if num_layers == 1 else hidden_bias)
        ]
        for i in range(1, num_layers):
            if bn:
                layers.append(norm_layer(mlp_dim))
            layers.append(nn.ReLU(inplace=True))
            last = i == num_layers - 1
            layers.append(nn.Linear(mlp_dim, dim_out if last else mlp_dim,
                                    bias=True if last else hidden_bias))
        self.projection = nn.Sequential(*layers)
        for m in self.projection:
            if isinstance(m, nn.Linear):
                c2_xavier_fill(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(x)


class VideoHead(nn.Module):
    """Pooled features B x dim_in -> B x num_classes (or a list with predictor outputs).

    Args:
        dim_in: feature width.
        num_classes: output width (classes, or the SSL embedding dim).
        dropout: dropout rate before the projection.
        num_mlp_layers, mlp_dim, bn_mlp, norm_layer: projection MLP (1 layer = Linear).
        predictor_depths: one extra MLP per entry applied to the projection
            (BYOL); when non-empty, forward returns ``[proj, pred_0, ...]``.
        detach: detach features before the projection (linear probe,
            PySlowFast's ``MODEL.DETACH_FINAL_FC``).
        init_std: N(0, init_std) init of a linear classifier (``MODEL.FC_INIT_STD``).
    """

    def __init__(self, dim_in: int, num_classes: int, dropout: float = 0.0,
                 num_mlp_layers: int = 1, mlp_dim: int = 2048, bn_mlp: bool = False,
                 norm_layer=nn.BatchNorm1d, predictor_depths: Sequence[int] = (),
                 detach: bool = False, init_std: float = 0.01):
        super().__init__()
        self.detach = detach
        if dropout > 0:
            self.dropout = nn.Dropout(dropout)
        if num_mlp_layers == 1:
            self.projection = nn.Linear(dim_in, num_classes)
            nn.init.normal_(self.projection.weight, std=init_std)
            nn.init.zeros_(self.projection.bias)
        else:
            self.projection = MLPHead(dim_in, num_classes, mlp_dim, num_mlp_layers, bn_mlp, norm_layer)
        self.predictors = nn.ModuleList(
            MLPHead(num_classes, num_classes, mlp_dim, d, bn_mlp, norm_layer) for d in predictor_depths
        )

    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, List[torch.Tensor]]:
        if hasattr(self, "dropout"):
            x = self.dropout(x)
        if self.detach:
            x = x.detach()
        proj = self.projection(x)
        if len(self.predictors) == 0:
            return proj
        return [proj] + [p(proj) for p in self.predictors]


#: Activations of the detection head, by PySlowFast's ``MODEL.HEAD_ACT`` names.
HEAD_ACTIVATIONS = {"sigmoid": lambda: nn.Sigmoid(), "softmax": lambda: nn.Softmax(dim=1)}


class RoIHead(nn.Module):
    """Per-box classifier on a res5 feature map (PySlowFast's ``ResNetRoIHead``, one pathway).

    ``forward(x, boxes)``: ``x`` N x C x T x H x W (``C == dim_in``), ``boxes`` a
    K x 5 float tensor of rows ``(batch_index, x1, y1, x2, y2)`` in pixels of the
    input clip -> K x num_classes.  Steps, with PySlowFast's module names (none
    of them has parameters except ``projection``, so a PySlowFast AVA checkpoint's
    ``head.projection.{weight,bias}`` load as they are):

    * ``s0_tpool``: average over time, N x C x T x H x W -> N x C x 1 x H x W.
      With ``temporal_pool=k`` it is PySlowFast's ``AvgPool3d((k, 1, 1), stride=1)``
      and T must be exactly ``k`` (InputError otherwise); with ``None`` it
      averages whatever T arrives;
    * ``s0_roi``: torchvision's ``RoIAlign`` to ``resolution x resolution``, with
      ``spatial_scale = 1 / spatial_scale_factor`` (the backbone's output
      stride), ``sampling_ratio=0`` (adaptive) and ``aligned``
      (True: pixel-centre model, box shifted by -0.5 feature pixels) -> K x C x R x R;
    * ``s0_spool``: max over the R x R grid -> K x C;
    * ``dropout`` (only when ``dropout > 0``), optional detach
      (``MODEL.DETACH_FINAL_FC``), ``projection`` Linear(C, num_classes)
      initialised N(0, init_std), zero bias;
    * ``act`` (``"sigmoid"`` for AVA, ``"softmax"`` over classes, or None):
      applied only in eval mode; training returns logits.

    Deviation from PySlowFast: its ``ResNetRoIHead`` applies ``act`` in train
    mode too (its AVA loss ``bce`` is ``BCELoss`` on sigmoid outputs); here a
    training loss gets logits and should be ``BCEWithLogitsLoss`` (PySlowFast's
    ``bce_logit``), which is the same function, computed stably.
    """

    def __init__(self, dim_in: int, num_classes: int, temporal_pool: Optional[int] = None,
                 resolution: int = 7, spatial_scale_factor: float = 16.0, aligned: bool = True,
                 dropout: float = 0.0, act: Optional[str] = "sigmoid", detach: bool = False,
                 init_std: float = 0.01):
        super().__init__()
        if act is not None and act not in HEAD_ACTIVATIONS:
            raise InputError(f"detection head activation {act!r} is not one of {sorted(HEAD_ACTIVATIONS)}")
        if resolution < 1 or spatial_scale_factor <= 0:
            raise InputError(f"RoI resolution must be >= 1 and the scale factor > 0, "
                             f"got {resolution} and {spatial_scale_factor}")
        self.temporal_pool = temporal_pool
        self.detach = detach
        if temporal_pool is None:
            self.s0_tpool = nn.AdaptiveAvgPool3d((1, None, None))
        else:
            self.s0_tpool = nn.AvgPool3d((temporal_pool, 1, 1), stride=1)
        self.s0_roi = RoIAlign((resolution, resolution), spatial_scale=1.0 / spatial_scale_factor,
                               sampling_ratio=0, aligned=aligned)
        self.s0_spool = nn.MaxPool2d(resolution, stride=1)
        if dropout > 0:
            self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(dim_in, num_classes)
        nn.init.normal_(self.projection.weight, std=init_std)
        nn.init.zeros_(self.projection.bias)
        self.act = HEAD_ACTIVATIONS[act]() if act is not None else None

    def pool(self, x: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """N x C x T x H x W features, K x 5 boxes -> K x C pooled box features (before dropout/FC)."""
        if x.dim() != 5:
            raise InputError(f"RoIHead expects N x C x T x H x W features, got shape {tuple(x.shape)}")
        if boxes.dim() != 2 or boxes.shape[1] != 5:
            raise InputError(f"boxes must be K x 5 (batch_index, x1, y1, x2, y2), got shape {tuple(boxes.shape)}")
        if self.temporal_pool is not None and x.shape[2] != self.temporal_pool:
            raise InputError(f"RoIHead pools T={self.temporal_pool} frames (DATA.NUM_FRAMES over the "
                             f"backbone's temporal stride) but the feature map has T={x.shape[2]}")
        x = self.s0_tpool(x).squeeze(2)
        # RoIAlign in float32 (as torchvision's autocast rule does), so box
        # coordinates keep their pixel precision when the features are half.
        x = self.s0_roi(x.float(), boxes.float()).to(x.dtype)
        return self.s0_spool(x).flatten(1)

    def forward(self, x: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """N x C x T x H x W features, K x 5 boxes -> K x num_classes (logits in train, ``act`` in eval)."""
        x = self.pool(x, boxes)
        if hasattr(self, "dropout"):
            x = self.dropout(x)
        if self.detach:
            x = x.detach()
        x = self.projection(x)
        if not self.training and self.act is not None:
            x = self.act(x)
        return x


def apply_head(net: nn.Module, x: torch.Tensor, boxes: Optional[torch.Tensor] = None):
    """``net``'s head on clip ``x`` (B x C x T x H x W); the forward of the backbones that take boxes.

    An :class:`RoIHead` classifies ``boxes`` (K x 5, required) on ``net.forward_maps(x)`` -> K x classes;
    any other head takes ``net.forward_features(x)`` (B x D), and no head returns those features.
    """
    if isinstance(net.head, RoIHead):
        if boxes is None:
            raise InputError(f"this {type(net).__name__} has a detection (RoI) head: forward(x, boxes) "
                             "needs K x 5 boxes")
        return net.head(net.forward_maps(x), boxes)
    if boxes is not None:
        raise InputError("boxes were given but the head is not a detection (RoI) head (DETECTION.ENABLE)")
    feats = net.forward_features(x)
    return feats if net.head is None else net.head(feats)

