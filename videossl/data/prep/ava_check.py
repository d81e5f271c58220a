"""Validate an AVA folder before training: every problem a run would hit later, each named with its file.

Checks, for the frame lists and box files PySlowFast's ``AVA.*`` keys name:

* every box file row parses, and its box lies in [0, 1] with ``x1 < x2`` and ``y1 < y2``;
* every action id of a ground-truth row is in the label map (proposals may have none);
* every box's video is in the frame lists;
* every keyframe's clip (``num_frames`` x ``sampling_rate`` frames centred on
  it) is inside the video's frame list, and those frame files exist.
"""

import os
from typing import Iterable, List, Sequence, Tuple

from ...errors import InputError
from ..lists.ava import KEYFRAME_SECS, parse_box_row, read_frame_lists, sec_to_frame


def check_box_rows(path: str, is_gt: bool, class_ids: Iterable[int]) -> List[str]:
    """Problems of one box file, one line each (``path:line: ...``)."""
    known = set(class_ids)
    problems = []
    with open(path) as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                r = parse_box_row(line, is_gt)
            except (IndexError, ValueError) as err:
                problems.append(f"{path}:{n}: malformed row {line.strip()!r}: {err}")
                continue
            x1, y1, x2, y2 = r.box
            if not (0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1):
                problems.append(f"{path}:{n}: box ({x1}, {y1}, {x2}, {y2}) is not inside [0, 1] with x1 < x2, y1 < y2")
            if is_gt and r.label not in known:
                problems.append(f"{path}:{n}: action {line.split(',')[6]!r} is not in the label map")
            if r.sec not in KEYFRAME_SECS:
                problems.append(f"{path}:{n}: second {r.sec} is outside AVA's keyframes 902-1798 (never used)")
    return problems


def check_ava(frame_lists: Sequence[str], frame_dir: str, box_files: Sequence[Tuple[str, bool]],
              class_ids: Iterable[int], num_frames: int, sampling_rate: int) -> List[str]:
    """Every problem of an AVA folder (empty: good); see the module docstring."""
    try:
        names, frames = read_frame_lists(frame_lists, frame_dir)
    except (FileNotFoundError, InputError) as err:
        return [str(err)]
    videos = dict(zip(names, frames))
    class_ids = set(class_ids)
    problems: List[str] = []
    half = num_frames * sampling_rate // 2
    checked = set()
    for path, is_gt in box_files:
        if not os.path.isfile(path):
            problems.append(f"AVA box file not found: {path}")
            continue
        problems += check_box_rows(path, is_gt, class_ids)
        with open(path) as f:
            for n, line in enumerate(f, start=1):
                row = line.strip().split(",")
                if len(row) < 2 or not row[1].strip().isdigit():
                    continue  # reported above
                video, sec = row[0], int(row[1])
                if (video, sec) in checked:
                    continue
                checked.add((video, sec))
                if video not in videos:
                    problems.append(f"{path}:{n}: video {video!r} is not in the frame lists")
                    continue
                centre = sec_to_frame(sec)
                listed = videos[video]
                if centre - half < 0 or centre + half > len(listed):
                    problems.append(f"{path}:{n}: the clip around second {sec} (frames {centre - half}.."
                                    f"{centre + half - 1}) is outside {video}'s {len(listed)} listed frames")
                for i in range(max(centre - half, 0), min(centre + half, len(listed)), sampling_rate):
                    if not os.path.isfile(listed[i]):
                        problems.append(f"missing frame {listed[i]} (video {video}, second {sec})")
                        break
    return problems
