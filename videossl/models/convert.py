"""Checkpoint conversion: read a published checkpoint, map its keys onto ours, load what fits.

``load_pretrained(model, path_or_state)`` is the one entry point the trainer
uses.  It

1. reads the file (:func:`read_checkpoint`): PySlowFast ``.pyth``
   (``model_state``), CoCLR / ViCC / AVID ``.pth.tar`` (``state_dict`` or
   ``model``), VideoMAE ``.pth`` (``model`` or ``module``), caffe2 ``.pkl``
   (``blobs``), or a plain state dict; a DataParallel ``module.`` prefix is
   removed;
2. detects the source format (or takes ``source=``) and maps its keys onto
   videossl's names (:data:`SOURCES`, extensible with :func:`register_source`);
   the result is in *PySlowFast layout*: a bare backbone's keys (``s1...``,
   ``Mixed_3b...``) and ``head.*`` for a classifier, ``backbone.*`` /
   ``backbone_hist.*`` (momentum copy) for an SSL model;
3. drops state that is never model weights (what the caller passes as
   ``drop_patterns``, e.g. PySlowFast's kNN memory ``knn_mem.*`` that the
   contrastive methods declare; caffe2 solver blobs; S3D's duplicated
   ``blockN`` aliases);
4. applies PySlowFast's ``TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN`` (each pattern
   removes its first occurrence from every key containing it) and, with
   ``inflate=True``, ``TRAIN.CHECKPOINT_INFLATE`` (2D kernels repeated over T
   and divided by T);
5. loads only keys present in both with the same shape (tensors that differ
   only by trailing singleton dims, e.g. a Linear stored as a 1x1x1 Conv, are
   reshaped) and returns a :class:`LoadReport`.

It raises ``ValueError`` naming the file when the file is unreadable or not a
checkpoint, and when *no* weight could be loaded (a silently empty load).
"""

import os
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from ..errors import InputError
from .s3d import REFERENCE_BLOCKS

StateDict = Dict[str, torch.Tensor]

# Checkpoint containers, tried in this order: PySlowFast, CoCLR/ViCC/AVID-eval, VideoMAE/AVID, VideoMAE released.
CONTAINER_KEYS = ("model_state", "state_dict", "model", "module")


# --------------------------------------------------------------------------------------------
# Reading files


@dataclass
class Checkpoint:
    """A checkpoint's weights (``state``, tensors only) and where they came from."""

    state: StateDict
    container: str  # "model_state" | "state_dict" | "model" | "module" | "blobs" | "plain"
    path: Optional[str] = None
    dropped: List[str] = field(default_factory=list)  # non-weight entries of the container
    meta: Dict[str, Any] = field(default_factory=dict)  # e.g. "epoch"


def _describe(path: Optional[str]) -> str:
    return f"checkpoint {path}" if path else "the given state dict"


def _load_file(path: str) -> Any:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as torch_err:  # noqa: BLE001 - try a caffe2 pickle before giving up
        try:
            with open(path, "rb") as f:
                return pickle.load(f, encoding="latin1")
        except Exception:  # noqa: BLE001 - any unpickling failure means "unreadable"
            raise InputError(
                f"checkpoint {path} is unreadable ({type(torch_err).__name__}: {torch_err})"
            ) from None


def _is_tensor_like(v: Any) -> bool:
    return isinstance(v, torch.Tensor) or type(v).__module__ == "numpy"


