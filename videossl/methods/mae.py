"""Masked autoencoding for video: MAE-ST (PySlowFast ``MaskMViT``) and VideoMAE in one method.

``SSL.METHOD mae`` (PySlowFast: ``MASK.ENABLE`` + ``MASK.MAE_ON``).  The
``ρ = DATA.TRAIN_CROP_NUM_TEMPORAL`` clips of ``batch["views"]`` are
flattened into the batch (MAE-ST's repeated sampling).  Per clip:

1. patchify + position embedding (``backbone.embed``), mask tokens
   (:mod:`videossl.methods.masking`; or ``batch["mask"]`` when the loader
   provides one), keep the visible ones;
2. the encoder sees **only the visible tokens** (+ cls), then ``norm``;
3. ``decoder_embed`` -> append ``mask_token`` for the hidden positions ->
   restore grid order -> decoder position embedding -> ``pred_head``
   (blocks, LN, Linear);
4. MSE between predictions and pixel targets on the masked tokens only.

The two recipes differ only in configuration:

============================  =================================  ==========================================
                              MAE-ST (``k400_VIT_*_MAE_PT``)     VideoMAE (``configs/masked_ssl/videomae``)
============================  =================================  ==========================================
masking                       random over t*h*w                  tube (``AUG.MASK_TUBE``)
encoder / decoder positions   learnable separable + cls / joint  fixed sinusoid, no cls
target                        1x16x16x3 = 768, joint norm        2x16x16x3 = 1536, per-channel norm
                              (``MASK.TIME_STRIDE_LOSS``)        (``MASK.NORM_PIX_PER_CHANNEL``)
============================  =================================  ==========================================

State-dict keys: the encoder under ``backbone.`` (PySlowFast's SSL
convention, cleared by ``linear``/``finetune`` loading), the decoder with
PySlowFast's names (``decoder_embed``, ``mask_token``, ``decoder_pos_embed``
or ``dec_pos_embed_{spatial,temporal,class}``, ``pred_head.*``).
The checkpoint formats registered by :mod:`videossl.models.vit_convert` map
a PySlowFast MaskMViT ``.pyth`` (``maskmvit``) and a VideoMAE pretraining
``.pth`` (``videomae``) onto it.
"""

import math
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..models import build_backbone
from ..models.vit import VisionTransformer
from ..models.vit_convert import resize_pos_state
from ..models.vit_decoder import PredHead
from ..models.vit_pos import resize_joint, resize_spatial, resize_temporal, separable_table, sincos_table
from ..utils.logging import get_logger
from .base import Method
from .masking import MaskGenerator, MaskIndices, build_mask_generator, mask_indices
from .registry import register_method

logger = get_logger("mae")


# ----------------------------------------------------------------------------- targets
def patchify(video: torch.Tensor, patch: Sequence[int]) -> torch.Tensor:
    """``B x C x T x H x W -> B x N x (u*p*q*C)``; tokens in (t, h, w) order, values in (u, p, q, c) order."""
    b, c, tt, hh, ww = video.shape
    u, p, q = patch
    t, h, w = tt // u, hh // p, ww // q
    x = video[:, :, : t * u, : h * p, : w * q].reshape(b, c, t, u, h, p, w, q)
    x = torch.einsum("bctuhpwq->bthwupqc", x)
    return x.reshape(b, t * h * w, u * p * q * c)


def unpatchify(x: torch.Tensor, grid: Sequence[int], patch: Sequence[int], channels: int = 3) -> torch.Tensor:
    """Inverse of :func:`patchify`: ``B x N x (u*p*q*C) -> B x C x t*u x h*p x w*q``."""
    b = x.shape[0]
    t, h, w = grid
    u, p, q = patch
    x = x.reshape(b, t, h, w, u, p, q, channels)
    x = torch.einsum("bthwupqc->bctuhpwq", x)
    return x.reshape(b, channels, t * u, h * p, w * q)


