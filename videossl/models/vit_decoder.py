"""The light MAE decoder head, with PySlowFast's ``MSSeparateHead`` parameter names.

``PredHead`` = ``transforms.0`` (``depth`` transformer blocks, then a
LayerNorm at index ``depth``) -> ``projections.0`` (Linear to the target
size).  Inside an MAE method it is ``pred_head``, so its keys read
``pred_head.transforms.0.{i}.attn.qkv.weight``, ``pred_head.transforms.0.{depth}.weight``,
``pred_head.projections.0.weight`` exactly as in a PySlowFast MaskMViT checkpoint.
"""

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from .vit_layers import Block, init_vit_weights


def decoder_num_heads(dim: int) -> int:
    """PySlowFast (and VideoMAE's S/B/L/H presets) use 64-wide heads: ``dim // 64`` (at least 1)."""
    return max(1, dim // 64)


class PredHead(nn.Module):
    """``B x N x dim -> B x N x out_dim`` (blocks -> LayerNorm -> Linear).

    Args:
        dim: decoder width (``MASK.DECODER_EMBED_DIM``).
        depth: number of blocks (``MASK.DECODER_DEPTH``; 0 gives LN + Linear).
        out_dim: values predicted per token (768 or 1536 for 16x16 RGB patches).
        mlp_ratio, qkv_bias: as the encoder's.
        act_checkpoint: recompute block activations in backward (training only).
    """

    def __init__(self, dim: int, depth: int, out_dim: int, mlp_ratio: float = 4.0,
                 qkv_bias: bool = True, act_checkpoint: bool = False):
        super().__init__()
        heads = decoder_num_heads(dim)
        layers = [Block(dim, heads, mlp_ratio, qkv_bias) for _ in range(depth)]
        layers.append(nn.LayerNorm(dim, eps=1e-6))
        self.transforms = nn.ModuleList([nn.Sequential(*layers)])
        self.projections = nn.ModuleList([nn.Linear(dim, out_dim)])
        self.act_checkpoint = act_checkpoint
        self.apply(init_vit_weights)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """Blocks and the final LayerNorm: ``B x N x dim -> B x N x dim``."""
        use_ckpt = self.act_checkpoint and self.training and torch.is_grad_enabled()
        for layer in self.transforms[0]:
            x = checkpoint(layer, x, use_reentrant=False) if use_ckpt and isinstance(layer, Block) else layer(x)
        return x

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """``... x dim -> ... x out_dim``."""
        return self.projections[0](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.transform(x))
