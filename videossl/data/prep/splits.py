"""Build Kinetics-style ``path label`` lists from a folder-per-class tree."""

import hashlib
import os
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ...errors import InputError

VIDEO_EXTENSIONS = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".m4v")


def folder_rows(root: str, extensions: Sequence[str] = VIDEO_EXTENSIONS,
                classes: Optional[List[str]] = None) -> Tuple[List[Tuple[str, int]], List[str]]:
    """``(rows, classes)``: every video ``root/<class>/<file>`` as ``(class/file, label)``.

    Classes are the sorted sub-folder names (or ``classes``, which fixes the label order).
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f"no such folder: {root}")
    classes = classes or sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    rows = []
    for label, cls in enumerate(classes):
        for name in sorted(os.listdir(os.path.join(root, cls))):
            if name.lower().endswith(tuple(extensions)):
                rows.append((f"{cls}/{name}", label))
    if not rows:
        raise InputError(f"no videos ({', '.join(extensions)}) in class folders of {root}")
    return rows, classes


def hash_split(key: str, fraction: float, salt: str = "") -> bool:
    """True for a stable ``fraction`` of keys (held-out split), independent of list order."""
    h = int(hashlib.sha256((salt + key).encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < fraction


def split_rows(rows: Iterable[Tuple[str, int]], fraction: float, group_of=None,
               salt: str = "") -> Dict[str, List[Tuple[str, int]]]:
    """``{"train": ..., "test": ...}``: a ``fraction`` held out by hashing ``group_of(path)``
    (default the path), so clips of one group never straddle the split."""
    out = {"train": [], "test": []}
    for path, label in rows:
        key = group_of(path) if group_of else path
        out["test" if hash_split(key, fraction, salt) else "train"].append((path, label))
    return out


def write_csv(path: str, rows: Iterable[Tuple[str, int]], sep: str = " ") -> int:
    """Write ``path<sep>label`` lines; returns the number of rows."""
    rows = list(rows)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("".join(f"{p}{sep}{label}\n" for p, label in rows))
    return len(rows)


def list_videos(root: str, extensions: Sequence[str] = VIDEO_EXTENSIONS) -> List[str]:
    """Paths (relative to ``root``, sorted) of every video file under ``root``.

    Raises FileNotFoundError when ``root`` is not a folder and InputError when it holds no video.
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f"no such folder: {root}")
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        out += [os.path.relpath(os.path.join(dirpath, n), root) for n in sorted(files)
                if n.lower().endswith(tuple(extensions))]
    if not out:
        raise InputError(f"no videos ({', '.join(extensions)}) under {root}")
    return out
