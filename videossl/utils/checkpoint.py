"""Checkpoint files: atomic writes, PySlowFast naming, discovery for auto-resume.

A videossl checkpoint is a superset of PySlowFast's ``.pyth`` dict:
``{"epoch", "model_state", "optimizer_state", "cfg"}`` plus ``"iter"`` (the
iteration inside the epoch to resume at; 0 = start of ``epoch``),
``"scheduler_state"``, ``"scaler_state"``, ``"rank_states"`` (one entry per
rank: RNG states and the method's per-rank state) and ``"videossl_version"``.
PySlowFast's ``epoch`` means "epochs completed"; a mid-epoch checkpoint has
``epoch = e`` (the running epoch) and ``iter > 0``.
"""

import errno
import glob
import os
import re
from typing import List, Optional

import torch

from ..errors import DataError, InputError

_NAME_RE = re.compile(r"checkpoint_epoch_(\d{5})(?:_iter_(\d{7}))?\.pyth$")


def checkpoint_dir(output_dir: str) -> str:
    return os.path.join(output_dir, "checkpoints")


def checkpoint_name(task_prefix: str, epoch: int, iter_in_epoch: int = 0) -> str:
    """PySlowFast name ``[TASK_]checkpoint_epoch_{epoch:05d}.pyth`` (+``_iter_N`` mid-epoch)."""
    stem = f"{task_prefix}_checkpoint" if task_prefix else "checkpoint"
    name = f"{stem}_epoch_{epoch:05d}"
    if iter_in_epoch:
        name += f"_iter_{iter_in_epoch:07d}"
    return name + ".pyth"


def _sort_key(path: str):
    m = _NAME_RE.search(path)
    return (int(m.group(1)), int(m.group(2) or 0)) if m else (-1, -1)


def list_checkpoints(output_dir: str, task_prefix: str = "") -> List[str]:
    """This task's checkpoints in ``OUTPUT_DIR/checkpoints``, oldest first (by epoch, then iteration)."""
    stem = f"{task_prefix}_checkpoint" if task_prefix else "checkpoint"
    files = [
        f for f in glob.glob(os.path.join(checkpoint_dir(output_dir), f"{stem}_epoch_*.pyth"))
        if os.path.basename(f).startswith(stem + "_epoch_")
    ]
    return sorted(files, key=_sort_key)


def last_checkpoint(output_dir: str, task_prefix: str = "") -> Optional[str]:
    """Most advanced checkpoint of this task in ``OUTPUT_DIR/checkpoints``, or None."""
    files = list_checkpoints(output_dir, task_prefix)
    return files[-1] if files else None


def save_atomic(obj, path: str) -> None:
    """``torch.save`` to a temp file in the same directory, fsync, then rename.

    A failed write (a full disk: ``ENOSPC``) removes the partial file and
    raises :class:`~videossl.errors.DataError` naming the path and the cause;
    an existing checkpoint at ``path`` is never half-overwritten.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if os.path.exists(tmp):
            os.remove(tmp)
        cause = errno.errorcode.get(err.errno, "") if err.errno else ""
        raise DataError(f"could not write checkpoint {path}: {err.strerror or err}"
                        f"{f' ({cause})' if cause else ''}; the partial file was removed") from None


def load_file(path: str) -> dict:
    """Load a checkpoint dict on CPU; one clear error if the file is missing or unreadable."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means "unreadable"
        raise InputError(f"checkpoint {path} is unreadable ({type(err).__name__}: {err})") from None