def unwrap_checkpoint(obj: Any, path: Optional[str] = None) -> Checkpoint:
    """The weights inside a loaded checkpoint object (see module doc for the containers)."""
    if not isinstance(obj, Mapping):
        raise InputError(f"{_describe(path)} is not a checkpoint: it holds a {type(obj).__name__}, not a dict")
    meta = {k: obj[k] for k in ("epoch", "iteration") if k in obj and not _is_tensor_like(obj[k])}
    container = "plain"
    inner: Any = obj
    if "blobs" in obj and isinstance(obj["blobs"], Mapping):
        container, inner = "blobs", obj["blobs"]
    else:
        for key in CONTAINER_KEYS:
            if key in obj and isinstance(obj[key], Mapping):
                container, inner = key, obj[key]
                break
    state: StateDict = OrderedDict()
    dropped = []
    for k, v in inner.items():
        if isinstance(v, torch.Tensor):
            state[k] = v
        elif container == "blobs" and _is_tensor_like(v):
            state[k] = torch.as_tensor(v)
        else:
            dropped.append(k)
    if not state:
        keys = ", ".join(map(str, list(obj.keys())[:6]))
        raise InputError(
            f"{_describe(path)} is not a checkpoint: no tensors under any of "
            f"{', '.join(CONTAINER_KEYS + ('blobs',))} or at top level (keys: {keys})"
        )
    if all(k.startswith("module.") for k in state):  # DataParallel / DDP wrapper
        state = OrderedDict((k[len("module."):], v) for k, v in state.items())
    return Checkpoint(state, container, path, dropped, meta)


def read_checkpoint(path_or_state: Union[str, os.PathLike, Mapping]) -> Checkpoint:
    """Load a file (on CPU) or take an in-memory dict, and unwrap its weights."""
    if isinstance(path_or_state, Mapping):
        return unwrap_checkpoint(path_or_state)
    path = os.fspath(path_or_state)
    return unwrap_checkpoint(_load_file(path), path)


# --------------------------------------------------------------------------------------------
# Leaf operations with PySlowFast semantics


def clear_names(state: Mapping[str, torch.Tensor], patterns: Iterable[str]) -> StateDict:
    """``TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN``: for each pattern in turn, remove its first occurrence.

    ``("backbone.",)`` turns ``backbone.s1.x`` into ``s1.x`` and leaves
    ``backbone_hist.s1.x`` alone.  When two keys collide the later one wins
    (PySlowFast's dict semantics).
    """
    out = OrderedDict(state)
    for pattern in patterns:
        if not pattern:
            continue
        out = OrderedDict((k.replace(pattern, "", 1) if pattern in k else k, v) for k, v in out.items())
    return out


def inflate_weight(weight_2d: torch.Tensor, temporal_size: int) -> torch.Tensor:
    """A 2D kernel O x I x H x W -> O x I x T x H x W, repeated over T and divided by T (I3D inflation)."""
    return weight_2d.unsqueeze(2).repeat(1, 1, temporal_size, 1, 1) / temporal_size


def inflate_state_dict(state: Mapping[str, torch.Tensor],
                       model_state: Mapping[str, torch.Tensor]) -> Tuple[StateDict, List[str]]:
    """``TRAIN.CHECKPOINT_INFLATE``: inflate every 4-D tensor whose 5-D model counterpart matches.

    A key is inflated when the model's tensor is 5-D, the checkpoint's 4-D,
    and their first two and last two dims agree; other keys pass unchanged.
    Returns the new state and the inflated keys.
    """
    out, inflated = OrderedDict(), []
    for k, v in state.items():
        target = model_state.get(k)
        if (target is not None and v.dim() == 4 and target.dim() == 5
                and v.shape[:2] == target.shape[:2] and v.shape[-2:] == target.shape[-2:]):
            v = inflate_weight(v, target.shape[2])
            inflated.append(k)
        out[k] = v
    return out, inflated


