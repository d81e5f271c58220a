"""Generate a dataset folder once, safely across processes (the synthetic sets, first used by several ranks)."""

import fcntl
import os
import shutil
import tempfile
from typing import Callable


def write_once(root: str, complete: Callable[[str], bool], write: Callable[[str], None]) -> str:
    """``root``, written by ``write(tmp_dir)`` unless ``complete(root)`` already holds.

    Processes racing on the same ``root`` wait on ``root + ".lock"``; the data
    is written into a temporary sibling folder and renamed into place, so a
    crash never leaves a half-written ``root`` (the temporary folder is removed).
    """
    parent = os.path.dirname(root)
    os.makedirs(parent, exist_ok=True)
    with open(root + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if complete(root):
                return root  # another process wrote it while we waited
            tmp = tempfile.mkdtemp(prefix=os.path.basename(root) + ".tmp-", dir=parent)
            try:
                write(tmp)
                if os.path.isdir(root) and not os.listdir(root):
                    os.rmdir(root)
                os.rename(tmp, root)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return root
