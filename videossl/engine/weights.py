"""Weights in one place: initialising a method, loading weights to test, and resuming a run.

* **Initialisation** (:func:`initialise`): ``{role: path}`` from
  :func:`init_checkpoints` (``TRAIN.CHECKPOINT_FILE_PATH`` is the role
  ``model``, ``TRAIN.INIT_FROM`` names others, and an evaluation task with
  neither chains from the last pretraining checkpoint in ``OUTPUT_DIR``, as
  PySlowFast's ``ssl_eval``).  The method maps roles onto its modules
  (:meth:`~videossl.methods.base.Method.init_from`).  Each file goes through
  :func:`videossl.models.convert.load_pretrained` (format detection, key
  mapping, clearing, inflation, position-table resizing) and its report is
  logged.  A task that initialises the backbone only (linear, finetune) clears
  ``backbone.`` and never takes a head.
* **Testing** (:func:`load_for_test`): ``TEST.CHECKPOINT_FILE_PATH``, else the
  task's last checkpoint in ``OUTPUT_DIR``, else the initialisation
  checkpoints.  A videossl training checkpoint loads whole; a foreign one
  through the converter.
* **Resuming** (:func:`read_training_checkpoint`): only videossl training
  checkpoints; the trainer restores itself from the dict.

Which keys of a checkpoint are never weights is declared by the methods
(:meth:`~videossl.methods.base.Method.checkpoint_layout`), not known here.
"""

from typing import Dict, Optional, Sequence

from torch import nn

from ..errors import InputError
from ..methods import DEFAULT_ROLE, Method, never_load_patterns
from ..models.convert import LoadReport, load_pretrained
from ..utils import checkpoint as cu
from ..utils.logging import get_logger
from .tasks import INIT_BACKBONE, TaskSpec

logger = get_logger("weights")

#: The prefix of the encoder in SSL checkpoints (PySlowFast's convention, every SSL method's layout).
BACKBONE_PREFIX = Method.LAYOUT.backbone


def resolve_path(path: str) -> str:
    """A local file for a path, a model-zoo name or a URL (downloaded into the cache)."""
    from ..models.zoo import resolve_checkpoint_path

    return resolve_checkpoint_path(path)


def parse_roles(entries: Sequence[str]) -> Dict[str, str]:
    """``["role=path", ...]`` (``TRAIN.INIT_FROM``) -> ``{role: path}``; ValueError naming a bad entry."""
    roles = {}
    for entry in entries:
        role, sep, path = str(entry).partition("=")
        if not sep or not role or not path:
            raise InputError(f"TRAIN.INIT_FROM entry {entry!r} is not ROLE=PATH")
        if role in roles:
            raise InputError(f"TRAIN.INIT_FROM names role {role!r} twice")
        roles[role] = path
    return roles


def init_checkpoints(cfg, task: TaskSpec) -> Dict[str, str]:
    """``{role: local path}`` that initialise a run of ``task`` (empty: random init)."""
    roles = parse_roles(cfg.TRAIN.INIT_FROM)
    if cfg.TRAIN.CHECKPOINT_FILE_PATH:
        if DEFAULT_ROLE in roles:
            raise InputError(f"TRAIN.CHECKPOINT_FILE_PATH and TRAIN.INIT_FROM's {DEFAULT_ROLE!r} both give "
                             "the model's checkpoint; keep one")
        roles[DEFAULT_ROLE] = cfg.TRAIN.CHECKPOINT_FILE_PATH
    if not roles and task.chain_from is not None:
        chained = cu.last_checkpoint(cfg.OUTPUT_DIR, task.chain_from)
        return {DEFAULT_ROLE: chained} if chained else {}
    return {role: resolve_path(path) for role, path in roles.items()}


