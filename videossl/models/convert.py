"""Checkpoint conversion: read a published checkpoint, map its keys onto ours, load what fits.

``load_pretrained(model, path_or_state)`` is the one entry point the trainer
uses.  It

1. reads the file (:func:`read_checkpoint`): PySlowFast ``.pyth``
   (``model_state``), CoCLR / ViCC / AVID ``.pth.tar`` (``state_dict`` or
   ``model``), VideoMAE ``.pth`` (``model`` or ``module``), caffe2 ``.pkl``
   (``blobs``), or a plain state dict; a DataParallel ``module.`` prefix is
   removed;
2. detects the source format (or takes ``source=``) and maps its keys onto
   videossl's names (:data:`SOURCES`, extensible with :func:`register_source`;
   each format is registered beside the model it maps onto: ``resnet_convert``
   (caffe2), ``coclr_convert`` (CoCLR / ViCC), ``r2plus1d_convert`` (AVID),
   ``vit_convert`` (VideoMAE, MAE-ST));
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
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from ..errors import InputError

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