def extract_backbone(state_or_path: Union[str, os.PathLike, Mapping], prefix: str = "backbone.",
                     keep_head: bool = False, source: Optional[str] = None) -> StateDict:
    """The weights under ``prefix`` with the prefix removed (the online encoder of an SSL checkpoint).

    Accepts a file, a checkpoint dict or a state dict in any supported format
    (mapped to PySlowFast layout first, so ``encoder_q.0.*`` of CoCLR comes out
    as the backbone).  ``head.*`` (the SSL projection) is left out unless
    ``keep_head``.  Raises ValueError when nothing is under ``prefix``.
    """
    ckpt = read_checkpoint(state_or_path)
    state, _, _ = map_to_ours(ckpt, source)
    out = OrderedDict((k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))
    if not keep_head:
        out = OrderedDict((k, v) for k, v in out.items() if not k.startswith("head."))
    if not out:
        raise InputError(f"{_describe(ckpt.path)} has no weights under {prefix!r} "
                         f"(keys look like {_examples(state)})")
    return out


# --------------------------------------------------------------------------------------------
# Source formats


@dataclass(frozen=True)
class SourceFormat:
    """How to recognise a checkpoint format and map its keys onto videossl's.

    ``detect(state, container) -> bool`` sees the unwrapped weights and the
    container name; ``to_ours(state) -> (state, dropped_keys)`` returns the
    weights in PySlowFast layout plus the keys it discarded on purpose;
    ``from_ours`` (optional) is the inverse, used by tests and exporters.
    ``for_model`` (optional) applies the publisher's loading rule for a given
    target: ``for_model(raw_state, state, model) -> (state, dropped_keys,
    note)``, where ``state`` has the model's names (after clearing) and the
    note, shown in the load table, says which rule was followed.
    Higher ``priority`` is tried first.
    """

    name: str
    detect: Callable[[StateDict, str], bool]
    to_ours: Callable[[StateDict], Tuple[StateDict, List[str]]]
    from_ours: Optional[Callable[[StateDict], StateDict]] = None
    priority: int = 0
    doc: str = ""
    for_model: Optional[Callable[[StateDict, StateDict, nn.Module], Tuple[StateDict, List[str], str]]] = None


SOURCES: Dict[str, SourceFormat] = {}


def register_source(name: str, detect: Callable[[StateDict, str], bool],
                    to_ours: Callable[[StateDict], Tuple[StateDict, List[str]]],
                    from_ours: Optional[Callable[[StateDict], StateDict]] = None,
                    priority: int = 0, doc: str = "", for_model=None) -> SourceFormat:
    """Add (or replace) a checkpoint format; e.g. the ViT module registers VideoMAE / MAE-ST mappings."""
    fmt = SourceFormat(name, detect, to_ours, from_ours, priority, doc, for_model)
    SOURCES[name] = fmt
    return fmt


def detect_source(state: StateDict, container: str = "plain") -> str:
    """Name of the highest-priority format whose ``detect`` accepts ``state``."""
    for fmt in sorted(SOURCES.values(), key=lambda f: -f.priority):
        if fmt.detect(state, container):
            return fmt.name
    return "pyslowfast"


def map_to_ours(ckpt: Checkpoint, source: Optional[str] = None) -> Tuple[StateDict, List[str], str]:
    """(weights in PySlowFast layout, dropped keys, format name) of an unwrapped checkpoint."""
    if source is not None and source not in SOURCES:
        raise InputError(f"unknown checkpoint source {source!r}; known: {sorted(SOURCES)}")
    name = source or ("caffe2" if ckpt.container == "blobs" else detect_source(ckpt.state, ckpt.container))
    state, dropped = SOURCES[name].to_ours(OrderedDict(ckpt.state))
    return state, list(ckpt.dropped) + list(dropped), name


def _identity(state: StateDict) -> Tuple[StateDict, List[str]]:
    return state, []


# PySlowFast .pyth (and videossl's own checkpoints): already our names.  MAE-ST is this format too.
register_source("pyslowfast", detect=lambda s, c: True, to_ours=_identity, from_ours=lambda s: s,
                priority=-100, doc="PySlowFast .pyth / videossl: keys used as they are")


# ---- caffe2 .pkl (PySlowFast's supervised model zoo) -------------------------------------

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


# ---- CoCLR / ViCC .pth.tar -----------------------------------------------------------------

