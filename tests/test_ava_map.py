"""AVA frame-mAP (videossl.engine.ava_map): hand-computed cases of the VOC/ActivityNet rules."""

import numpy as np
import pytest

from videossl.engine.ava_map import (
    average_precision, format_table, frame_map, iou, read_csv_rows, read_excluded, read_label_map,
    write_csv,
)

FULL = (0.0, 0.0, 1.0, 1.0)
LEFT = (0.0, 0.0, 0.4, 0.4)
RIGHT = (0.6, 0.6, 1.0, 1.0)  # disjoint from LEFT


def gt(video, sec, box, action, person=0):
    return (video, sec, *box, action, person)


def det(video, sec, box, action, score):
    return (video, sec, *box, action, score)


# --- iou ---------------------------------------------------------------------------------------

def test_iou_hand_values_and_shape():
    a = np.array([[0.0, 0.0, 0.4, 0.4], [0.0, 0.0, 1.0, 1.0]])
    b = np.array([[0.2, 0.2, 0.6, 0.6], [0.0, 0.0, 0.5, 1.0], [0.6, 0.6, 1.0, 1.0]])
    out = iou(a, b)
    assert out.shape == (2, 3)
    # a0 vs b0: inter 0.2*0.2 = 0.04, union 0.16 + 0.16 - 0.04 = 0.28 -> 1/7
    assert out[0, 0] == pytest.approx(1 / 7)
    # a0 vs b1: inter 0.4*0.4 = 0.16, union 0.16 + 0.5 - 0.16 = 0.5 -> 0.32
    assert out[0, 1] == pytest.approx(0.32)
    assert out[0, 2] == 0.0  # disjoint
    assert out[1, 0] == pytest.approx(0.16)  # b0 inside the unit box
    assert out[1, 1] == 0.5  # exact in floating point: 0.5 / (1 + 0.5 - 0.5)
    assert out[1, 2] == pytest.approx(0.16)


def test_iou_disjoint_and_touching_boxes_are_zero():
    assert iou(np.array([LEFT]), np.array([RIGHT]))[0, 0] == 0.0
    assert iou(np.array([[0.0, 0.0, 0.5, 0.5]]), np.array([[0.5, 0.0, 1.0, 0.5]]))[0, 0] == 0.0


# --- average_precision -------------------------------------------------------------------------

def test_average_precision_by_hand_and_input_order():
    # ranked TP, FP, TP with 2 GT: P = 1, 1/2, 2/3; R = 1/2, 1/2, 1; envelope 1, 2/3, 2/3
    # AP = 1/2 * 1 + 0 * 2/3 + 1/2 * 2/3 = 5/6.  Given unsorted, so the ranking must happen inside.
    assert average_precision(np.array([0.7, 0.9, 0.8]), np.array([True, True, False]), 2) == pytest.approx(5 / 6)
    assert average_precision(np.array([]), np.array([], dtype=bool), 3) == 0.0
    # missed GT lowers the recall ceiling: one TP at rank 1 of 4 GT -> 1/4
    assert average_precision(np.array([0.9, 0.1]), np.array([True, False]), 4) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        average_precision(np.array([0.5]), np.array([True]), 0)


def _slow_ap(scores, is_tp, num_gt):
    """Independent definition: mean over the GT of the best precision at or after each TP's rank."""
    ranked = [tp for _, tp in sorted(zip(scores.tolist(), is_tp.tolist()), key=lambda p: -p[0])]
    precisions, hits = [], 0
    for k, tp in enumerate(ranked, start=1):
        hits += tp
        precisions.append(hits / k)
    total = 0.0
    for k, tp in enumerate(ranked):
        if tp:
            total += max(precisions[k:])
    return total / num_gt


@pytest.mark.parametrize("seed", range(6))
def test_average_precision_matches_slow_definition(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 40))
    scores = np.round(rng.random(d), 1 if seed % 2 else 6)  # odd seeds have many tied scores
    is_tp = rng.random(d) < 0.4
    num_gt = int(is_tp.sum()) + int(rng.integers(1, 5))
    assert average_precision(scores, is_tp, num_gt) == pytest.approx(_slow_ap(scores, is_tp, num_gt), abs=1e-12)


# --- frame_map ---------------------------------------------------------------------------------

def test_perfect_detections_give_one():
    g = [gt("v1", 902, LEFT, 1), gt("v1", 902, RIGHT, 2, 1), gt("v2", 903, FULL, 1)]
    d = [(*row[:7], s) for row, s in zip(g, (0.3, 0.2, 0.9))]
    result = frame_map(g, d, class_ids={1, 2})
    assert result == {"mAP": 1.0, "per_class": {1: 1.0, 2: 1.0}, "num_gt": {1: 2, 2: 1}}


