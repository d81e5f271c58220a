"""Video Vision Transformer (ViT-B/L/H and a tiny one for tests), PySlowFast-compatible.

This is the ViT that PySlowFast builds as ``MViT`` with no pooling (the MAE
configs' ``MODEL.ARCH mvit`` / ``maskmvit``): a Conv3d tubelet embedding
(``MVIT.PATCH_KERNEL/STRIDE``, 2x16x16), absolute position embeddings, a cls
token (``MVIT.CLS_EMBED_ON``), pre-norm blocks with drop path and a final
``norm``.  State-dict keys equal PySlowFast's (``cls_token``,
``pos_embed_{spatial,temporal,class}``, ``patch_embed.proj``,
``blocks.i.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}``, ``norm``,
``head.projection``), so its ``.pyth`` checkpoints load as they are;
VideoMAE checkpoints load through the formats :mod:`videossl.models.vit_convert`
registers with :mod:`videossl.models.convert`.

Backbone contract: ``forward_features(x: B x C x T x H x W) -> B x D``,
``feature_dim`` and a ``head`` attribute (attached by ``build_model``).
For masked modelling the stages are exposed separately:
``embed`` (patchify + position) -> select visible tokens -> ``forward_tokens``
(cls + blocks) -> ``norm``.
"""

from typing import Dict, Optional, Sequence, Set, Tuple

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from ..errors import InputError
from .build import construct, register_arch
from .vit_convert import resize_pos_state  # importing it registers the VideoMAE / MaskMViT formats
from .vit_layers import Block, PatchEmbed, init_vit_weights
from .vit_pos import Grid, resize_joint, resize_spatial, resize_temporal, separable_table, sincos_table

#: (embed_dim, depth, num_heads) of the standard sizes; "tiny" is for tests.
VIT_SIZES: Dict[str, Tuple[int, int, int]] = {
    "tiny": (64, 2, 2),
    "S": (384, 12, 6),
    "B": (768, 12, 12),
    "L": (1024, 24, 16),
    "H": (1280, 32, 16),
}

POS_STYLES = ("separable", "joint", "sincos", "none")


def _out_size(size: int, kernel: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - kernel) // stride + 1


