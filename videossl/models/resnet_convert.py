"""PySlowFast's caffe2 ResNet zoo (``.pkl`` ``{"blobs"}``): blob names -> our ResNet's parameter names.

The ``caffe2`` checkpoint format of :mod:`videossl.models.convert`, beside
the model it maps onto (:class:`~videossl.models.resnet.ResNet3D`); chosen by
``TRAIN.CHECKPOINT_TYPE caffe2`` or detected from the ``blobs`` container.
"""

import re
from collections import OrderedDict
from typing import List, Tuple

from .convert import StateDict, register_source


_BN_SUFFIX = {"s": "weight", "b": "bias", "rm": "running_mean", "riv": "running_var"}
_C2_SOLVER_WORDS = ("momentum", "lr", "model_iter")


def caffe2_name_to_pyslowfast(name: str) -> str:
    """A caffe2 blob name of PySlowFast's ResNet zoo -> our parameter name.

    ``conv1_w`` -> ``s1.pathway0_stem.conv.weight``; ``res_conv1_bn_s`` ->
    ``s1.pathway0_stem.bn.weight``; ``res4_2_branch2b_bn_rm`` ->
    ``s4.pathway0_res2.branch2.b_bn.running_mean``; ``res3_0_branch1_w`` ->
    ``s3.pathway0_res0.branch1.weight``; ``pred_w`` -> ``head.projection.weight``.
    A ``t_`` prefix (SlowFast's fast pathway) maps to ``pathway1``.  Names that
    match no rule are returned unchanged.
    """
    pathway = "pathway0"
    if name.startswith("t_"):
        pathway, name = "pathway1", name[2:]
    m = re.fullmatch(r"res(\d+)_(\d+)_branch2([a-z])_(w|b|bn_(?:s|b|rm|riv))", name)
    if m:
        stage, block, conv, rest = m.groups()
        base = f"s{stage}.{pathway}_res{block}.branch2.{conv}"
        return f"{base}.weight" if rest == "w" else (f"{base}.bias" if rest == "b" else
                                                    f"{base}_bn.{_BN_SUFFIX[rest[3:]]}")
    m = re.fullmatch(r"res(\d+)_(\d+)_branch1_(w|bn_(?:s|b|rm|riv))", name)
    if m:
        stage, block, rest = m.groups()
        base = f"s{stage}.{pathway}_res{block}.branch1"
        return f"{base}.weight" if rest == "w" else f"{base}_bn.{_BN_SUFFIX[rest[3:]]}"
    m = re.fullmatch(r"res_conv1_bn_(s|b|rm|riv)", name)
    if m:
        return f"s1.{pathway}_stem.bn.{_BN_SUFFIX[m.group(1)]}"
    m = re.fullmatch(r"conv1_(w|b)", name)
    if m:
        return f"s1.{pathway}_stem.conv.{'weight' if m.group(1) == 'w' else 'bias'}"
    m = re.fullmatch(r"pred_(w|b)", name)
    if m:
        return f"head.projection.{'weight' if m.group(1) == 'w' else 'bias'}"
    return name


def _caffe2_to_ours(state: StateDict) -> Tuple[StateDict, List[str]]:
    out, dropped = OrderedDict(), []
    for k, v in state.items():
        if any(word in k for word in _C2_SOLVER_WORDS):
            dropped.append(k)
        else:
            out[caffe2_name_to_pyslowfast(k)] = v
    return out, dropped


def _pyslowfast_to_caffe2_name(key: str) -> str:
    inv = {v: k for k, v in _BN_SUFFIX.items()}
    m = re.fullmatch(r"s(\d+)\.pathway0_res(\d+)\.branch2\.([a-z])(_bn)?\.(\w+)", key)
    if m:
        stage, block, conv, bn, leaf = m.groups()
        tail = f"bn_{inv[leaf]}" if bn else ("w" if leaf == "weight" else "b")
        return f"res{stage}_{block}_branch2{conv}_{tail}"
    m = re.fullmatch(r"s(\d+)\.pathway0_res(\d+)\.branch1(_bn)?\.(\w+)", key)
    if m:
        stage, block, bn, leaf = m.groups()
        return f"res{stage}_{block}_branch1_" + (f"bn_{inv[leaf]}" if bn else "w")
    m = re.fullmatch(r"s1\.pathway0_stem\.(conv|bn)\.(\w+)", key)
    if m:
        return "conv1_w" if m.group(1) == "conv" else f"res_conv1_bn_{inv[m.group(2)]}"
    m = re.fullmatch(r"head\.projection\.(weight|bias)", key)
    if m:
        return "pred_w" if m.group(1) == "weight" else "pred_b"
    return key


def _ours_to_caffe2(state: StateDict) -> StateDict:
    return OrderedDict((_pyslowfast_to_caffe2_name(k), v) for k, v in state.items()
                       if not k.endswith("num_batches_tracked"))


register_source("caffe2", detect=lambda s, c: c == "blobs", to_ours=_caffe2_to_ours,
                from_ours=_ours_to_caffe2, priority=100,
                doc="caffe2 .pkl {'blobs'} of PySlowFast's ResNet zoo (TRAIN.CHECKPOINT_TYPE caffe2)")
