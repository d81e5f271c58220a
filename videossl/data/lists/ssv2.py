"""Something-Something v2: ``labels.json`` + ``something-something-v2-{train,validation}.json``."""

import json
import os
from typing import List, Optional

from ...errors import InputError
from ..records import VideoRecord
from .common import find_file, require_dir, require_rows, with_flow


def _template(entry: dict) -> str:
    return entry["template"].replace("[", "").replace("]", "")


def read_ssv2(list_dir: str, video_root: str, split: str, ext: str = ".webm",
              flow_root: Optional[str] = None) -> List[VideoRecord]:
    """Rows of the official SSv2 json lists: ``train`` reads the train list, val/test the validation list.

    Labels: ``labels.json`` (or ``something-something-v2-labels.json``) maps
    the template (without brackets) to a class id.  Video ``id`` is
    ``<video_root>/<id>.webm`` (``ext``), or the frame folder ``<video_root>/<id>/``.
    """
    require_dir(list_dir)
    try:
        labels_path = find_file(list_dir, "labels.json")
    except FileNotFoundError:
        labels_path = find_file(list_dir, "something-something-v2-labels.json")
    with open(labels_path) as f:
        classes = {k: int(v) for k, v in json.load(f).items()}
    name = "something-something-v2-{}.json".format("train" if split == "train" else "validation")
    path = find_file(list_dir, name)
    with open(path) as f:
        entries = json.load(f)
    records, rels = [], []
    for entry in entries:
        key = _template(entry)
        if key not in classes:
            raise InputError(f"{path}: video {entry.get('id')}: template {key!r} is not in {labels_path}")
        rel = f"{entry['id']}{ext}"
        records.append(VideoRecord(os.path.join(video_root, rel), classes[key], len(records)))
        rels.append(rel)
    require_rows(records, path)
    return with_flow(records, flow_root, rels)