def test_class_without_detections_scores_zero():
    g = [gt("v1", 902, LEFT, 1), gt("v1", 902, RIGHT, 2)]
    d = [det("v1", 902, RIGHT, 2, 0.9)]
    result = frame_map(g, d, class_ids={1, 2})
    assert result["per_class"] == {1: 0.0, 2: 1.0}
    assert result["mAP"] == 0.5


def test_half_matched():
    g = [gt("v1", 902, LEFT, 1), gt("v1", 903, LEFT, 1)]
    # correct detection ranked first, wrong box second: P = 1, 1/2; R = 1/2, 1/2 -> AP = 1/2 * 1 = 0.5
    d = [det("v1", 902, LEFT, 1, 0.9), det("v1", 903, RIGHT, 1, 0.8)]
    assert frame_map(g, d, {1})["per_class"][1] == pytest.approx(0.5)
    # wrong box ranked first: P = 0, 1/2; R = 0, 1/2 -> AP = 1/2 * 1/2 = 0.25
    d = [det("v1", 902, LEFT, 1, 0.8), det("v1", 903, RIGHT, 1, 0.9)]
    assert frame_map(g, d, {1})["per_class"][1] == pytest.approx(0.25)


def test_detection_on_frame_without_ground_truth_is_false_positive():
    g = [gt("v1", 902, LEFT, 1)]
    # rank 1 on a frame with no GT (FP), rank 2 correct: P = 0, 1/2; R = 0, 1 -> AP = 1 * 1/2
    d = [det("v9", 902, LEFT, 1, 0.9), det("v1", 902, LEFT, 1, 0.5)]
    assert frame_map(g, d, {1})["per_class"][1] == pytest.approx(0.5)


def test_duplicate_detection_is_false_positive():
    g = [gt("v1", 902, LEFT, 1), gt("v1", 903, RIGHT, 1)]
    # 0.9 TP (first GT), 0.8 same GT again -> FP, 0.7 TP (second GT)
    # P = 1, 1/2, 2/3; R = 1/2, 1/2, 1; envelope 1, 2/3, 2/3 -> AP = 1/2 + 1/2 * 2/3 = 5/6
    d = [det("v1", 902, LEFT, 1, 0.9), det("v1", 902, LEFT, 1, 0.8), det("v1", 903, RIGHT, 1, 0.7)]
    assert frame_map(g, d, {1})["per_class"][1] == pytest.approx(5 / 6)


def test_best_overlap_already_matched_is_false_positive_voc_rule():
    # two GT on one frame: A = unit box, B = [0,0,0.8,1] (IoU(A, B) = 0.8)
    g = [gt("v1", 902, FULL, 1), gt("v1", 902, (0.0, 0.0, 0.8, 1.0), 1, 1)]
    # 0.9 hits A exactly (TP).  0.8 = [0,0,0.95,1]: IoU 0.95 with A (taken), 0.8/0.95 = 0.84 with B.
    # VOC only looks at the best GT (A), so it is a FP although B is free:
    # P = 1, 1/2; R = 1/2, 1/2 -> AP = 0.5 (matching it to B would give 1.0)
    d = [det("v1", 902, FULL, 1, 0.9), det("v1", 902, (0.0, 0.0, 0.95, 1.0), 1, 0.8)]
    assert frame_map(g, d, {1})["per_class"][1] == pytest.approx(0.5)


def test_duplicate_ground_truth_rows_count_twice():
    # the same box listed twice with the same action is two GT boxes (kept as given, like the
    # official reader): one detection matches one of them -> P = 1, R = 1/2 -> AP = 0.5
    g = [gt("v1", 902, LEFT, 1, 0), gt("v1", 902, LEFT, 1, 0)]
    result = frame_map(g, [det("v1", 902, LEFT, 1, 0.9)], {1})
    assert result["num_gt"] == {1: 2}
    assert result["per_class"][1] == pytest.approx(0.5)


def test_one_person_with_several_actions():
    # one person box labelled with actions 1 and 2 (two rows); detecting it only as action 1
    g = [gt("v1", 902, LEFT, 1), gt("v1", 902, LEFT, 2)]
    result = frame_map(g, [det("v1", 902, LEFT, 1, 0.9)], {1, 2})
    assert result["per_class"] == {1: 1.0, 2: 0.0}