class VisionTransformer(nn.Module):
    """ViT over tubelet tokens.

    Args:
        embed_dim, depth, num_heads, mlp_ratio, qkv_bias: transformer size.
        in_chans: input channels C.
        num_frames, crop_size: the input T and H = W the position tables are
            built for (other sizes are interpolated at run time).
        patch_kernel, patch_stride, patch_padding: tubelet Conv3d geometry.
        pos_embed: one of ``separable`` (MAE-ST), ``joint``, ``sincos``
            (VideoMAE, fixed), ``none``.
        use_cls_token: prepend a learnable cls token (with ``pos_embed_class``).
        use_mean_pooling: pooled features = ``norm(mean(patch tokens))``;
            otherwise ``norm(x)[:, 0]`` with a cls token, or
            ``mean(norm(x))`` without (PySlowFast's three cases).
        drop_rate: dropout after position embedding, attention and MLP.
        drop_path_rate: stochastic depth, linearly increasing over blocks.
        head_init_scale: a Linear ``head.projection`` attached later is
            re-initialised trunc-normal(0.02) with zero bias and scaled by
            this (PySlowFast ``MVIT.HEAD_INIT_SCALE``, VideoMAE ``init_scale``).
        act_checkpoint: recompute block activations in backward (training only).
        zero_decay_pos_cls: list pos embeds and cls token in :meth:`no_weight_decay`.
    """

    def __init__(self, embed_dim: int = 768, depth: int = 12, num_heads: int = 12,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, in_chans: int = 3,
                 num_frames: int = 16, crop_size: int = 224,
                 patch_kernel: Sequence[int] = (2, 16, 16), patch_stride: Sequence[int] = (2, 16, 16),
                 patch_padding: Sequence[int] = (0, 0, 0), pos_embed: str = "separable",
                 use_cls_token: bool = True, use_mean_pooling: bool = False,
                 drop_rate: float = 0.0, drop_path_rate: float = 0.0, head_init_scale: float = 1.0,
                 act_checkpoint: bool = False, zero_decay_pos_cls: bool = True, norm_eps: float = 1e-6):
        super().__init__()
        if pos_embed not in POS_STYLES:
            raise InputError(f"pos_embed={pos_embed!r} is not one of {POS_STYLES}")
        self.embed_dim = self.feature_dim = embed_dim
        self.pos_style = pos_embed
        self.cls_embed_on = use_cls_token
        self.use_mean_pooling = use_mean_pooling
        self.head_init_scale = head_init_scale
        self.act_checkpoint = act_checkpoint
        self.zero_decay_pos_cls = zero_decay_pos_cls
        self.grid: Grid = tuple(
            _out_size(n, k, s, p)
            for n, k, s, p in zip((num_frames, crop_size, crop_size), patch_kernel, patch_stride, patch_padding)
        )
        t, h, w = self.grid
        self.patch_embed = PatchEmbed(in_chans, embed_dim, patch_kernel, patch_stride, patch_padding)
        if use_cls_token:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        if pos_embed == "separable":
            self.pos_embed_spatial = nn.Parameter(torch.zeros(1, h * w, embed_dim))
            self.pos_embed_temporal = nn.Parameter(torch.zeros(1, t, embed_dim))
            if use_cls_token:
                self.pos_embed_class = nn.Parameter(torch.zeros(1, 1, embed_dim))
        elif pos_embed == "joint":
            self.pos_embed = nn.Parameter(torch.zeros(1, t * h * w + int(use_cls_token), embed_dim))
        elif pos_embed == "sincos":
            self.register_buffer("pos_embed_fixed", sincos_table(t * h * w, embed_dim), persistent=False)
        self.pos_drop = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()
        dpr = [drop_path_rate * i / (depth - 1) if depth > 1 else 0.0 for i in range(depth)]  # linspace
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, drop=drop_rate, drop_path=dpr[i], norm_eps=norm_eps)
            for i in range(depth)
        )
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.head: Optional[nn.Module] = None
        self._init_weights()

    # ------------------------------------------------------------ init
    def _init_weights(self) -> None:
        for name in ("cls_token", "pos_embed_spatial", "pos_embed_temporal", "pos_embed_class", "pos_embed"):
            p = getattr(self, name, None)
            if isinstance(p, nn.Parameter):
                nn.init.trunc_normal_(p, std=0.02)
        self.apply(init_vit_weights)

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name == "head" and isinstance(value, nn.Module):
            self._init_head(value)

    def _init_head(self, head: nn.Module) -> None:
        """PySlowFast/VideoMAE classifier init, once per head module."""
        proj = getattr(head, "projection", None)
        if not isinstance(proj, nn.Linear) or getattr(head, "_vit_head_initialised", False):
            return
        if proj.weight.device.type != "meta":
            with torch.no_grad():
                nn.init.trunc_normal_(proj.weight, std=0.02)
                proj.weight.mul_(self.head_init_scale)
                if proj.bias is not None:
                    proj.bias.zero_()
        head._vit_head_initialised = True

    # ------------------------------------------------------------ positions
    @property
    def num_prefix_tokens(self) -> int:
        """1 with a cls token, else 0."""
        return int(self.cls_embed_on)

    def pos_table(self, grid: Grid) -> Optional[torch.Tensor]:
        """``1 x N x D`` position embedding of the patch tokens for ``grid`` (resized if needed)."""
        t, h, w = grid
        if self.pos_style == "separable":
            spatial = resize_spatial(self.pos_embed_spatial, self.grid[1:], (h, w))
            temporal = resize_temporal(self.pos_embed_temporal, t)
            return separable_table(spatial, temporal, t)
        if self.pos_style == "joint":
            return resize_joint(self.pos_embed[:, self.num_prefix_tokens:], self.grid, grid)
        if self.pos_style == "sincos":
            if tuple(grid) == tuple(self.grid):
                return self.pos_embed_fixed
            return sincos_table(t * h * w, self.embed_dim).to(self.pos_embed_fixed.device)
        return None

    def cls_pos(self) -> Optional[torch.Tensor]:
        """``1 x 1 x D`` position embedding of the cls token (None when it has none)."""
        if not self.cls_embed_on:
            return None
        if self.pos_style == "separable":
            return self.pos_embed_class
        if self.pos_style == "joint":
            return self.pos_embed[:, :1]
        return None

    # ------------------------------------------------------------ stages
    def embed(self, x: torch.Tensor) -> Tuple[torch.Tensor, Grid]:
        """Patchify and add positions: ``B x C x T x H x W -> (B x N x D, (t, h, w))`` (no cls)."""
        tokens, grid = self.patch_embed(x)
        pos = self.pos_table(grid)
        if pos is not None:
            tokens = tokens + pos.to(tokens.dtype)
        return tokens, grid

    def forward_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Prepend the cls token and run the blocks: ``B x K x D -> B x (1+)K x D`` (before ``norm``).

        ``tokens`` may be any subset of the embedded patch tokens (MAE's visible ones).
        """
        if self.cls_embed_on:
            cls = self.cls_token
            pos = self.cls_pos()
            if pos is not None:
                cls = cls + pos
            tokens = torch.cat([cls.expand(tokens.shape[0], -1, -1).to(tokens.dtype), tokens], dim=1)
        x = self.pos_drop(tokens)
        use_ckpt = self.act_checkpoint and self.training and torch.is_grad_enabled()
        for blk in self.blocks:
            x = checkpoint(blk, x, use_reentrant=False) if use_ckpt else blk(x)
        return x

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """``B x (1+)N x D`` block output -> ``B x D`` (PySlowFast's pooling rules)."""
        if self.use_mean_pooling:
            return self.norm(x[:, self.num_prefix_tokens:].mean(1))
        if self.cls_embed_on:
            return self.norm(x[:, 0])
        return self.norm(x).mean(1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``B x C x T x H x W -> B x D`` pooled features over all tokens."""
        if isinstance(x, (list, tuple)):
            x = x[0]
        tokens, _ = self.embed(x)
        return self.pool(self.forward_tokens(tokens))

    def forward_maps(self, x: torch.Tensor) -> torch.Tensor:
        """``B x C x T x H x W -> B x D x t x h x w``: the normalised patch tokens of the last block on
        their grid (stride = the patch size; AVA's RoI head pools boxes on it)."""
        tokens, (t, h, w) = self.embed(x)
        out = self.norm(self.forward_tokens(tokens)[:, self.num_prefix_tokens:])
        return out.transpose(1, 2).reshape(out.shape[0], out.shape[2], t, h, w)

    def forward(self, x: torch.Tensor, boxes: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Clip -> the head's output; with a detection (RoI) head ``boxes`` (K x 5) are classified
        on :meth:`forward_maps`."""
        from .heads import apply_head

        return apply_head(self, x, boxes)

    def adapt_state_dict(self, state: Dict[str, torch.Tensor], prefix: str = "") -> Dict[str, torch.Tensor]:
        """Resize this model's position tables in a checkpoint ``state`` to the model's grid.

        Temporal tables linearly, spatial ones bicubically (see
        :func:`~videossl.models.vit_convert.resize_pos_state`); called by
        :func:`~videossl.models.vit_convert.adapt_to_model` before loading.
        """
        targets = {prefix + n: p.shape for n, p in self.named_parameters(recurse=False) if "pos_embed" in n}
        return resize_pos_state(state, targets, self.grid, self.num_prefix_tokens)

    # ------------------------------------------------------------ optimizer hints
    def no_weight_decay(self) -> Set[str]:
        """Names PySlowFast exempts from weight decay when ``MVIT.ZERO_DECAY_POS_CLS``."""
        if not self.zero_decay_pos_cls:
            return set()
        names = {"pos_embed_spatial", "pos_embed_temporal", "pos_embed_class", "pos_embed", "cls_token"}
        own = {n for n, _ in self.named_parameters()}
        return names & own


def vit_from_size(size: str, **kwargs) -> VisionTransformer:
    """A ViT of a standard size (``tiny``, ``S``, ``B``, ``L``, ``H``); kwargs as in the class (may override)."""
    dim, depth, heads = VIT_SIZES[size]
    args = dict(embed_dim=dim, depth=depth, num_heads=heads)
    args.update(kwargs)
    return VisionTransformer(**args)


def vit_kwargs_from_cfg(cfg) -> dict:
    """Plain constructor arguments from MVIT.* / DATA.* / MODEL.* (the only config reader)."""
    m = cfg.MVIT
    if m.NORM != "layernorm":
        raise InputError(f"MVIT.NORM={m.NORM!r}: the ViT supports layernorm only")
    if m.USE_FIXED_SINCOS_POS:
        if m.SEP_POS_EMBED:
            raise InputError("MVIT.USE_FIXED_SINCOS_POS needs MVIT.SEP_POS_EMBED False (PySlowFast rule)")
        pos = "sincos"
    elif not m.USE_ABS_POS:
        pos = "none"
    else:
        pos = "separable" if m.SEP_POS_EMBED else "joint"
    return dict(
        embed_dim=m.EMBED_DIM, depth=m.DEPTH, num_heads=m.NUM_HEADS, mlp_ratio=m.MLP_RATIO,
        qkv_bias=m.QKV_BIAS, in_chans=cfg.DATA.INPUT_CHANNEL_NUM[0], num_frames=cfg.DATA.NUM_FRAMES,
        crop_size=cfg.DATA.TRAIN_CROP_SIZE, patch_kernel=tuple(m.PATCH_KERNEL),
        patch_stride=tuple(m.PATCH_STRIDE), patch_padding=tuple(m.PATCH_PADDING), pos_embed=pos,
        use_cls_token=m.CLS_EMBED_ON, use_mean_pooling=m.USE_MEAN_POOLING, drop_rate=m.DROPOUT_RATE,
        drop_path_rate=m.DROPPATH_RATE, head_init_scale=m.HEAD_INIT_SCALE,
        act_checkpoint=cfg.MODEL.ACT_CHECKPOINT, zero_decay_pos_cls=m.ZERO_DECAY_POS_CLS,
    )


@register_arch("vit", "mvit", "maskmvit")
def build_vit(cfg, **overrides) -> VisionTransformer:
    """ViT from MVIT.* (PySlowFast's ``mvit``/``maskmvit`` with no pooling are this ViT)."""
    return construct(VisionTransformer, vit_kwargs_from_cfg(cfg), overrides)
