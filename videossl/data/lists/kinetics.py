"""PySlowFast Kinetics CSVs: ``{train,val,test}.csv``, one ``path label`` per line."""

import os
from typing import List, Optional

from ...errors import InputError
from ..records import VideoRecord
from .common import require_dir, require_file, require_rows, with_flow


def read_kinetics_csv(data_dir: str, split: str, prefix: str = "", sep: str = " ",
                      flow_root: Optional[str] = None) -> List[VideoRecord]:
    """Rows of ``<data_dir>/<split>.csv``.

    Each line is ``path<sep>label`` (also ``path<sep>x<sep>label`` and a bare
    ``path`` with label 0, as PySlowFast); ``prefix`` is joined to each path.
    ``source_id`` is the row index.  With ``flow_root``, a row's flow folder is
    ``<flow_root>/<path without extension>``.

    Raises:
        FileNotFoundError: ``data_dir`` or the CSV is missing (message names it).
        ValueError: the CSV has no rows, or a line cannot be parsed (line number given).
    """
    require_dir(data_dir)
    csv = os.path.join(data_dir, f"{split}.csv")
    require_file(csv)
    records, rels = [], []
    with open(csv) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            fields = line.split(sep) if sep.strip() else line.split()
            if len(fields) == 1:
                rel, label = fields[0], "0"
            elif len(fields) in (2, 3):
                rel, label = fields[0], fields[-1]
            else:
                raise InputError(f"{csv}:{lineno}: expected 'path{sep}label', got {line!r}")
            try:
                label_id = int(label)
            except ValueError:
                raise InputError(f"{csv}:{lineno}: label {label!r} is not an integer") from None
            records.append(VideoRecord(os.path.join(prefix, rel) if prefix else rel, label_id, len(records)))
            rels.append(rel)
    require_rows(records, csv)
    return with_flow(records, flow_root, rels)
