"""AVA v2.2 as PySlowFast reads it: frame lists, box files and the keyframes they define.

Layout (PySlowFast's ``AVA.*`` keys):

* frame lists (``AVA.TRAIN_LISTS`` / ``TEST_LISTS`` in ``AVA.FRAME_LIST_DIR``):
  a header line, then ``original_vido_id video_id frame_id path labels``
  (5 whitespace-separated columns); ``path`` is relative to ``AVA.FRAME_DIR``.
  Frames are at 30 fps over the 15-minute cut that starts at second 900.
* box files (``AVA.TRAIN_GT_BOX_LISTS``, ``*_PREDICT_BOX_LISTS`` in
  ``AVA.ANNOTATION_DIR``): ``video,sec,x1,y1,x2,y2,action[,person|score]``
  with boxes normalised to [0, 1]. A person doing k actions is k rows with
  the same box; the rows of one textual box are merged into one box with k
  labels. Predicted (proposal) boxes carry a score in column 8 and are kept
  when ``score >= AVA.DETECTION_SCORE_THRESH``; their action may be empty
  (label -1: a box without label).
* keyframes: seconds 902..1798 (:data:`KEYFRAME_SECS`) that have at least
  one box; second ``s`` is frame ``(s - 900) * 30`` of the video's list.
"""

import os
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from ...errors import InputError

FPS = 30
CUT_START_SEC = 900
KEYFRAME_SECS = range(902, 1799)

Box = Tuple[float, float, float, float]
#: video name -> second -> [(box, labels)]
BoxTable = Dict[str, Dict[int, List[Tuple[Box, List[int]]]]]


@dataclass(frozen=True)
class Keyframe:
    """One training / test sample: a keyframe of a video and its boxes."""

    video: int  # index into the frame lists' videos
    sec: int  # AVA second (902..1798)
    frame: int  # index of the keyframe in the video's frame list
    boxes: Tuple[Box, ...]  # normalised x1, y1, x2, y2
    labels: Tuple[Tuple[int, ...], ...]  # action ids per box (-1: none)


def sec_to_frame(sec: int) -> int:
    """Index of second ``sec``'s keyframe in a 30 fps frame list of the cut that starts at 900 s."""
    return (sec - CUT_START_SEC) * FPS


def read_frame_lists(paths: Sequence[str], frame_dir: str) -> Tuple[List[str], List[List[str]]]:
    """``(video names, frame paths per video)`` from PySlowFast frame lists, in first-seen order.

    Raises:
        FileNotFoundError naming a missing list; InputError naming the file and
        line of a row without 5 columns.
    """
    index: Dict[str, int] = {}
    frames: List[List[str]] = []
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"AVA frame list not found: {path} (AVA.FRAME_LIST_DIR / TRAIN_LISTS / TEST_LISTS)")
        with open(path) as f:
            f.readline()  # header
            for n, line in enumerate(f, start=2):
                if not line.strip():
                    continue
                row = line.split()
                if len(row) != 5:
                    raise InputError(f"{path}:{n}: an AVA frame list row has 5 columns "
                                     f"(original_vido_id video_id frame_id path labels), got {len(row)}")
                if row[0] not in index:
                    index[row[0]] = len(frames)
                    frames.append([])
                frames[index[row[0]]].append(os.path.join(frame_dir, row[3]))
    return list(index), frames


@dataclass(frozen=True)
class BoxRow:
    """One row of a box file."""

    video: str
    sec: int
    box: Box
    label: int  # -1: none (a proposal)
    score: float  # 1.0 for ground truth


def parse_box_row(line: str, is_gt: bool) -> BoxRow:
    """``video,sec,x1,y1,x2,y2,action[,person|score]`` -> :class:`BoxRow` (a predicted row needs its score).

    Raises:
        ValueError / IndexError on a malformed row.
    """
    row = line.strip().split(",")
    return BoxRow(row[0], int(row[1]), tuple(float(v) for v in row[2:6]), -1 if row[6] == "" else int(row[6]),
                  1.0 if is_gt else float(row[7]))


def read_box_files(files: Sequence[Tuple[str, bool]], score_thresh: float = 0.0,
                   sample_rate: int = 1) -> BoxTable:
    """Boxes of every ``(path, is_ground_truth)`` file, merged by video, second and box.

    Rows of predicted boxes below ``score_thresh`` are dropped, and only
    seconds divisible by ``sample_rate`` are kept (PySlowFast's 1-in-4 val).
    The boxes of one second keep their first-seen order.

    Raises:
        FileNotFoundError naming a missing file; InputError naming the file and
        line of a malformed row.
    """
    table: Dict[str, Dict[int, Dict[str, Tuple[Box, List[int]]]]] = {}
    for path, is_gt in files:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"AVA box file not found: {path} (AVA.ANNOTATION_DIR / *_BOX_LISTS)")
        with open(path) as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    r = parse_box_row(line, is_gt)
                except (IndexError, ValueError) as err:
                    raise InputError(f"{path}:{n}: malformed AVA box row {line.strip()!r} "
                                     f"(video,sec,x1,y1,x2,y2,action[,person|score]): {err}") from None
                if r.score < score_thresh or r.sec % sample_rate:
                    continue
                key = ",".join(line.strip().split(",")[2:6])  # PySlowFast merges rows by the box's text
                entry = table.setdefault(r.video, {}).setdefault(r.sec, {}).setdefault(key, (r.box, []))
                entry[1].append(r.label)
    return {v: {s: list(boxes.values()) for s, boxes in secs.items()} for v, secs in table.items()}


def keyframes(video_names: Sequence[str], boxes: BoxTable) -> List[Keyframe]:
    """Every keyframe second (902..1798) of every listed video that has at least one box, in order."""
    out = []
    for v, name in enumerate(video_names):
        secs = boxes.get(name, {})
        for sec in sorted(secs):
            if sec in KEYFRAME_SECS and secs[sec]:
                out.append(Keyframe(v, sec, sec_to_frame(sec), tuple(b for b, _ in secs[sec]),
                                    tuple(tuple(labels) for _, labels in secs[sec])))
    return out
