"""HMDB51 official splits: ``<class>_test_split<N>.txt`` with ``video.avi 1|2|0`` (train/test/unused)."""

import glob
import os
from typing import List, Optional

from ...errors import InputError
from ..records import VideoRecord
from .common import require_dir, require_rows, with_flow

_SUFFIX = "_test_split{}.txt"


def read_hmdb51(list_dir: str, video_root: str, split: str, fold: int = 1,
                flow_root: Optional[str] = None) -> List[VideoRecord]:
    """Rows of HMDB51 split ``fold`` (1-3): marker 1 = train, 2 = test (val/test), 0 = unused.

    ``list_dir`` holds the 153 split files (directly or in
    ``testTrainMulti_7030_splits/``); classes are the sorted file-name
    prefixes, labels 0-based.  Videos are ``<video_root>/<class>/<name>.avi``
    (or frame folders).  ``source_id`` is the row index.
    """
    if fold not in (1, 2, 3):
        raise InputError(f"DATA.SPLIT={fold}: HMDB51 has splits 1, 2, 3")
    require_dir(list_dir)
    files = []
    for sub in ("", "testTrainMulti_7030_splits"):
        files = sorted(glob.glob(os.path.join(list_dir, sub, "*" + _SUFFIX.format(fold))))
        if files:
            break
    if not files:
        raise FileNotFoundError(f"no HMDB51 split files *{_SUFFIX.format(fold)} in {list_dir}")
    want = "1" if split == "train" else "2"
    records, rels = [], []
    for label, path in enumerate(files):
        cls = os.path.basename(path)[: -len(_SUFFIX.format(fold))]
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) != 2 or fields[1] not in "012":
                    raise InputError(f"{path}:{lineno}: expected 'video.avi 0|1|2', got {line.strip()!r}")
                if fields[1] == want:
                    rel = os.path.join(cls, fields[0])
                    records.append(VideoRecord(os.path.join(video_root, rel), label, len(records)))
                    rels.append(rel)
    require_rows(records, os.path.join(list_dir, "*" + _SUFFIX.format(fold)))
    return with_flow(records, flow_root, rels)