def target_patch(patch_stride: Sequence[int], time_stride_loss: bool) -> Tuple[int, int, int]:
    """The (u, p, q) patch a target token covers: one frame per tubelet with TIME_STRIDE_LOSS."""
    u, p, q = patch_stride
    return (1 if time_stride_loss else u, p, q)


def reconstruction_targets(video: torch.Tensor, patch_stride: Sequence[int], time_stride_loss: bool = True,
                           norm: bool = True, per_channel: bool = False,
                           mean: Optional[Sequence[float]] = None,
                           std: Optional[Sequence[float]] = None) -> torch.Tensor:
    """Pixel targets ``B x N x P`` of a (mean/std-normalised) ``B x C x T x H x W`` clip.

    * ``time_stride_loss``: keep the first frame of each tubelet
      (``video[:, :, ::u]``, MAE-ST): P = p*q*C (768) instead of u*p*q*C (1536).
    * joint (MAE-ST): ``(x - mean) / sqrt(var + 1e-6)`` over all P values of a patch.
    * ``per_channel`` (VideoMAE): un-normalise with ``mean``/``std`` (to [0, 1]
      pixels), then ``(x - mean_c) / (std_c + 1e-6)`` over each colour
      channel's values of a patch; the P values stay in (u, p, q, c) order.

    Variances are unbiased, as ``torch.var`` in both references.
    """
    u, p, q = patch_stride
    video = video.detach()
    if time_stride_loss:
        video = video[:, :, ::u]
    patch = target_patch(patch_stride, time_stride_loss)
    c = video.shape[1]
    if per_channel and mean is not None and std is not None:
        m = torch.as_tensor(mean, dtype=video.dtype, device=video.device).view(1, c, 1, 1, 1)
        s = torch.as_tensor(std, dtype=video.dtype, device=video.device).view(1, c, 1, 1, 1)
        video = video * s + m
    x = patchify(video, patch)
    if not norm:
        return x
    if per_channel:
        b, n, _ = x.shape
        x = x.reshape(b, n, -1, c)
        x = (x - x.mean(dim=-2, keepdim=True)) / (x.var(dim=-2, keepdim=True).sqrt() + 1e-6)
        return x.reshape(b, n, -1)
    return (x - x.mean(dim=-1, keepdim=True)) / (x.var(dim=-1, keepdim=True) + 1e-6) ** 0.5


