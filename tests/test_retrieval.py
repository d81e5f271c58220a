"""CoCLR/ViCC retrieval protocol against a slow implementation and hand-made cases."""

import math

import pytest
import torch

from videossl.engine.retrieval import retrieval_recall, video_features


def _slow_recall(g, gl, q, ql, ks):
    def centre_norm(rows):
        d = len(rows[0])
        mean = [sum(r[j] for r in rows) / len(rows) for j in range(d)]
        out = []
        for r in rows:
            c = [r[j] - mean[j] for j in range(d)]
            n = math.sqrt(sum(x * x for x in c))
            out.append([x / n for x in c])
        return out

    g, q = centre_norm(g.tolist()), centre_norm(q.tolist())
    res = {}
    for k in ks:
        hits = 0
        for qi, qv in enumerate(q):
            sims = sorted(((sum(a * b for a, b in zip(qv, gv)), gi) for gi, gv in enumerate(g)), reverse=True)
            hits += any(int(gl[gi]) == int(ql[qi]) for _, gi in sims[:k])
        res[f"R@{k}"] = 100.0 * hits / len(q)
    return res


def test_recall_matches_slow_protocol():
    gen = torch.Generator().manual_seed(0)
    g, q = torch.randn(30, 6, generator=gen) + 3.0, torch.randn(11, 6, generator=gen) - 2.0
    gl, ql = torch.randint(0, 4, (30,), generator=gen), torch.randint(0, 4, (11,), generator=gen)
    ks = (1, 3, 5, 50)
    fast = retrieval_recall(g, gl, q, ql, ks, chunk_size=4)
    slow = _slow_recall(g, gl, q, ql, ks)
    assert fast.keys() == slow.keys()
    for key in slow:
        assert fast[key] == pytest.approx(slow[key])
    assert fast["R@50"] == 100.0  # k clamped to the gallery size: every class is present


def test_each_set_is_centred_over_itself():
    # All features share a large offset; without centring every query's nearest
    # gallery item would be the one most aligned with the offset (gallery 0).
    offset = torch.tensor([100.0, 100.0, 0.0])
    g = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]) + offset
    gl = torch.tensor([0, 1, 2])
    q = torch.tensor([[0.0, 0.0, 2.0], [0.0, 0.0, -2.0]]) + 5 * offset  # different offset: centred separately
    ql = torch.tensor([1, 2])
    assert retrieval_recall(g, gl, q, ql, (1,))["R@1"] == 100.0


def test_video_features_mean_of_normalised_windows():
    w = torch.tensor([[3.0, 0.0], [0.0, 10.0], [0.0, 2.0], [5.0, 5.0]])
    vid = torch.tensor([0, 0, 1, 1])
    out = video_features(w, vid)
    s = 1 / math.sqrt(2)
    torch.testing.assert_close(out, torch.tensor([[0.5, 0.5], [s / 2, (1 + s) / 2]]))
    with pytest.raises(ValueError, match="without any window"):
        video_features(w, vid, num_videos=3)


def test_leave_one_out_statistics_hand_case():
    from videossl.engine.retrieval import leave_one_out_statistics

    feats = torch.tensor([[1.0, 0.2], [1.0, -0.2], [-1.0, 0.2], [-1.0, -0.2]])
    stats = leave_one_out_statistics(feats, torch.tensor([0, 1, 0, 1]), torch.tensor([0, 0, 1, 1]))
    assert stats["same_class"] == 0.0
    assert stats["same_group"] == 100.0
    assert stats["same_class_other_group"] == 100.0
    assert stats["chance_same_group"] == pytest.approx(100.0 / 3)


def test_leave_one_out_statistics_match_a_slow_loop():
    from videossl.engine.retrieval import leave_one_out_statistics

    gen = torch.Generator().manual_seed(1)
    feats = torch.randn(23, 5, generator=gen) + 1.0
    labels = torch.randint(0, 3, (23,), generator=gen)
    groups = torch.randint(0, 6, (23,), generator=gen)
    fast = leave_one_out_statistics(feats, labels, groups)

    x = feats.double() - feats.double().mean(0)
    x = x / x.norm(dim=1, keepdim=True)
    same_class = same_group = other_hits = other_n = 0
    for i in range(23):
        sims = [(float(x[i] @ x[j]), j) for j in range(23) if j != i]
        j = max(sims)[1]
        same_class += int(labels[j] == labels[i])
        same_group += int(groups[j] == groups[i])
        others = [(s, j) for s, j in sims if groups[j] != groups[i]]
        if others:
            other_n += 1
            other_hits += int(labels[max(others)[1]] == labels[i])
    assert fast["same_class"] == pytest.approx(100.0 * same_class / 23)
    assert fast["same_group"] == pytest.approx(100.0 * same_group / 23)
    assert fast["same_class_other_group"] == pytest.approx(100.0 * other_hits / other_n)
    chance = sum((int((groups == groups[i]).sum()) - 1) / 22 for i in range(23)) / 23
    assert fast["chance_same_group"] == pytest.approx(100.0 * chance)
