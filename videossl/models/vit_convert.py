"""Checkpoint key mappings for the video ViT and the MAE method.

Layouts (all keys as in ``state_dict()``):

``vit``       our backbone = PySlowFast MViT-as-ViT (``cls_token``,
              ``pos_embed_*``, ``patch_embed.proj``, ``blocks.i.*``,
              ``norm``, ``head.projection``): a PySlowFast finetuned
              ``.pyth`` loads as it is.
``mae``       our MAE method: the encoder under ``backbone.`` plus the decoder
              (``decoder_embed``, ``mask_token``, ``decoder_pos_embed``,
              ``pred_head.transforms.0.*``, ``pred_head.projections.0``).
``maskmvit``  PySlowFast MAE pretraining (``MaskMViT``): ``mae`` without the
              ``backbone.`` prefix.
``videomae``  VideoMAE (``model``/``module``; pretraining keys under
              ``encoder.``/``decoder.``; ``attn.q_bias``/``attn.v_bias``
              instead of a ``qkv`` bias; finetuned models have ``fc_norm``
              and ``head``).

VideoMAE's ``qkv`` has no bias but ``q_bias``/``v_bias`` parameters; it maps
onto our ``qkv.bias`` with a zero k part (a k bias adds the same value to
every logit of a query, so softmax attention ignores it: the reverse mapping
drops it without changing outputs).  VideoMAE's ``encoder_to_decoder`` has no
bias: ours gets a zero one.  Finetuned VideoMAE applies ``fc_norm`` after
mean pooling where PySlowFast applies ``norm``: ``fc_norm`` maps onto ``norm``.

Every mapping returns a new dict and leaves keys it does not know untouched,
so the loader can report them.  Importing this module registers two formats
with :func:`videossl.models.convert.register_source`: ``videomae`` (replacing
the placeholder) and ``maskmvit``; :func:`load_vit_checkpoint` adds the
resizing of position tables to :func:`videossl.models.convert.load_pretrained`.
"""

import math
import re
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import torch
from torch import nn

from ..errors import InputError
from .vit_pos import resize_joint, resize_spatial, resize_temporal

StateDict = Dict[str, torch.Tensor]

DECODER_PREFIXES = ("decoder_embed.", "pred_head.", "decoder_pos_embed", "dec_pos_embed_", "mask_token")


# ----------------------------------------------------------------------------- helpers
def unwrap_checkpoint(obj) -> StateDict:
    """The state dict inside a loaded checkpoint (PySlowFast ``model_state``, VideoMAE ``model``/``module``)."""
    if isinstance(obj, Mapping):
        for key in ("model_state", "model", "module", "state_dict"):
            if key in obj and isinstance(obj[key], Mapping):
                return dict(obj[key])
    return dict(obj)


def strip_prefixes(sd: Mapping[str, torch.Tensor], prefixes: Iterable[str]) -> StateDict:
    """Remove the first matching leading prefix of every key (``module.``, ``encoder.``...)."""
    out = {}
    for k, v in sd.items():
        for p in prefixes:
            if k.startswith(p):
                k = k[len(p):]
                break
        out[k] = v
    return out


def is_videomae(sd: Mapping[str, torch.Tensor]) -> bool:
    """VideoMAE layout: ``q_bias``/``v_bias``, ``encoder.``/``encoder_to_decoder``, or ``fc_norm``."""
    return any(k.endswith("attn.q_bias") or k.startswith(("encoder.", "encoder_to_decoder.", "fc_norm."))
               or k.startswith("module.encoder.") for k in sd)


def is_decoder_key(key: str) -> bool:
    return key.startswith(DECODER_PREFIXES)


def _merge_qv_bias(sd: StateDict) -> StateDict:
    """``X.attn.q_bias`` + ``X.attn.v_bias`` -> ``X.attn.qkv.bias`` = [q, 0, v]."""
    out = dict(sd)
    for k in [k for k in sd if k.endswith("attn.q_bias")]:
        base = k[: -len("q_bias")]
        q = out.pop(k)
        v = out.pop(base + "v_bias")
        out[base + "qkv.bias"] = torch.cat([q, torch.zeros_like(q), v])
    return out


def _split_qkv_bias(sd: StateDict) -> StateDict:
    """Inverse of :func:`_merge_qv_bias` (the k part is dropped; it does not change attention)."""
    out = dict(sd)
    for k in [k for k in sd if k.endswith("attn.qkv.bias")]:
        base = k[: -len("qkv.bias")]
        q, _, v = out.pop(k).chunk(3)
        out[base + "q_bias"], out[base + "v_bias"] = q.clone(), v.clone()
    return out