# Encoder module of the reference -> our role prefix (PySlowFast layout).
COCLR_ROLES = {"encoder_q": "backbone", "encoder_k": "backbone_hist", "sampler": "sampler", "second": "second"}
# encoder = Sequential(backbone, pool, Conv3d 1x1x1, ReLU, Conv3d 1x1x1): indices 2 and 4 are the
# projection MLP, which is our 2-layer MLPHead (Linears 0 and 2) without BN.
_COCLR_HEAD = {"2": "0", "4": "2"}
_S3D_ALIAS = {f"{block}.{i}.": name + "." for block, names in REFERENCE_BLOCKS.items()
              for i, name in enumerate(names)}
_S3D_ALIAS_RE = re.compile(r"block[1-5]\.\d+\.")


def _fold_s3d_alias(key: str) -> Tuple[str, bool]:
    """Backbone key ``block4.2.x`` -> ``Mixed_4c.x`` (S3D's Sequential alias); returns (key, was_alias)."""
    m = _S3D_ALIAS_RE.match(key)
    if not m or m.group(0) not in _S3D_ALIAS:
        return key, False
    return _S3D_ALIAS[m.group(0)] + key[m.end():], True


def _coclr_to_ours(state: StateDict) -> Tuple[StateDict, List[str]]:
    named, aliases, dropped = OrderedDict(), OrderedDict(), []
    for k, v in state.items():
        head, _, rest = k.partition(".")
        if head in COCLR_ROLES:
            role = COCLR_ROLES[head]
            idx, _, sub = rest.partition(".")
            if idx == "0":
                key, is_alias = _fold_s3d_alias(sub)
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
            key, is_alias = _fold_s3d_alias(rest)
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
    inv_alias = {name.rstrip("."): alias for alias, name in _S3D_ALIAS.items()}
    inv_head = {v: k for k, v in _COCLR_HEAD.items()}
    out = OrderedDict()
    for k, v in state.items():
        role, _, rest = k.partition(".")
        if k == "swav_prototypes.weight":
            out["prototypes.weight"] = v
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


# ---- AVID-CMA .pth.tar (the 15.4M R(2+1)D-18) ------------------------------------------------

def _avid_to_ours(state: StateDict) -> Tuple[StateDict, List[str]]:
    out = OrderedDict()
    for k, v in state.items():
        if k.startswith("video_model."):
            out["backbone." + k[len("video_model."):]] = v
        elif k.startswith("video_proj.projection."):
            out["backbone.head.projection.projection." + k[len("video_proj.projection."):]] = v
        else:
            out[k] = v  # audio_model.*, audio_proj.*: not ours
    return out, []


def _ours_to_avid(state: StateDict) -> StateDict:
    out = OrderedDict()
    for k, v in state.items():
        if k.startswith("backbone.head.projection.projection."):
            out["video_proj.projection." + k[len("backbone.head.projection.projection."):]] = v
        elif k.startswith("backbone."):
            out["video_model." + k[len("backbone."):]] = v
        else:
            out[k] = v
    return out


register_source("avid", detect=lambda s, c: any(k.startswith("video_model.") for k in s),
                to_ours=_avid_to_ours, from_ours=_ours_to_avid, priority=40,
                doc="AVID-CMA .pth.tar {'model'} (module.video_model.*): video_model -> backbone, "
                    "video_proj.projection -> backbone.head.projection.projection")


# ---- VideoMAE .pth (default mapping; the ViT module may re-register a fuller one) --------------

def _videomae_to_ours(state: StateDict) -> Tuple[StateDict, List[str]]:
    return OrderedDict((k[len("encoder."):] if k.startswith("encoder.") else k, v) for k, v in state.items()), []


def _looks_videomae(state: StateDict, container: str) -> bool:
    return container in ("model", "module") and any("patch_embed.proj" in k for k in state)


