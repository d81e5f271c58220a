"""Heads shared by all backbones, with PySlowFast's module names.

``VideoHead`` is what PySlowFast calls ``ResNetBasicHead`` (for any backbone
here): dropout -> optional detach -> ``projection`` (a Linear, or an
:class:`MLPHead` for SSL) -> optional ``predictors`` (BYOL).  Parameter
names match PySlowFast checkpoints: ``head.projection.weight`` or
``head.projection.projection.{0,2,4}.weight``, ``head.predictors.0.projection.*``.
"""

from typing import List, Sequence, Union

import torch
from torch import nn


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