def test_iou_exactly_half_matches_and_below_does_not():
    g = [gt("v1", 902, FULL, 1)]
    at_half = frame_map(g, [det("v1", 902, (0.0, 0.0, 0.5, 1.0), 1, 0.9)], {1})
    below = frame_map(g, [det("v1", 902, (0.0, 0.0, 0.49, 1.0), 1, 0.9)], {1})
    assert at_half["per_class"][1] == 1.0
    assert below["per_class"][1] == 0.0


def test_excluded_timestamp_is_ignored():
    g = [gt("v1", 902, LEFT, 1), gt("v1", 903, LEFT, 1)]
    # 0.9: wrong box on 903; 0.5: correct on 902.  No exclusion: P = 0, 1/2; R = 0, 1/2 -> AP 0.25
    d = [det("v1", 903, RIGHT, 1, 0.9), det("v1", 902, LEFT, 1, 0.5)]
    plain = frame_map(g, d, {1})
    assert plain["per_class"][1] == pytest.approx(0.25)
    assert plain["num_gt"] == {1: 2}
    # 903 excluded (given with a string second): its GT is no miss, its detection no FP -> AP 1
    excluded = frame_map(g, d, {1}, excluded={("v1", "0903")})
    assert excluded["per_class"][1] == 1.0
    assert excluded["num_gt"] == {1: 1}


def test_class_without_ground_truth_is_skipped():
    g = [gt("v1", 902, LEFT, 1), gt("v1", 902, RIGHT, 2), gt("v1", 903, RIGHT, 2), gt("v1", 902, LEFT, 99)]
    d = [
        det("v1", 902, LEFT, 1, 0.9),    # class 1: AP 1
        det("v1", 902, RIGHT, 2, 0.9),   # class 2: TP, then a miss -> AP 0.5
        det("v1", 902, LEFT, 3, 0.9),    # class 3: evaluated but no GT -> skipped
        det("v1", 902, RIGHT, 99, 0.9),  # class 99: not evaluated (its GT would give AP 0)
    ]
    result = frame_map(g, d, {1, 2, 3})
    assert result["per_class"] == {1: 1.0, 2: pytest.approx(0.5)}
    assert result["num_gt"] == {1: 1, 2: 2}
    assert result["mAP"] == pytest.approx(0.75)
    assert np.isnan(frame_map([], d, {1})["mAP"])


def test_inverted_detection_box_is_dropped_like_the_official_tool():
    g = [gt("v1", 902, LEFT, 1)]
    # an inverted box (x2 < x1) ranked first: counted as FP it would give AP 0.5; dropped -> 1.0
    d = [det("v1", 902, (0.4, 0.0, 0.0, 0.4), 1, 0.9), det("v1", 902, LEFT, 1, 0.5)]
    assert frame_map(g, d, {1})["per_class"][1] == 1.0


def test_max_per_frame_keeps_top_scored_detections():
    g = [gt("v1", 902, LEFT, 1), gt("v1", 902, RIGHT, 2)]
    d = [det("v1", 902, RIGHT, 2, 0.9), det("v1", 902, LEFT, 2, 0.8), det("v1", 902, LEFT, 1, 0.1)]
    assert frame_map(g, d, {1, 2})["per_class"][1] == 1.0
    capped = frame_map(g, d, {1, 2}, max_per_frame=2)  # the 0.1 detection of class 1 is cut
    assert capped["per_class"] == {1: 0.0, 2: 1.0}


# --- files ---------------------------------------------------------------------------------------

def test_csv_round_trip(tmp_path):
    g = [gt("-5KQ66BBWC4", 902, (0.077, 0.151, 0.283, 0.811), 80, 1),
         ("-5KQ66BBWC4", 1798, 0.1, 0.2, 0.3, 0.4, 12)]  # person id absent
    d = [det("-5KQ66BBWC4", 902, (0.0771234, 0.151, 0.283, 0.811), 80, 0.123456789),
         det("-5KQ66BBWC4", 1798, (0.1, 0.2, 0.3, 0.4), 12, 1e-7)]
    write_csv(tmp_path / "gt.csv", g, "groundtruth")
    write_csv(tmp_path / "det.csv", d, "detections")
    lines = (tmp_path / "gt.csv").read_text().splitlines()
    assert lines == ["-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,80,1", "-5KQ66BBWC4,1798,0.100,0.200,0.300,0.400,12"]
    assert read_csv_rows(tmp_path / "gt.csv", "groundtruth") == g
    back = read_csv_rows(tmp_path / "det.csv", "detections")
    assert [r[:2] + r[6:7] for r in back] == [r[:2] + r[6:7] for r in d]
    assert isinstance(back[0][1], int) and isinstance(back[0][6], int)
    for got, want in zip(back, d):
        assert got[2:6] == pytest.approx(want[2:6], abs=5e-4)  # 3 decimals
        assert got[7] == pytest.approx(want[7], rel=1e-5)  # 6 significant digits, tiny scores kept
    assert frame_map(read_csv_rows(tmp_path / "gt.csv", "groundtruth"), back, {12, 80})["mAP"] == 1.0


