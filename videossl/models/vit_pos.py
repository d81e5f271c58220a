"""Position embeddings of the video ViT and their resizing.

Three styles, all producing a ``1 x N x D`` table for a token grid (t, h, w)
flattened in (t, h, w) order:

* ``separable`` (MAE-ST / PySlowFast ``MVIT.SEP_POS_EMBED``): learnable
  ``pos_embed_spatial`` [1, h*w, D] repeated over time plus
  ``pos_embed_temporal`` [1, t, D] repeated over space (+ ``pos_embed_class``
  for the cls token);
* ``joint``: one learnable ``pos_embed`` [1, (1+)t*h*w, D];
* ``sincos`` (VideoMAE, ``MVIT.USE_FIXED_SINCOS_POS``): the fixed 1-D
  sinusoid table over the N positions (not a parameter, not in the
  state dict).

Resizing (when frames or resolution change): temporal tables are resized
with linear interpolation, spatial ones with bicubic interpolation
(``align_corners=False``); a joint table is resized spatially per frame, then
temporally.  The sinusoid is simply recomputed for the new N, as VideoMAE
does when it builds a model for another input size.
"""

from typing import Tuple

import torch
import torch.nn.functional as F

Grid = Tuple[int, int, int]


def sincos_table(num_positions: int, dim: int) -> torch.Tensor:
    """VideoMAE's ``get_sinusoid_encoding_table``: ``1 x num_positions x dim`` (float32).

    Entry (p, j) is ``sin(p / 10000**(2*(j//2)/dim))`` for even j and ``cos`` for odd j.
    """
    pos = torch.arange(num_positions, dtype=torch.float64)[:, None]
    j = torch.arange(dim, dtype=torch.float64)[None, :]
    angle = pos / torch.pow(10000.0, 2 * torch.div(j, 2, rounding_mode="floor") / dim)
    table = torch.where(j.long() % 2 == 0, torch.sin(angle), torch.cos(angle))
    return table.float().unsqueeze(0)


def resize_temporal(table: torch.Tensor, t: int) -> torch.Tensor:
    """``1 x t0 x D -> 1 x t x D`` by linear interpolation (identity when t == t0)."""
    if table.shape[1] == t:
        return table
    out = F.interpolate(table.transpose(1, 2).float(), size=t, mode="linear", align_corners=False)
    return out.transpose(1, 2).to(table.dtype)


def resize_spatial(table: torch.Tensor, src_hw: Tuple[int, int], hw: Tuple[int, int]) -> torch.Tensor:
    """``1 x h0*w0 x D -> 1 x h*w x D`` by bicubic interpolation (identity when equal)."""
    if tuple(src_hw) == tuple(hw):
        return table
    d = table.shape[-1]
    grid = table.reshape(1, src_hw[0], src_hw[1], d).permute(0, 3, 1, 2).float()
    out = F.interpolate(grid, size=tuple(hw), mode="bicubic", align_corners=False)
    return out.permute(0, 2, 3, 1).reshape(1, hw[0] * hw[1], d).to(table.dtype)


def resize_joint(table: torch.Tensor, src: Grid, dst: Grid) -> torch.Tensor:
    """``1 x t0*h0*w0 x D -> 1 x t*h*w x D``: bicubic per frame, then linear over time."""
    if tuple(src) == tuple(dst):
        return table
    t0, h0, w0 = src
    t, h, w = dst
    d = table.shape[-1]
    frames = table.reshape(t0, h0 * w0, d)
    frames = torch.cat([resize_spatial(f[None], (h0, w0), (h, w)) for f in frames], 0)  # t0 x hw x D
    seq = frames.permute(1, 0, 2)  # hw x t0 x D: resize each spatial position over time
    seq = F.interpolate(seq.transpose(1, 2).float(), size=t, mode="linear", align_corners=False)
    return seq.permute(2, 0, 1).reshape(1, t * h * w, d).to(table.dtype)


def separable_table(spatial: torch.Tensor, temporal: torch.Tensor, t: int) -> torch.Tensor:
    """Combine ``1 x hw x D`` and ``1 x t x D`` into the ``1 x t*hw x D`` table ((t, h, w) order)."""
    hw = spatial.shape[1]
    return spatial.repeat(1, t, 1) + torch.repeat_interleave(temporal, hw, dim=1)
