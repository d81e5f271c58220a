"""Transformer building blocks of the video ViT, with PySlowFast's parameter names.

A plain (unpooled) PySlowFast ``MultiScaleBlock`` is a pre-norm ViT block;
these modules reproduce its state-dict keys exactly::

    patch_embed.proj.{weight,bias}                 Conv3d tubelet embedding
    blocks.i.norm1 / attn.qkv / attn.proj / norm2 / mlp.fc1 / mlp.fc2

Attention uses ``torch.nn.functional.scaled_dot_product_attention`` (fused
kernels where the device has them) with PySlowFast's scale ``head_dim**-0.5``.
"""

from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from timm.layers import DropPath
from torch import nn

from ..errors import InputError


class PatchEmbed(nn.Module):
    """Tubelet embedding: ``B x C x T x H x W -> (B x N x D, (t, h, w))``, N = t*h*w.

    Tokens are flattened in (t, h, w) order, as PySlowFast and VideoMAE do.
    """

    def __init__(self, in_chans: int, embed_dim: int, kernel: Sequence[int],
                 stride: Sequence[int], padding: Sequence[int] = (0, 0, 0)):
        super().__init__()
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=tuple(kernel),
                              stride=tuple(stride), padding=tuple(padding))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, int, int]]:
        x = self.proj(x)
        grid = tuple(int(s) for s in x.shape[2:])
        return x.flatten(2).transpose(1, 2), grid


class Attention(nn.Module):
    """Multi-head self-attention over ``B x N x D`` tokens (``qkv`` and ``proj`` Linears)."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, proj_drop: float = 0.0):
        super().__init__()
        if dim % num_heads:
            raise InputError(f"embed dim {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop) if proj_drop > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])  # scale head_dim**-0.5
        x = x.transpose(1, 2).reshape(b, n, d)
        return self.proj_drop(self.proj(x))


class Mlp(nn.Module):
    """``fc1 -> GELU -> [dropout] -> fc2 -> [dropout]`` (PySlowFast's common.Mlp)."""

    def __init__(self, dim: int, hidden: int, drop: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop) if drop > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class Block(nn.Module):
    """Pre-norm transformer block ``B x N x D -> B x N x D`` with stochastic depth."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop: float = 0.0, drop_path: float = 0.0, norm_eps: float = 1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias, proj_drop=drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


def init_vit_weights(module: nn.Module) -> None:
    """PySlowFast/MAE init: trunc-normal(0.02) Linear/Conv weights, zero biases, LayerNorm 1/0."""
    if isinstance(module, (nn.Linear, nn.Conv3d)):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