def test_malformed_csv_line_names_file_and_line(tmp_path):
    path = tmp_path / "det.csv"
    path.write_text("v1,0902,0.1,0.2,0.3,0.4,12,0.9\nv1,09x2,0.1,0.2,0.3,0.4,12,0.9\n")
    with pytest.raises(ValueError, match=r"det\.csv:2:"):
        read_csv_rows(path, "detections")
    path.write_text("v1,0902,0.1,0.2,0.3,0.4,12,0.9\n\nv1,0902,0.1,0.2,0.3,0.4,12\n")  # no score
    with pytest.raises(ValueError, match=r"det\.csv:3:.*8 fields"):
        read_csv_rows(path, "detections")
    gt_path = tmp_path / "gt.csv"  # ground truth may omit the person id, but it must be an int
    gt_path.write_text("v1,0902,0.1,0.2,0.3,0.4,12,3\n\nv1,0902,0.1,0.2,0.3,0.4,12\n")
    assert read_csv_rows(gt_path, "groundtruth") == [("v1", 902, 0.1, 0.2, 0.3, 0.4, 12, 3),
                                                     ("v1", 902, 0.1, 0.2, 0.3, 0.4, 12)]
    gt_path.write_text("v1,0902,0.1,0.2,0.3,0.4,12,0.9\n")
    with pytest.raises(ValueError, match=r"gt\.csv:1:"):
        read_csv_rows(gt_path, "groundtruth")


def test_label_map_both_layouts(tmp_path):
    activitynet = tmp_path / "ava_action_list_v2.2_for_activitynet_2019.pbtxt"
    activitynet.write_text(
        'item {\n  name: "bend/bow (at the waist)"\n  id: 1\n}\n'
        'item { name: "crouch/kneel" id: 3 }\n'
        '# a comment\nitem {\n  name: "watch (a person)"\n  id: 80\n}\n'
    )
    names, ids = read_label_map(activitynet)
    assert names == {1: "bend/bow (at the waist)", 3: "crouch/kneel", 80: "watch (a person)"}
    assert ids == {1, 3, 80}

    full = tmp_path / "ava_action_list_v2.2.pbtxt"
    full.write_text(
        'label {\n  name: "bend/bow (at the waist)"\n  label_id: 1\n  label_type: PERSON_MOVEMENT\n}\n'
        'label {\n  name: "fight/hit (a person)"\n  label_id: 64\n  label_type: PERSON_INTERACTION\n}\n'
    )
    assert read_label_map(full) == ({1: "bend/bow (at the waist)", 64: "fight/hit (a person)"}, {1, 64})

    bad = tmp_path / "bad.pbtxt"
    bad.write_text('item {\n  name: "stand"\n}\n')  # no id
    with pytest.raises(ValueError, match="bad.pbtxt"):
        read_label_map(bad)
    bad.write_text('item {\n  name: "stand"\n  id: 1\n')  # not closed
    with pytest.raises(ValueError, match="bad.pbtxt"):
        read_label_map(bad)


def test_read_excluded(tmp_path):
    path = tmp_path / "ava_val_excluded_timestamps_v2.2.csv"
    path.write_text("-5KQ66BBWC4,0902\n053oq2xB3oU,1013\n\n")
    assert read_excluded(path) == {("-5KQ66BBWC4", 902), ("053oq2xB3oU", 1013)}
    path.write_text("-5KQ66BBWC4,0902\n053oq2xB3oU\n")
    with pytest.raises(ValueError, match=r"ava_val_excluded_timestamps_v2\.2\.csv:2:"):
        read_excluded(path)


def test_format_table():
    result = {"mAP": 0.75, "per_class": {12: 0.5, 1: 1.0}, "num_gt": {12: 4, 1: 2}}
    lines = format_table(result, {1: "bend/bow (at the waist)", 12: "stand"}).splitlines()
    assert len(lines) == 4  # header, two classes sorted by id, mAP
    assert lines[1].split()[0] == "1" and lines[1].rstrip().endswith("100.00")
    assert "bend/bow (at the waist)" in lines[1] and " 2 " in lines[1]
    assert lines[2].split() == ["12", "stand", "4", "50.00"]
    assert lines[3].startswith("mAP") and lines[3].endswith("75.00%")
