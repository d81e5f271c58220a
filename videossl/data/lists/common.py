"""Helpers shared by the list readers: existence checks with clear messages, flow folders."""

import os
from typing import List, Optional

from ...errors import InputError
from ..records import VideoRecord


def require_dir(path: str, what: str = "data directory") -> None:
    """Raise FileNotFoundError naming ``path`` unless it is a directory."""
    if not path:
        raise FileNotFoundError(f"no {what} given (set DATA.PATH_TO_DATA_DIR)")
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{what} not found: {path}")


def require_file(path: str, what: str = "file list") -> None:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} not found: {path}")


def require_rows(rows: List, path: str) -> None:
    if not rows:
        raise InputError(f"file list {path} has no videos")


def flow_folder(flow_root: Optional[str], rel_path: str) -> Optional[str]:
    """Flow frames of video ``rel_path``: ``<flow_root>/<rel_path without extension>``."""
    if not flow_root:
        return None
    rel = rel_path if not os.path.isabs(rel_path) else os.path.basename(rel_path)
    stem, ext = os.path.splitext(rel)
    return os.path.join(flow_root, stem if ext else rel)


def with_flow(records: List[VideoRecord], flow_root: Optional[str], rel_paths: List[str]) -> List[VideoRecord]:
    if not flow_root:
        return records
    return [VideoRecord(r.path, r.label, r.source_id, flow_folder(flow_root, rel))
            for r, rel in zip(records, rel_paths)]


def find_file(root: str, name: str, subdirs=()) -> str:
    """``root/name`` or ``root/<subdir>/name``; FileNotFoundError naming what was looked for."""
    for sub in ("",) + tuple(subdirs):
        path = os.path.join(root, sub, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"{name} not found in {root}" + (f" (or {', '.join(subdirs)}/)" if subdirs else ""))