# ----------------------------------------------------------------------------- VideoMAE
def videomae_to_vit(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """VideoMAE (pretrain encoder or finetuned model) -> ``vit`` layout.

    Decoder keys (``decoder.*``, ``encoder_to_decoder``, ``mask_token``) are
    left as they are (not used by a backbone).
    """
    sd = strip_prefixes(unwrap_checkpoint(sd), ("module.",))
    sd = strip_prefixes(sd, ("encoder.", "backbone."))
    sd = _merge_qv_bias(sd)
    out = {}
    for k, v in sd.items():
        if k.startswith("fc_norm."):
            continue
        if k in ("head.weight", "head.bias"):
            k = "head.projection." + k.split(".")[-1]
        out[k] = v
    for k, v in sd.items():  # fc_norm (after pooling) wins over the pretrain encoder's norm
        if k.startswith("fc_norm."):
            out["norm." + k[len("fc_norm."):]] = v
    return out


def videomae_to_mae(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """VideoMAE pretraining checkpoint -> ``mae`` layout (encoder under ``backbone.``, decoder renamed)."""
    sd = strip_prefixes(unwrap_checkpoint(sd), ("module.",))
    decoder_side = ("decoder.", "encoder_to_decoder.", "mask_token")
    enc = videomae_to_vit({k: v for k, v in sd.items() if not k.startswith(decoder_side)})
    out = {f"backbone.{k}": v for k, v in enc.items()}
    dec = _merge_qv_bias({k[len("decoder."):]: v for k, v in sd.items() if k.startswith("decoder.")})
    depth = 1 + max((int(m.group(1)) for k in dec for m in [re.match(r"blocks\.(\d+)\.", k)] if m), default=-1)
    for k, v in dec.items():
        if k.startswith("blocks."):
            out["pred_head.transforms.0." + k[len("blocks."):]] = v
        elif k.startswith("norm."):
            out[f"pred_head.transforms.0.{depth}.{k[len('norm.'):]}"] = v
        elif k.startswith("head."):
            out["pred_head.projections.0." + k[len("head."):]] = v
        else:
            out["decoder." + k] = v
    if "encoder_to_decoder.weight" in sd:
        w = sd["encoder_to_decoder.weight"]
        out["decoder_embed.weight"] = w
        out["decoder_embed.bias"] = sd.get("encoder_to_decoder.bias", torch.zeros(w.shape[0], dtype=w.dtype))
    if "mask_token" in sd:
        out["mask_token"] = sd["mask_token"]
    return out


def vit_to_videomae(sd: Mapping[str, torch.Tensor], finetuned: bool = True) -> StateDict:
    """``vit`` layout -> VideoMAE: finetuned model (``fc_norm``, ``head``) or pretrain encoder (``encoder.``)."""
    sd = _split_qkv_bias(dict(sd))
    out = {}
    for k, v in sd.items():
        if k.startswith(("cls_token", "pos_embed_")):
            raise InputError(f"{k}: VideoMAE has no cls token or separable positions")
        if finetuned:
            if k.startswith("norm."):
                k = "fc_norm." + k[len("norm."):]
            elif k.startswith("head.projection."):
                k = "head." + k[len("head.projection."):]
            out[k] = v
        elif not k.startswith("head."):
            out["encoder." + k] = v
    return out


def mae_to_videomae(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """``mae`` layout -> VideoMAE pretraining checkpoint keys."""
    enc = {k[len("backbone."):]: v for k, v in sd.items() if k.startswith("backbone.")}
    out = vit_to_videomae(enc, finetuned=False)
    dec = _split_qkv_bias({k: v for k, v in sd.items() if k.startswith("pred_head.")})
    depth = 1 + max((int(m.group(1)) for k in dec
                     for m in [re.match(r"pred_head\.transforms\.0\.(\d+)\.attn", k)] if m), default=-1)
    for k, v in dec.items():
        if k.startswith(f"pred_head.transforms.0.{depth}."):
            out["decoder.norm." + k.split(".", 4)[-1]] = v
        elif k.startswith("pred_head.transforms.0."):
            out["decoder.blocks." + k[len("pred_head.transforms.0."):]] = v
        elif k.startswith("pred_head.projections.0."):
            out["decoder.head." + k[len("pred_head.projections.0."):]] = v
    out["encoder_to_decoder.weight"] = sd["decoder_embed.weight"]
    out["mask_token"] = sd["mask_token"]
    return out


# ----------------------------------------------------------------------------- PySlowFast MaskMViT
def maskmvit_to_mae(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """PySlowFast MAE pretraining (``MaskMViT``) -> ``mae`` layout: encoder keys get ``backbone.``."""
    sd = unwrap_checkpoint(sd)
    return {(k if is_decoder_key(k) or k.startswith("backbone.") else f"backbone.{k}"): v for k, v in sd.items()}


def mae_to_maskmvit(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """``mae`` layout -> PySlowFast ``MaskMViT`` keys."""
    return strip_prefixes(sd, ("backbone.",))


def mae_to_vit(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """``mae`` / ``maskmvit`` -> ``vit``: the encoder keys only (decoder dropped)."""
    return {k: v for k, v in strip_prefixes(sd, ("backbone.",)).items() if not is_decoder_key(k)}


# ----------------------------------------------------------------------------- positions
def _square(n: int) -> Optional[int]:
    r = int(round(math.sqrt(n)))
    return r if r * r == n else None


def _infer_grid(n: int, grid: Tuple[int, int, int]) -> Optional[Tuple[int, int, int]]:
    """Source (t0, s0, s0) of a joint table with n tokens: same t, else same h*w, else the
    square-grid factorisation whose t/h ratio is closest to the model's."""
    t, h, w = grid
    if n % t == 0 and _square(n // t):
        return (t, _square(n // t), _square(n // t))
    if n % (h * w) == 0:
        return (n // (h * w), h, w)
    cands = [(n // (s0 * s0), s0, s0) for s0 in range(1, int(math.sqrt(n)) + 1) if n % (s0 * s0) == 0]
    if not cands:
        return None
    return min(cands, key=lambda g: abs(math.log((g[0] / g[1]) / (t / h))))


def resize_pos_state(state: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Size],
                     grid: Tuple[int, int, int], num_prefix: int) -> StateDict:
    """Resize the position tables named in ``targets`` (key -> wanted shape) found in ``state``.

    ``*temporal`` tables: linear interpolation; ``*spatial`` tables (square
    source grid): bicubic; joint ``*pos_embed`` tables (with ``num_prefix``
    cls rows kept as they are): per frame bicubic, then linear over time.
    ``grid`` is the model's (t, h, w).
    """
    out = dict(state)
    t, h, w = grid
    for k, shape in targets.items():
        if k not in out or tuple(out[k].shape) == tuple(shape):
            continue
        src = out[k]
        if k.endswith("temporal"):
            out[k] = resize_temporal(src, shape[1])
        elif k.endswith("spatial"):
            side = _square(src.shape[1])
            if side is None:
                raise InputError(f"{k}: cannot infer the spatial grid of {tuple(src.shape)}")
            out[k] = resize_spatial(src, (side, side), (h, w))
        else:
            s = num_prefix if shape[1] == t * h * w + num_prefix else 0
            src_grid = _infer_grid(src.shape[1] - s, grid)
            if src_grid is None:
                raise InputError(f"{k}: cannot infer the token grid of {tuple(src.shape)}")
            out[k] = torch.cat([src[:, :s], resize_joint(src[:, s:], src_grid, grid)], dim=1)
    return out


def adapt_to_model(state: Mapping[str, torch.Tensor], model: nn.Module) -> StateDict:
    """Let every submodule with ``adapt_state_dict(state, prefix)`` (the ViT, the MAE decoder) resize its tables."""
    state = dict(state)
    for name, module in model.named_modules():
        fn = getattr(module, "adapt_state_dict", None)
        if callable(fn):
            state = fn(state, prefix=f"{name}." if name else "")
    return state


# ----------------------------------------------------------------------------- convert.py formats
def _videomae_to_ours(state: StateDict) -> Tuple[StateDict, List[str]]:
    """VideoMAE -> PySlowFast layout: pretraining -> our MAE keys (``backbone.*`` + decoder), finetuned -> ViT keys."""
    state = strip_prefixes(state, ("module.",))
    if any(k.startswith(("encoder.", "decoder.", "encoder_to_decoder.")) for k in state):
        return videomae_to_mae(state), []
    return videomae_to_vit(state), []


def _ours_to_videomae(state: StateDict) -> StateDict:
    if any(k.startswith("backbone.") for k in state):
        return mae_to_videomae(state)
    return vit_to_videomae(state, finetuned=True)


def _looks_maskmvit(state: StateDict, container: str) -> bool:
    return any(is_decoder_key(k) for k in state) and any(k.startswith("blocks.") for k in state)


def _maskmvit_to_ours(state: StateDict) -> Tuple[StateDict, List[str]]:
    return maskmvit_to_mae(state), []


def _mean_pooling_vit(model: nn.Module) -> bool:
    from .vit import VisionTransformer

    return isinstance(model, VisionTransformer) and model.use_mean_pooling


def _videomae_for_model(raw: StateDict, state: StateDict, model: nn.Module):
    """VideoMAE's finetuning rule: a pretraining encoder's ``norm`` is not used after mean pooling.

    VideoMAE's classifier with mean pooling has ``norm = Identity`` and a new
    ``fc_norm`` (LayerNorm, weight 1 / bias 0) after the pooling; our ``norm``
    plays ``fc_norm``'s part, so it keeps its identity init.
    """
    keys = [k[len("module."):] if k.startswith("module.") else k for k in raw]
    pretraining = any(k.startswith(("encoder.", "decoder.", "encoder_to_decoder.")) for k in keys)
    if not (pretraining and _mean_pooling_vit(model)):
        return state, [], ""
    norm = [k for k in state if k.startswith("norm.")]
    kept = {k: v for k, v in state.items() if k not in norm}
    return kept, norm, ("VideoMAE finetuning: the pretraining encoder's norm is dropped; norm after mean "
                        "pooling (VideoMAE's fc_norm) starts at identity")


def _maskmvit_for_model(raw: StateDict, state: StateDict, model: nn.Module):
    """PySlowFast's MAE-ST rule: the encoder's ``norm`` is loaded and applied after mean pooling."""
    if _mean_pooling_vit(model) and any(k.startswith("norm.") for k in state):
        return state, [], "MAE-ST (PySlowFast) finetuning: the encoder's norm is loaded and applied after mean pooling"
    return state, [], ""


def register_formats() -> None:
    """Register the VideoMAE and PySlowFast-MaskMViT mappings with :mod:`videossl.models.convert`."""
    from .convert import register_source

    register_source("videomae", detect=lambda s, c: is_videomae(s), to_ours=_videomae_to_ours,
                    from_ours=_ours_to_videomae, priority=30,
                    doc="VideoMAE .pth {'model'|'module'}: pretraining -> backbone.* + MAE decoder "
                        "(q_bias/v_bias -> qkv.bias, encoder_to_decoder -> decoder_embed, decoder.* -> "
                        "pred_head.*); finetuned -> ViT keys (fc_norm -> norm, head -> head.projection)",
                    for_model=_videomae_for_model)
    register_source("maskmvit", detect=_looks_maskmvit, to_ours=_maskmvit_to_ours, from_ours=mae_to_maskmvit,
                    priority=20, doc="PySlowFast MAE pretraining .pyth (MaskMViT): encoder keys -> backbone.*, "
                                     "decoder keys as they are (a finetune's 'backbone.' clearing restores them)",
                    for_model=_maskmvit_for_model)


register_formats()


# ----------------------------------------------------------------------------- loading
def load_vit_checkpoint(module: nn.Module, checkpoint, source: Optional[str] = None):
    """Load a PySlowFast / VideoMAE / videossl checkpoint into a ViT (or a model holding one) or an MAE.

    ``checkpoint``: a path or a loaded dict.  Keys are mapped by the registered
    format (:func:`videossl.models.convert.map_to_ours`), ``backbone.`` is
    cleared when the target has no such prefix, position tables are resized to
    the model (:func:`adapt_to_model`), then
    :func:`~videossl.models.convert.load_pretrained` loads every key that fits
    and returns its :class:`~videossl.models.convert.LoadReport`.
    """
    from .convert import clear_names, load_pretrained, map_to_ours, read_checkpoint

    ckpt = read_checkpoint(checkpoint)
    state, dropped, name = map_to_ours(ckpt, source)
    own = module.state_dict()
    if any(k.startswith("backbone.") for k in state) and not any(k.startswith("backbone.") for k in own):
        state = clear_names(state, ("backbone.",))
    state = adapt_to_model(state, module)
    report = load_pretrained(module, state, source="pyslowfast", drop_patterns=())
    report.path, report.source, report.epoch = ckpt.path, name, ckpt.meta.get("epoch")
    report.dropped = list(dropped) + list(report.dropped)
    return report
