"""AVA v2.2 frame-level action detection metric (frame-mAP at IoU 0.5), as pure functions.

The metric is the one of the official ActivityNet ``get_ava_performance.py``
tool, which runs a PASCAL VOC (2010+ "area") detection evaluator over AVA's
keyframes.  This module re-implements its behaviour from the definition:

* A *frame* (image) is a key ``(video_id: str, sec: int)``; boxes are
  normalised ``[x1, y1, x2, y2]`` in [0, 1]; action ids are AVA's 1-based ids.
* Only the evaluated classes count (the label map's ids: 60 for AVA v2.2);
  ground-truth and detection rows of other classes are dropped.  Ground truth
  and detections on excluded frames are dropped too.
* Ground-truth rows are kept as given: one person doing k actions is k rows,
  and a row repeated with the same action is two ground-truth boxes of that
  class (the official reader does not de-duplicate either).
* Per class ``c``, detections of ``c`` over all frames are ranked by score
  (descending).  Walking that ranking, a detection on frame ``f`` is a true
  positive iff its best-overlapping ground-truth box of class ``c`` on ``f``
  (``argmax_j IoU``, first one on ties) has ``IoU >= 0.5`` and is not yet
  matched; otherwise (no box, best IoU < 0.5, best box already taken) it is a
  false positive.  Ground truth that is never matched is a miss.
* With ``TP_k``/``FP_k`` the cumulative counts at rank ``k`` and ``G_c`` the
  number of ground-truth boxes of ``c``::

      P_k = TP_k / (TP_k + FP_k),   R_k = TP_k / G_c
      P~_k = max_{j >= k} P_j                       (precision envelope)
      AP_c = sum_k (R_k - R_{k-1}) * P~_k           (R_0 = 0)

  A class with ground truth but no detections has ``AP_c = 0``; a class with
  no ground truth is left out (the official tool warns and skips it).
* ``mAP = mean_c AP_c`` over the classes that have ground truth.

IoU is ``|A ∩ B| / |A ∪ B|`` with areas ``(x2 - x1) * (y2 - y1)`` (no "+1"
pixel convention, as ActivityNet's ``np_box_ops.iou``).

Two details of the official tool are reproduced: detections whose box is
empty or inverted (``x2 <= x1`` or ``y2 <= y1``) are dropped before matching
(neither TP nor FP), and :func:`frame_map`'s ``max_per_frame`` can keep only
the top-scored detections of each frame as the official script does with 50
(default ``None``: keep all, as PySlowFast's in-process evaluation does).
Tied scores are ranked in input order (stable sort); the official tool's
numpy ``argsort`` orders ties differently, which can change AP only when
tied detections mix true and false positives.
"""

import csv
import math
import re
from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np

from ..errors import InputError

_KINDS = ("groundtruth", "detections")


def iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``[x1, y1, x2, y2]`` boxes.

    ``boxes_a`` [N, 4], ``boxes_b`` [M, 4] -> [N, M] float64 with
    ``IoU_ij = inter_ij / (area_i + area_j - inter_ij)``, ``area = (x2-x1)(y2-y1)``,
    ``inter = max(0, min(x2) - max(x1)) * max(0, min(y2) - max(y1))``.
    Pairs with a zero union (two empty boxes) get 0.
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(w, 0.0, None) * np.clip(h, 0.0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def average_precision(scores: np.ndarray, is_tp: np.ndarray, num_gt: int) -> float:
    """VOC 2010+ AP (area under the enveloped precision/recall curve) of one class.

    ``scores`` [D] float and ``is_tp`` [D] bool describe every detection of the
    class; ``num_gt`` (> 0) is its number of ground-truth boxes.  Detections are
    ranked by score descending (stable on ties); then, with cumulative counts,
    ``P_k = TP_k / k``, ``R_k = TP_k / num_gt``, ``P~_k = max_{j>=k} P_j`` and
    ``AP = sum_k (R_k - R_{k-1}) P~_k``.  ``D = 0`` gives 0.0.  Result in [0, 1].
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    is_tp = np.asarray(is_tp, dtype=bool).reshape(-1)
    if scores.shape != is_tp.shape:
        raise ValueError(f"scores {scores.shape} and is_tp {is_tp.shape} differ in shape")
    if num_gt <= 0:
        raise ValueError(f"num_gt must be > 0, got {num_gt}")
    if int(is_tp.sum()) > num_gt:
        raise ValueError(f"{int(is_tp.sum())} true positives for only {num_gt} ground-truth boxes")
    if scores.size == 0:
        return 0.0
    tp = is_tp[np.argsort(-scores, kind="stable")]
    ctp = np.cumsum(tp)
    precision = ctp / np.arange(1, tp.size + 1)
    recall = ctp / num_gt
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    d_recall = np.diff(recall, prepend=0.0)
    return float(np.sum(d_recall * envelope))


def _frame_key(video, sec) -> tuple[str, int]:
    return str(video), int(sec)


def frame_map(
    groundtruth: Sequence[tuple],
    detections: Sequence[tuple],
    class_ids: Iterable[int],
    excluded: Iterable[tuple] = (),
    iou_threshold: float = 0.5,
    max_per_frame: int | None = None,
) -> dict:
    """AVA frame-mAP of ``detections`` against ``groundtruth`` (see the module docstring).

    ``groundtruth`` rows: ``(video, sec, x1, y1, x2, y2, action[, person])``;
    ``detections`` rows: ``(video, sec, x1, y1, x2, y2, action, score)``.
    ``class_ids``: the evaluated action ids; ``excluded``: ``(video, sec)`` frames
    to ignore; a match needs ``IoU >= iou_threshold``.  ``max_per_frame``: keep
    only that many top-scored detections per frame (after the class filter;
    the official script uses 50), ``None`` keeps all.

    Returns ``{"mAP": float, "per_class": {action: AP}, "num_gt": {action: G}}``
    where both dicts hold exactly the classes with ground truth (``mAP`` is NaN
    when there are none).
    """
    classes = {int(c) for c in class_ids}
    skip = {_frame_key(*k) for k in excluded}

    gt_boxes: dict[tuple, list] = defaultdict(list)  # (action, frame) -> [[x1, y1, x2, y2], ...]
    num_gt: dict[int, int] = defaultdict(int)
    for row in groundtruth:
        if len(row) not in (7, 8):
            raise ValueError(f"ground-truth row needs 7 or 8 fields, got {len(row)}: {row!r}")
        key, action = _frame_key(row[0], row[1]), int(row[6])
        if action in classes and key not in skip:
            gt_boxes[action, key].append([float(v) for v in row[2:6]])
            num_gt[action] += 1

    per_frame: dict[tuple, list] = defaultdict(list)  # frame -> [(score, action, box), ...]
    for row in detections:
        if len(row) != 8:
            raise ValueError(f"detection row needs 8 fields, got {len(row)}: {row!r}")
        key, action = _frame_key(row[0], row[1]), int(row[6])
        if action in classes and key not in skip:
            per_frame[key].append((float(row[7]), action, [float(v) for v in row[2:6]]))

    # per class: parallel lists of scores, frames and boxes
    dets: dict[int, tuple[list, list, list]] = defaultdict(lambda: ([], [], []))
    for key, rows in per_frame.items():
        if max_per_frame is not None:
            rows = sorted(rows, key=lambda r: -r[0])[:max_per_frame]
        for score, action, box in rows:
            if box[2] > box[0] and box[3] > box[1]:  # empty/inverted boxes are dropped
                scores, keys, boxes = dets[action]
                scores.append(score)
                keys.append(key)
                boxes.append(box)

    per_class = {}
    for action in sorted(num_gt):
        scores, keys, boxes = dets.get(action, ([], [], []))
        scores = np.asarray(scores, dtype=np.float64)
        is_tp = np.zeros(scores.size, dtype=bool)
        by_frame: dict[tuple, list] = defaultdict(list)  # frame -> detection indices, best first
        for i in np.argsort(-scores, kind="stable"):
            by_frame[keys[i]].append(i)
        for key, idx in by_frame.items():
            gts = gt_boxes.get((action, key))
            if not gts:
                continue
            overlaps = iou(np.asarray([boxes[i] for i in idx]), np.asarray(gts))
            best = overlaps.argmax(axis=1)
            matched = np.zeros(len(gts), dtype=bool)
            for row, i in enumerate(idx):
                j = best[row]
                if overlaps[row, j] >= iou_threshold and not matched[j]:
                    matched[j] = is_tp[i] = True
        per_class[action] = average_precision(scores, is_tp, num_gt[action])

    mean = float(np.mean(list(per_class.values()))) if per_class else float("nan")
    return {"mAP": mean, "per_class": per_class, "num_gt": dict(sorted(num_gt.items()))}


def _parse_row(fields: list[str], kind: str) -> tuple:
    n = len(fields)
    if kind == "detections" and n != 8 or kind == "groundtruth" and n not in (7, 8):
        raise ValueError(f"expected {'8' if kind == 'detections' else '7 or 8'} fields, got {n}")
    video = fields[0].strip()
    if not video:
        raise ValueError("empty video id")
    box = [float(v) for v in fields[2:6]]
    last = ()
    if n == 8:
        last = (float(fields[7]),) if kind == "detections" else (int(fields[7]),)
    if not all(math.isfinite(v) for v in box + list(last)):
        raise ValueError("non-finite number")
    return (video, int(fields[1]), *box, int(fields[6]), *last)


def read_csv_rows(path, kind: str) -> list[tuple]:
    """Rows of an official AVA CSV (no header; blank lines skipped).

    ``kind="groundtruth"``: ``(video, sec, x1, y1, x2, y2, action[, person])``
    (7-field lines give 7-tuples); ``kind="detections"``:
    ``(video, sec, x1, y1, x2, y2, action, score)``.  Types: str, int, 4 floats,
    int, then int person / float score.  A malformed line raises
    :class:`~videossl.errors.InputError` (a ``ValueError``) naming the file and line.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    rows = []
    with open(path, newline="") as f:
        for line_no, fields in enumerate(csv.reader(f), start=1):
            if not fields or all(not v.strip() for v in fields):
                continue
            try:
                rows.append(_parse_row(fields, kind))
            except ValueError as e:
                line = ",".join(fields)
                raise InputError(f"{path}:{line_no}: malformed AVA {kind} line {line!r}: {e}") from e
    return rows


def write_csv(path, rows: Iterable[tuple], kind: str) -> None:
    """Write rows in the official layout read by ActivityNet's tool and :func:`read_csv_rows`.

    ``video,SSSS,x1,y1,x2,y2,action[,person|score]``: the second is zero-padded
    to 4 digits, boxes have 3 decimals (as AVA's own files), scores 6
    significant digits.  Rounding the boxes can move a borderline IoU across
    the threshold, so the in-memory :func:`frame_map` is the exact reference.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    with open(path, "w", newline="") as f:
        for row in rows:
            line = f"{row[0]},{int(row[1]):04d}," + ",".join(f"{float(v):.3f}" for v in row[2:6])
            line += f",{int(row[6])}"
            if kind == "detections":
                line += f",{float(row[7]):.6g}"
            elif len(row) == 8:
                line += f",{int(row[7])}"
            f.write(line + "\n")


_PBTXT_TOKEN = re.compile(r'\s*(?:#[^\n]*|("(?:[^"\\]|\\.)*")|([{}:])|([^\s{}:"#]+))')


def _pbtxt_tokens(text: str, path) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _PBTXT_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip():
                raise InputError(f"{path}: cannot parse label map near {text[pos:pos + 30]!r}")
            break
        pos = m.end()
        token = m.group(1) or m.group(2) or m.group(3)
        if token:
            tokens.append(token)
    return tokens


def read_label_map(path) -> tuple[dict[int, str], set[int]]:
    """Parse an AVA label-map pbtxt into ``({id: name}, {ids})``.

    Accepts ``item { name: "..." id: N }`` (the ``*_for_activitynet`` files) and
    ``label { name: "..." label_id: N label_type: T }`` (the full action list),
    one field per line or several per line; other fields and ``#`` comments are
    ignored.  An item without a name or an integer id, a repeated id, or
    unbalanced braces raise :class:`~videossl.errors.InputError` naming the file.
    """
    with open(path) as f:
        tokens = _pbtxt_tokens(f.read(), path)
    names: dict[int, str] = {}
    pos = 0
    while pos < len(tokens):
        head = tokens[pos : pos + 2]
        if len(head) < 2 or head[0] not in ("item", "label") or head[1] != "{":
            raise InputError(f"{path}: expected 'item {{' in label map, got {' '.join(head)!r}")
        pos += 2
        fields = {}
        while pos < len(tokens) and tokens[pos] != "}":
            field = tokens[pos : pos + 3]
            if len(field) < 3 or field[1] != ":" or field[2] in "{}:":
                raise InputError(f"{path}: malformed field {' '.join(field)!r} in label map item")
            fields[field[0]] = field[2]
            pos += 3
        if pos >= len(tokens):
            raise InputError(f"{path}: label map item is not closed with '}}'")
        pos += 1
        name, raw_id = fields.get("name"), fields.get("id", fields.get("label_id"))
        if name is None or not name.startswith('"') or raw_id is None or not re.fullmatch(r"\d+", raw_id):
            raise InputError(f"{path}: label map item needs name: \"...\" and an integer id, got {fields}")
        class_id = int(raw_id)
        if class_id in names:
            raise InputError(f"{path}: label map id {class_id} appears twice")
        names[class_id] = name[1:-1].replace('\\"', '"')
    return names, set(names)


def read_excluded(path) -> set[tuple[str, int]]:
    """Frames ``{(video, sec)}`` of ``ava_val_excluded_timestamps_v2.2.csv`` (``video,sec`` lines).

    Blank lines are skipped; any other line without exactly two fields and an
    integer second raises :class:`~videossl.errors.InputError` naming file and line.
    """
    out = set()
    with open(path, newline="") as f:
        for line_no, fields in enumerate(csv.reader(f), start=1):
            if not fields or all(not v.strip() for v in fields):
                continue
            try:
                if len(fields) != 2 or not fields[0].strip():
                    raise ValueError(f"expected 2 fields, got {len(fields)}")
                out.add(_frame_key(fields[0].strip(), fields[1]))
            except ValueError as e:
                line = ",".join(fields)
                raise InputError(f"{path}:{line_no}: malformed excluded-timestamp line {line!r}: {e}") from e
    return out


def format_table(result: dict, names: dict) -> str:
    """Per-class table of a :func:`frame_map` result.

    One line per class with ground truth, sorted by id: ``id  name  #GT  AP%``
    (``names`` maps id -> name, missing names print empty), then a last line
    ``mAP over K classes: xx.xx%``.
    """
    width = max([len("name")] + [len(names.get(c, "")) for c in result["per_class"]])
    lines = [f"{'id':>4}  {'name':<{width}}  {'#GT':>6}  {'AP%':>6}"]
    for c in sorted(result["per_class"]):
        ap = 100 * result["per_class"][c]
        lines.append(f"{c:>4}  {names.get(c, ''):<{width}}  {result['num_gt'][c]:>6}  {ap:6.2f}")
    lines.append(f"mAP over {len(result['per_class'])} classes: {100 * result['mAP']:.2f}%")
    return "\n".join(lines)