def module_prefix(method: Method, module: nn.Module) -> str:
    """``module``'s name inside ``method`` plus a dot (``"net."``), or ``""`` for the method itself."""
    for name, m in method.named_modules():
        if m is module:
            return f"{name}." if name else ""
    raise ValueError(f"{type(module).__name__} is not a part of {type(method).__name__}")  # a bug, not input


def load_into(module: nn.Module, path: str, *, backbone_only: bool = False,
              clear_patterns: Sequence[str] = (), inflate: bool = False,
              source: Optional[str] = None, own_prefix: str = "", exclude: Sequence[str] = ()) -> LoadReport:
    """Load the weights of ``path`` that fit ``module``; returns the report.

    ``backbone_only``: clear :data:`BACKBONE_PREFIX` (unless ``clear_patterns``
    is given) and leave ``module.head`` out of the load (heads are never taken
    from a pretraining checkpoint).  ``own_prefix``: ``module``'s place in its
    method (:func:`module_prefix`), stripped from a checkpoint written by that
    method, so videossl's own files always load.  ``exclude``: key fragments
    left out besides the methods' non-weights (e.g. a queue that restarts).
    """
    patterns = tuple(clear_patterns) or ((BACKBONE_PREFIX,) if backbone_only else ())
    head = getattr(module, "head", None) if backbone_only else None
    if head is not None:
        module.head = None
    try:
        return load_pretrained(module, path, clear_name_patterns=patterns, inflate=inflate, source=source,
                               drop_patterns=never_load_patterns() + tuple(exclude), adapt=True,
                               strip_prefix=own_prefix)
    finally:
        if head is not None:
            module.head = head


def initialise(method: Method, checkpoints: Dict[str, str], task: TaskSpec, *,
               clear_patterns: Sequence[str] = (), inflate: bool = False,
               source: Optional[str] = None) -> Dict[str, LoadReport]:
    """Load ``{role: path}`` into ``method`` as ``task`` says; logs and returns the reports."""
    if not checkpoints:
        return {}
    def load(module: nn.Module, path: str, source_prefix: Optional[str] = None,
             exclude: Sequence[str] = ()) -> LoadReport:
        return load_into(module, path, backbone_only=task.init == INIT_BACKBONE, clear_patterns=clear_patterns,
                         inflate=inflate, source=source, own_prefix=source_prefix or module_prefix(method, module),
                         exclude=exclude)

    reports = method.init_from(checkpoints, load)
    for role, report in reports.items():
        logger.info("initialised %s from %s\n%s", role, checkpoints[role], report.table())
        if len(report.mismatched) >= max(len(report.loaded), 1):
            logger.warning("%s: %d tensors do not fit the model's shapes and only %d loaded (e.g. %s): "
                           "is it the right MODEL.ARCH / checkpoint?", checkpoints[role], len(report.mismatched),
                           len(report.loaded), report.mismatched[0][0])
    return reports


def read_training_checkpoint(path: str) -> Dict:
    """A videossl training checkpoint (with resume state); ValueError naming the file otherwise."""
    ckpt = cu.load_file(path)
    if "resume_epoch" not in ckpt:
        raise InputError(f"{path} is not a videossl training checkpoint (no resume state)")
    return ckpt


def load_for_test(method: Method, path: Optional[str], *, caffe2: bool = False) -> bool:
    """Load ``path`` (a videossl checkpoint whole, a foreign one into ``method.pretrain_target``).

    Returns False when ``path`` is empty (nothing loaded).
    """
    if not path:
        return False
    caffe2 = caffe2 or path.endswith(".pkl")
    ckpt = {} if caffe2 else cu.load_file(path)
    if "resume_epoch" in ckpt:
        method.load_state_dict(ckpt["model_state"])
        logger.info("testing weights of %s", path)
        return True
    target = method.pretrain_target
    report = load_pretrained(target, path, source="caffe2" if caffe2 else None, drop_patterns=never_load_patterns(),
                             adapt=True, strip_prefix=module_prefix(method, target))
    logger.info("testing weights of %s\n%s", path, report.table())
    return True