register_source("videomae", detect=_looks_videomae, to_ours=_videomae_to_ours, priority=30,
                doc="VideoMAE .pth {'model'|'module'}: encoder.* -> * (placeholder until the ViT "
                    "module registers its mapping)")


# --------------------------------------------------------------------------------------------
# Matching and the report


@dataclass
class LoadReport:
    """What :func:`load_pretrained` did, key by key (names after mapping and clearing)."""

    path: Optional[str]
    source: str
    loaded: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)  # model keys left at their init (excl. num_batches_tracked)
    unexpected: List[str] = field(default_factory=list)  # checkpoint keys the model has not
    mismatched: List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)  # known non-weights / duplicate aliases
    inflated: List[str] = field(default_factory=list)
    epoch: Optional[int] = None
    notes: List[str] = field(default_factory=list)  # the publisher's loading rules that were applied

    @property
    def num_loaded(self) -> int:
        return len(self.loaded)

    def table(self, examples: int = 4) -> str:
        """One readable table: a row per outcome with its count and example keys."""
        rows = [
            ("loaded", self.loaded),
            ("inflated 2D->3D", self.inflated),
            ("missing (kept init)", self.missing),
            ("unexpected (unused)", self.unexpected),
            ("shape mismatch", [f"{k} {tuple(a)} vs model {tuple(b)}" for k, a, b in self.mismatched]),
            ("dropped (non-weights, aliases)", self.dropped),
        ]
        title = f"{_describe(self.path)} (format: {self.source})"
        width = max(len(r[0]) for r in rows)
        lines = [title, f"{'outcome'.ljust(width)} | {'keys':>5} | examples", f"{'-' * width}-+-------+---------"]
        for name, keys in rows:
            if not keys and name.startswith("inflated"):
                continue
            lines.append(f"{name.ljust(width)} | {len(keys):>5} | {_summarise(keys, examples)}")
        lines += [f"rule: {note}" for note in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _summarise(keys: Sequence[str], limit: int) -> str:
    """A few keys; long lists grouped by name prefix (``backbone_hist.* (320), queue_x``).

    The prefix is the first name component, or a deeper one while all keys
    share it (``backbone.Conv_1a.* (10), ...``), at most 3 components.
    """
    if len(keys) <= limit:
        return ", ".join(keys)
    for depth in (1, 2, 3):
        groups: Dict[str, int] = OrderedDict()
        for k in keys:
            parts = k.split(".")
            top = ".".join(parts[:depth]) + (".*" if len(parts) > depth else "")
            groups[top] = groups.get(top, 0) + 1
        if len(groups) > 1:
            break
    shown = ", ".join(f"{g} ({n})" if n > 1 else g for g, n in list(groups.items())[:limit])
    more = len(groups) - limit
    return shown + (f", ... (+{more} more groups)" if more > 0 else "")


def _examples(state: Iterable[str], n: int = 3) -> str:
    keys = [k for k in state if not k.endswith("num_batches_tracked")][:n]
    return "[" + ", ".join(keys) + "]"


def _fits(src: torch.Tensor, dst: torch.Tensor) -> Optional[torch.Tensor]:
    """``src`` shaped like ``dst`` if equal up to trailing singleton dims, else None."""
    if src.shape == dst.shape:
        return src
    a = [d for d in src.shape]
    b = [d for d in dst.shape]
    while a and a[-1] == 1 and len(a) > len(b):
        a.pop()
    while b and b[-1] == 1 and len(b) > len(a):
        b.pop()
    return src.reshape(dst.shape) if a == b else None


def _hint(state: StateDict, model_keys: Sequence[str]) -> str:
    ck = [k for k in state if not k.endswith("num_batches_tracked")]
    mk = [k for k in model_keys if not k.endswith("num_batches_tracked")]
    for prefix in ("backbone.", "module.", "encoder."):
        if ck and all(k.startswith(prefix) for k in ck[:50]) and not any(k.startswith(prefix) for k in mk):
            return f"; the checkpoint's keys start with {prefix!r}: clear it (TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN)"
        if mk and all(k.startswith(prefix) for k in mk[:50]) and not any(k.startswith(prefix) for k in ck):
            return f"; the model's keys start with {prefix!r} but the checkpoint's do not"
    return ""


def load_pretrained(model: nn.Module, path_or_state: Union[str, os.PathLike, Mapping], *,
                    clear_name_patterns: Sequence[str] = (), inflate: bool = False,
                    source: Optional[str] = None, drop_patterns: Sequence[str] = (),
                    adapt: bool = False, strip_prefix: str = "") -> LoadReport:
    """Load the weights of a (foreign) checkpoint that fit ``model``; see the module doc.

    Args:
        model: the module to load into (its ``state_dict()`` names are the target).
        path_or_state: a file path, or an in-memory checkpoint / state dict.
        clear_name_patterns: PySlowFast ``TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN``,
            applied after the format's key mapping.
        inflate: PySlowFast ``TRAIN.CHECKPOINT_INFLATE`` (2D -> 3D kernels).
        source: force a format (a :data:`SOURCES` name, e.g. ``"caffe2"`` for
            ``TRAIN.CHECKPOINT_TYPE caffe2``); None detects it.
        drop_patterns: keys containing any of these are never loaded (reported as
            dropped); the methods declare theirs (``videossl.methods.never_load_patterns``).
        adapt: let the model's modules adapt tensors whose shape differs
            (``adapt_state_dict``: ViT / MAE position tables resized to the model's grid).
        strip_prefix: where ``model`` sits inside the module that wrote the
            checkpoint (``net.`` for a supervised method's network): removed
            from the checkpoint's keys when the model has no key with it.

    Returns:
        a :class:`LoadReport`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: unreadable file, not a checkpoint, unknown ``source``, or
            nothing at all could be loaded (the message names the file and
            shows example keys of both sides).
    """
    ckpt = read_checkpoint(path_or_state)
    state, dropped, name = map_to_ours(ckpt, source)
    kept = OrderedDict()
    for k, v in state.items():
        if any(p in k for p in drop_patterns):
            dropped.append(k)
        else:
            kept[k] = v
    model_state = model.state_dict()
    if strip_prefix and not any(k.startswith(strip_prefix) for k in model_state):
        kept = OrderedDict((k[len(strip_prefix):] if k.startswith(strip_prefix) else k, v) for k, v in kept.items())
    state = clear_names(kept, clear_name_patterns)
    notes: List[str] = []
    rule = SOURCES[name].for_model
    if rule is not None:
        state, rule_dropped, note = rule(ckpt.state, state, model)
        dropped += rule_dropped
        notes += [note] if note else []
    inflated: List[str] = []
    if inflate:
        state, inflated = inflate_state_dict(state, model_state)
    if adapt:
        from .vit_convert import adapt_to_model

        state = adapt_to_model(state, model)
    report = LoadReport(ckpt.path, name, dropped=dropped, inflated=inflated,
                        epoch=ckpt.meta.get("epoch"), notes=notes)
    to_load = OrderedDict()
    for k, v in state.items():
        if k not in model_state:
            report.unexpected.append(k)
            continue
        fitted = _fits(v, model_state[k])
        if fitted is None:
            report.mismatched.append((k, tuple(v.shape), tuple(model_state[k].shape)))
        else:
            to_load[k] = fitted
    if not to_load:
        what = ("no key of" if not report.mismatched else "no tensor of matching shape in")
        raise InputError(
            f"{what} {_describe(ckpt.path)} (format {name}) matches the model: checkpoint keys look like "
            f"{_examples(state)}, the model's like {_examples(model_state)}{_hint(state, list(model_state))}"
        )
    model.load_state_dict(to_load, strict=False)
    report.loaded = list(to_load)
    report.missing = [k for k in model_state if k not in to_load and not k.endswith("num_batches_tracked")]
    return report
