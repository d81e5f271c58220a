"""CoCLR / ViCC ``.pth.tar`` checkpoints (``{"state_dict"}``) -> the PySlowFast layout.

The ``coclr`` checkpoint format of :mod:`videossl.models.convert`.  CoCLR's
encoders are ``Sequential(backbone, pool, Conv3d 1x1x1, ReLU, Conv3d 1x1x1)``
under ``encoder_q`` / ``encoder_k`` (and ``sampler`` / ``second`` for the
other stream); they map onto PySlowFast's ``ContrastiveModel`` names
(``backbone``, ``backbone_hist``), with the projection convs as
``head.projection.projection.{0,2}``.  ``sampler`` and ``second`` keep their
names, for the two-stream methods to claim.  ViCC's ``prototypes.weight`` is
SwAV's ``swav_prototypes.weight``; a linear-probe classifier's ``final_bn`` /
``final_fc`` are the coclr-protocol head's ``head.bn`` / ``head.projection``.
S3D's duplicated ``blockN.i`` aliases are folded by :func:`videossl.models.s3d.fold_s3d_alias`.
"""

import re
from collections import OrderedDict
from typing import List, Tuple

from .convert import StateDict, register_source
from .s3d import S3D_ALIASES, fold_s3d_alias


# Encoder module of the reference -> its PySlowFast-layout prefix (sampler / second keep their names).
COCLR_ROLES = {"encoder_q": "backbone", "encoder_k": "backbone_hist", "sampler": "sampler", "second": "second"}
# Our queue buffers -> CoCLR's (written on export; never loaded: CoCLR restarts its queues, and so do we).
_QUEUES_OURS_TO_COCLR = {"queue_x": "queue", "ptr": "queue_ptr", "queue_second": "queue_second",
                         "queue_vname": "queue_vname", "queue_label": "queue_label"}
# encoder = Sequential(backbone, pool, Conv3d 1x1x1, ReLU, Conv3d 1x1x1): indices 2 and 4 are the
# projection MLP, which is our 2-layer MLPHead (Linears 0 and 2) without BN.
_COCLR_HEAD = {"2": "0", "4": "2"}


def _coclr_to_ours(state: StateDict) -> Tuple[StateDict, List[str]]:
    named, aliases, dropped = OrderedDict(), OrderedDict(), []
    for k, v in state.items():
        head, _, rest = k.partition(".")
        if head in COCLR_ROLES:
            role = COCLR_ROLES[head]
            idx, _, sub = rest.partition(".")
            if idx == "0":
                key, is_alias = fold_s3d_alias(sub)
                if is_alias:
                    aliases[f"{role}.{key}"] = (k, v)
                else:
                    named[f"{role}.{key}"] = v
                continue
            if idx in _COCLR_HEAD:
                w = v.flatten(1) if v.dim() == 5 else v
                named[f"{role}.head.projection.projection.{_COCLR_HEAD[idx]}.{sub}"] = w
                continue
        elif head == "backbone":  # CoCLR / ViCC classifier: backbone.* + final_fc
            key, is_alias = fold_s3d_alias(rest)
            if is_alias:
                aliases[key] = (k, v)
            else:
                named[key] = v
            continue
        elif head == "final_fc":  # Sequential([Dropout,] Linear): the Linear is the last index
            named[f"head.projection.{k.rsplit('.', 1)[1]}"] = v
            continue
        elif head == "final_bn":  # the linear probe's BatchNorm1d (after L2-normalisation)
            named[f"head.bn.{rest}"] = v
            continue
        elif k == "prototypes.weight":  # ViCC's SwAV prototypes (P x 128)
            named["swav_prototypes.weight"] = v
            continue
        named[k] = v  # queue, queue_ptr, ...: left for the model to claim
    for k, (original, v) in aliases.items():  # an alias whose named twin is absent still counts
        if k in named:
            dropped.append(original)
        else:
            named[k] = v
    return named, dropped


def _ours_to_coclr(state: StateDict) -> StateDict:
    """PySlowFast layout -> a CoCLR/ViCC pretrain state dict, with S3D's duplicated aliases."""
    inv_roles = {v: k for k, v in COCLR_ROLES.items()}
    inv_alias = {name.rstrip("."): alias for alias, name in S3D_ALIASES.items()}
    inv_head = {v: k for k, v in _COCLR_HEAD.items()}
    out = OrderedDict()
    for k, v in state.items():
        role, _, rest = k.partition(".")
        if k == "swav_prototypes.weight":
            out["prototypes.weight"] = v
            continue
        if k in _QUEUES_OURS_TO_COCLR:  # CoCLR keeps its key queues as dim x K
            name = _QUEUES_OURS_TO_COCLR[k]
            out[name] = v.t().contiguous() if v.dim() == 2 else v
            continue
        if role not in inv_roles:
            out[k] = v
            continue
        enc = inv_roles[role]
        m = re.fullmatch(r"head\.projection\.projection\.(\d+)\.(\w+)", rest)
        if m:
            out[f"{enc}.{inv_head[m.group(1)]}.{m.group(2)}"] = v.reshape(*v.shape, 1, 1, 1) if v.dim() == 2 else v
            continue
        out[f"{enc}.0.{rest}"] = v
        layer, _, tail = rest.partition(".")
        if layer in inv_alias:
            out[f"{enc}.0.{inv_alias[layer]}{tail}"] = v
    return out


def _looks_coclr(state: StateDict, container: str) -> bool:
    return any(k.split(".", 1)[0] in COCLR_ROLES and k.split(".")[1:2] == ["0"] for k in state) or (
        container == "state_dict" and any(k.startswith("final_fc.") for k in state))


register_source("coclr", detect=_looks_coclr, to_ours=_coclr_to_ours, from_ours=_ours_to_coclr, priority=50,
                doc="CoCLR / ViCC .pth.tar {'state_dict'}: encoder_q.0.* -> backbone.*, encoder_k -> "
                    "backbone_hist, projection convs -> head.projection.projection.{0,2}, ViCC prototypes -> "
                    "swav_prototypes; classifiers: final_bn -> head.bn, final_fc -> head.projection; "
                    "S3D blockN aliases folded")
