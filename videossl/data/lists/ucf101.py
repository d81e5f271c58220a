"""UCF101 official splits: ``classInd.txt``, ``trainlist0N.txt``, ``testlist0N.txt``."""

import os
import re
from typing import Dict, List, Optional

from ...errors import InputError
from ..records import VideoRecord
from .common import find_file, require_dir, require_rows, with_flow

_GROUP = re.compile(r"(v_.+_g\d+)_c\d+")


def ucf101_group(path: str) -> str:
    """``v_ApplyEyeMakeup_g08`` from ``.../v_ApplyEyeMakeup_g08_c01.avi`` (clips of one source video)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    m = _GROUP.match(stem)
    return m.group(1) if m else stem


def read_class_ind(path: str) -> Dict[str, int]:
    """``classInd.txt`` (``1 ApplyEyeMakeup``) -> {class name: 0-based label}."""
    classes = {}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            idx, name = line.split()
            classes[name] = int(idx) - 1
    return classes


def read_ucf101(list_dir: str, video_root: str, split: str, fold: int = 1,
                flow_root: Optional[str] = None) -> List[VideoRecord]:
    """Rows of UCF101 split ``fold`` (1-3): ``train`` reads ``trainlist0N.txt``, val/test ``testlist0N.txt``.

    ``list_dir`` holds the split files (directly or in ``ucfTrainTestlist/``);
    videos are ``<video_root>/<Class>/v_<Class>_gYY_cZZ.avi`` (or frame folders
    without the extension).  Labels come from ``classInd.txt`` (0-based).
    ``source_id`` numbers the source group ``v_<Class>_gYY``, so clips cut from
    one video share it.
    """
    if fold not in (1, 2, 3):
        raise InputError(f"DATA.SPLIT={fold}: UCF101 has splits 1, 2, 3")
    require_dir(list_dir)
    classes = read_class_ind(find_file(list_dir, "classInd.txt", ("ucfTrainTestlist",)))
    name = f"{'train' if split == 'train' else 'test'}list0{fold}.txt"
    path = find_file(list_dir, name, ("ucfTrainTestlist",))
    rels, labels = [], []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            rel = fields[0]
            cls = rel.replace("\\", "/").split("/")[0]
            if cls not in classes:
                raise InputError(f"{path}:{lineno}: class {cls!r} is not in classInd.txt")
            rels.append(rel)
            labels.append(classes[cls])
    groups: Dict[str, int] = {}
    records = []
    for rel, label in zip(rels, labels):
        gid = groups.setdefault(ucf101_group(rel), len(groups))
        records.append(VideoRecord(os.path.join(video_root, rel), label, gid))
    require_rows(records, path)
    return with_flow(records, flow_root, rels)