def _gather_tokens(x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """``B x N x D`` gathered at ``B x K`` ids -> ``B x K x D``."""
    return torch.gather(x, 1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


# ----------------------------------------------------------------------------- method
class MAE(Method):
    """Masked autoencoder around a :class:`~videossl.models.vit.VisionTransformer`.

    Args:
        backbone: the encoder (its position style also picks the decoder's:
            ``sincos`` -> fixed sinusoid, otherwise learnable).
        mask_generator: ``(B, grid, device) -> B x N`` bool mask, True = masked.
        decoder_dim, decoder_depth: ``MASK.DECODER_EMBED_DIM`` / ``DECODER_DEPTH``.
        decoder_sep_pos: separable learnable decoder positions
            (``MASK.DECODER_SEP_POS_EMBED``) instead of one joint table.
        time_stride_loss, norm_pix, per_channel, pixel_mean, pixel_std: target
            definition, see :func:`reconstruction_targets`.
        mlp_ratio, qkv_bias: decoder blocks (as the encoder's).
        act_checkpoint: activation checkpointing in the decoder blocks.
        zero_decay_pos_cls: exempt positions, cls and mask tokens from weight decay.
        scale_init_by_depth: PySlowFast ``MASK.SCALE_INIT_BY_DEPTH``.
    """

    def __init__(self, backbone: VisionTransformer, mask_generator: MaskGenerator,
                 decoder_dim: int = 512, decoder_depth: int = 4, decoder_sep_pos: bool = False,
                 time_stride_loss: bool = True, norm_pix: bool = True, per_channel: bool = False,
                 pixel_mean: Optional[Sequence[float]] = None, pixel_std: Optional[Sequence[float]] = None,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, act_checkpoint: bool = False,
                 zero_decay_pos_cls: bool = False, scale_init_by_depth: bool = False):
        super().__init__()
        self.backbone = backbone
        self.mask_generator = mask_generator
        proj = backbone.patch_embed.proj
        self.patch_stride = tuple(int(s) for s in proj.stride)
        self.in_chans = proj.in_channels
        self.time_stride_loss = time_stride_loss
        self.norm_pix = norm_pix
        self.per_channel = per_channel
        self.pixel_mean = tuple(pixel_mean) if pixel_mean is not None else None
        self.pixel_std = tuple(pixel_std) if pixel_std is not None else None
        self.zero_decay_pos_cls = zero_decay_pos_cls
        u, p, q = target_patch(self.patch_stride, time_stride_loss)
        out_dim = u * p * q * self.in_chans

        t, h, w = self.grid = backbone.grid
        s = backbone.num_prefix_tokens
        self.decoder_embed = nn.Linear(backbone.embed_dim, decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        self.decoder_pos_style = "none"
        if backbone.pos_style == "sincos":
            self.decoder_pos_style = "sincos"
            self.register_buffer("decoder_pos_fixed", sincos_table(t * h * w, decoder_dim), persistent=False)
        elif backbone.pos_style != "none" and decoder_sep_pos:
            self.decoder_pos_style = "separable"
            self.dec_pos_embed_spatial = nn.Parameter(torch.zeros(1, h * w, decoder_dim))
            self.dec_pos_embed_temporal = nn.Parameter(torch.zeros(1, t, decoder_dim))
            if s:
                self.dec_pos_embed_class = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        elif backbone.pos_style != "none":
            self.decoder_pos_style = "joint"
            self.decoder_pos_embed = nn.Parameter(torch.zeros(1, t * h * w + s, decoder_dim))
        self.pred_head = PredHead(decoder_dim, decoder_depth, out_dim, mlp_ratio, qkv_bias, act_checkpoint)
        self._init_decoder()
        if scale_init_by_depth:
            self._rescale_init()

    # ------------------------------------------------------------ init
    def _init_decoder(self) -> None:
        for name in ("mask_token", "decoder_pos_embed", "dec_pos_embed_spatial",
                     "dec_pos_embed_temporal", "dec_pos_embed_class"):
            p = getattr(self, name, None)
            if isinstance(p, nn.Parameter):
                nn.init.trunc_normal_(p, std=0.02)
        nn.init.trunc_normal_(self.decoder_embed.weight, std=0.02)
        nn.init.zeros_(self.decoder_embed.bias)

    @torch.no_grad()
    def _rescale_init(self) -> None:
        """PySlowFast ``fix_init_weight``: divide attn.proj / mlp.fc2 weights by sqrt(2 * layer)."""
        blocks = self.backbone.blocks
        for i, blk in enumerate(blocks):
            blk.attn.proj.weight.div_(math.sqrt(2.0 * (i + 1)))
            blk.mlp.fc2.weight.div_(math.sqrt(2.0 * (i + 1)))
        for i, layer in enumerate(self.pred_head.transforms[0]):
            if hasattr(layer, "attn"):
                layer.attn.proj.weight.div_(math.sqrt(2.0 * (i + 1 + len(blocks))))
                layer.mlp.fc2.weight.div_(math.sqrt(2.0 * (i + 1)))

    # ------------------------------------------------------------ pieces
    def _decoder_pos(self, grid) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """(cls position 1x1xDd or None, patch positions 1xNxDd or None) for ``grid``."""
        s = self.backbone.num_prefix_tokens
        t, h, w = grid
        if self.decoder_pos_style == "sincos":
            table = self.decoder_pos_fixed
            if tuple(grid) != tuple(self.grid):
                table = sincos_table(t * h * w, table.shape[-1]).to(table.device)
            return None, table
        if self.decoder_pos_style == "separable":
            spatial = resize_spatial(self.dec_pos_embed_spatial, self.grid[1:], (h, w))
            table = separable_table(spatial, resize_temporal(self.dec_pos_embed_temporal, t), t)
            return (self.dec_pos_embed_class if s else None), table
        if self.decoder_pos_style == "joint":
            cls_pos = self.decoder_pos_embed[:, :s] if s else None
            return cls_pos, resize_joint(self.decoder_pos_embed[:, s:], self.grid, grid)
        return None, None

    def adapt_state_dict(self, state: Dict[str, torch.Tensor], prefix: str = "") -> Dict[str, torch.Tensor]:
        """Resize the decoder position tables of a checkpoint ``state`` to this model's grid."""
        targets = {prefix + n: p.shape for n, p in self.named_parameters(recurse=False) if "pos_embed" in n}
        return resize_pos_state(state, targets, self.grid, self.backbone.num_prefix_tokens)

    def make_mask(self, batch_size: int, grid, device, generator: Optional[torch.Generator] = None):
        """A fresh ``B x N`` bool mask from the configured generator."""
        return self.mask_generator(batch_size, grid, device=device, generator=generator)

    def encode(self, video: torch.Tensor, mask: Optional[torch.Tensor] = None,
               generator: Optional[torch.Generator] = None):
        """Encoder on the visible tokens only.

        ``mask``: B x N bool (True = masked); None draws one (from ``generator``).
        Returns ``(latent, indices, grid)``: ``latent`` B x (1+)K x D after
        ``norm`` (cls first when the backbone has one), the
        :class:`~videossl.methods.masking.MaskIndices` used, and the token grid.
        """
        tokens, grid = self.backbone.embed(video)
        if mask is None:
            mask = self.make_mask(tokens.shape[0], grid, tokens.device, generator)
        idx = mask_indices(mask.to(tokens.device))
        visible = _gather_tokens(tokens, idx.ids_keep)
        latent = self.backbone.norm(self.backbone.forward_tokens(visible))
        return latent, idx, grid

    def decode(self, latent: torch.Tensor, idx: MaskIndices, grid, return_all: bool = False) -> torch.Tensor:
        """Predictions ``B x M x P`` for the masked tokens (ascending ids), or ``B x N x P`` with ``return_all``."""
        s = self.backbone.num_prefix_tokens
        y = self.decoder_embed(latent)
        b, _, d = y.shape
        num_masked = idx.ids_masked.shape[1]
        full = torch.cat([y[:, s:], self.mask_token.to(y.dtype).expand(b, num_masked, d)], dim=1)
        full = _gather_tokens(full, idx.ids_restore)
        cls_pos, pos = self._decoder_pos(grid)
        if pos is not None:
            full = full + pos.to(full.dtype)
        if s:
            prefix = y[:, :s] if cls_pos is None else y[:, :s] + cls_pos.to(y.dtype)
            full = torch.cat([prefix, full], dim=1)
        full = self.pred_head.transform(full)[:, s:]
        if not return_all:
            full = _gather_tokens(full, idx.ids_masked)
        return self.pred_head.project(full)

    def targets(self, video: torch.Tensor) -> torch.Tensor:
        """``B x N x P`` reconstruction targets of ``video`` (see :func:`reconstruction_targets`)."""
        return reconstruction_targets(video, self.patch_stride, self.time_stride_loss, self.norm_pix,
                                      self.per_channel, self.pixel_mean, self.pixel_std)

    def _batch_mask(self, batch: Dict, num_clips: int, total: int) -> Optional[torch.Tensor]:
        mask = batch.get("mask")
        if mask is None:
            return None
        mask = mask.flatten(1).bool()
        if mask.shape[0] != total:
            mask = mask.repeat(num_clips, 1)
        return mask

    # ------------------------------------------------------------ contract
    def forward(self, batch: Dict) -> Dict[str, torch.Tensor]:
        views = batch["views"]
        video = torch.cat(list(views), dim=0)  # rho clips flattened into the batch
        mask = self._batch_mask(batch, len(views), video.shape[0])
        latent, idx, grid = self.encode(video, mask)
        all_tokens = idx.ids_masked.shape[1] == 0  # ratio 0: reconstruct every token
        pred = self.decode(latent, idx, grid, return_all=all_tokens)
        target = self.targets(video)
        if target.shape[1] != idx.mask.shape[1]:
            raise InputError(f"target grid has {target.shape[1]} patches but the encoder {idx.mask.shape[1]} tokens")
        if not all_tokens:
            target = _gather_tokens(target, idx.ids_masked)
        loss = F.mse_loss(pred.float(), target.float())
        return {"loss": loss}

    @torch.no_grad()
    def reconstruct(self, video: torch.Tensor, mask: Optional[torch.Tensor] = None,
                    generator: Optional[torch.Generator] = None) -> Dict[str, torch.Tensor]:
        """For visualisation: ``pred``/``target`` B x N x P for all tokens, ``mask`` B x N, ``grid``."""
        latent, idx, grid = self.encode(video, mask, generator)
        pred = self.decode(latent, idx, grid, return_all=True)
        return {"pred": pred, "target": self.targets(video), "mask": idx.mask, "grid": grid}

    def features(self, batch: Dict) -> torch.Tensor:
        """Pooled encoder features of ``views[0]`` over all tokens (no masking)."""
        return self.backbone.forward_features(batch["views"][0])

    def no_weight_decay_names(self):
        if not self.zero_decay_pos_cls:
            return set()
        names = {f"backbone.{n}" for n in self.backbone.no_weight_decay()}
        own = {n for n, _ in self.named_parameters()}
        return names | ({"mask_token", "decoder_pos_embed", "dec_pos_embed_spatial",
                         "dec_pos_embed_temporal", "dec_pos_embed_class"} & own)


@register_method("mae")
def build(cfg) -> MAE:
    """MAE from MVIT.* (encoder), MASK.* (decoder, target), AUG.MASK_* (masking)."""
    backbone = build_backbone(cfg)
    if not isinstance(backbone, VisionTransformer):
        raise InputError(f"SSL.METHOD mae needs a ViT backbone (MODEL.ARCH vit/mvit/maskmvit), "
                         f"got MODEL.ARCH={cfg.MODEL.ARCH!r}")
    m = cfg.MASK
    if len(m.PRETRAIN_DEPTH) != 1:
        raise InputError(f"MASK.PRETRAIN_DEPTH={m.PRETRAIN_DEPTH}: MAE reconstructs from one depth")
    keep = m.PRETRAIN_DEPTH[0] + 1
    if keep < len(backbone.blocks):
        logger.info("MASK.PRETRAIN_DEPTH=%s: encoder keeps %d of %d blocks", m.PRETRAIN_DEPTH, keep,
                    len(backbone.blocks))
        del backbone.blocks[keep:]
    if m.HEAD_TYPE not in ("separate", "separate_xformer"):
        raise InputError(f"MASK.HEAD_TYPE={m.HEAD_TYPE!r} is not one of separate, separate_xformer")
    if m.HEAD_TYPE == "separate_xformer" and m.DECODER_DEPTH < 1:
        raise InputError("MASK.HEAD_TYPE separate_xformer needs MASK.DECODER_DEPTH >= 1")
    depth = m.DECODER_DEPTH if m.HEAD_TYPE == "separate_xformer" else 0
    return MAE(
        backbone, build_mask_generator(cfg), decoder_dim=m.DECODER_EMBED_DIM, decoder_depth=depth,
        decoder_sep_pos=m.DECODER_SEP_POS_EMBED, time_stride_loss=m.TIME_STRIDE_LOSS,
        norm_pix=m.NORM_PRED_PIXEL, per_channel=m.NORM_PIX_PER_CHANNEL,
        pixel_mean=cfg.DATA.MEAN, pixel_std=cfg.DATA.STD, mlp_ratio=cfg.MVIT.MLP_RATIO,
        qkv_bias=cfg.MVIT.QKV_BIAS, act_checkpoint=cfg.MODEL.ACT_CHECKPOINT,
        zero_decay_pos_cls=cfg.MVIT.ZERO_DECAY_POS_CLS, scale_init_by_depth=m.SCALE_INIT_BY_DEPTH,
    )
