"""Layer-wise learning-rate decay for ViT finetuning (PySlowFast ``get_param_groups``, BEiT/VideoMAE).

Layer ids, for names relative to the ViT (any wrapper prefix such as
``net.`` or ``backbone.`` is located and removed first):

* 0: ``cls_token``, ``mask_token``, ``pos_embed*``, ``patch_embed*``;
* i + 1: ``blocks.i.*``;
* depth + 1: everything else (``norm``, ``head``, decoders...).

A parameter in layer ``id`` trains with ``lr * layer_decay ** (depth + 1 - id)``:
each group carries that factor as ``lr_scale``, which the trainer multiplies
into the scheduled LR (``engine.optim.set_lr``).
"""

from typing import Dict, Iterable, List, Optional

from torch import nn

from ..errors import InputError


def _vit_prefix(model: nn.Module) -> str:
    """Name prefix of the first ViT inside ``model`` ("" if ``model`` is one or none is found)."""
    from ..models.vit import VisionTransformer

    for name, module in model.named_modules():
        if isinstance(module, VisionTransformer):
            return f"{name}." if name else ""
    return ""


def _vit_depth(model: nn.Module) -> int:
    from ..models.vit import VisionTransformer

    for module in model.modules():
        if isinstance(module, VisionTransformer):
            return len(module.blocks)
    raise InputError("layer decay needs a model with a VisionTransformer (pass depth=)")


def layer_id(name: str, depth: int) -> int:
    """PySlowFast's layer id of a parameter name relative to the ViT."""
    if name in ("cls_token", "mask_token") or name.startswith(("pos_embed", "patch_embed")):
        return 0
    if name.startswith("blocks."):
        return int(name.split(".")[1]) + 1
    return depth + 1


def layer_decay_param_groups(model: nn.Module, weight_decay: float, layer_decay: float,
                             no_weight_decay_names: Optional[Iterable[str]] = None,
                             zero_wd_1d: bool = True, depth: Optional[int] = None) -> List[Dict]:
    """AdamW parameter groups with layer-wise LR scales.

    Args:
        model: the trained module (a method wrapping a ViT, or a ViT).
        weight_decay: decay of weight matrices.
        layer_decay: ``SOLVER.LAYER_DECAY`` in (0, 1].
        no_weight_decay_names: full parameter names with no weight decay;
            None asks ``model.no_weight_decay_names()`` when ``model`` is a
            :class:`~videossl.methods.base.Method`.
        zero_wd_1d: no weight decay for 1-D parameters and biases
            (``SOLVER.ZERO_WD_1D_PARAM``; every PySlowFast/VideoMAE ViT recipe sets it).
        depth: number of ViT blocks (default: counted in ``model``).

    Returns:
        a list of ``{"params", "weight_decay", "lr_scale", "layer_id"}``, one
        per (layer id, decay / no decay), ordered by layer id.  Frozen
        parameters are left out.
    """
    if not 0.0 < layer_decay <= 1.0:
        raise InputError(f"SOLVER.LAYER_DECAY={layer_decay} must lie in (0, 1]")
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._NormBase):
            raise InputError("layer decay does not support BatchNorm layers (PySlowFast rule)")
    if no_weight_decay_names is None:
        from ..methods.base import Method

        no_weight_decay_names = model.no_weight_decay_names() if isinstance(model, Method) else ()
    no_wd = set(no_weight_decay_names)
    depth = _vit_depth(model) if depth is None else depth
    prefix = _vit_prefix(model)
    groups: Dict[tuple, Dict] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        rel = name[len(prefix):] if prefix and name.startswith(prefix) else name
        lid = layer_id(rel, depth)
        decay = not (name in no_wd or (zero_wd_1d and (p.ndim <= 1 or name.endswith(".bias"))))
        key = (lid, decay)
        if key not in groups:
            groups[key] = {"params": [], "weight_decay": weight_decay if decay else 0.0,
                           "lr_scale": layer_decay ** (depth + 1 - lid), "layer_id": lid}
        groups[key]["params"].append(p)
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0], not k[1]))]
