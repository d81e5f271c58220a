"""R+F fusion (CoCLR's two-stream results) against hand computations, and the flow input stream."""

import math

import pytest
import torch

from videossl.engine.two_stream import fuse_features, fuse_results, fuse_scores
from videossl.errors import InputError


def test_fused_scores_average_each_streams_probabilities():
    rgb = torch.tensor([[0.6, 0.4], [0.2, 0.8]]) * 2  # summed over 2 views
    flow = torch.tensor([[0.1, 0.9], [0.3, 0.7]]) * 3  # summed over 3 views
    torch.testing.assert_close(fuse_scores(rgb, flow), torch.tensor([[0.35, 0.65], [0.25, 0.75]]))


def test_fused_classification_can_be_right_where_one_stream_is_wrong():
    labels = torch.tensor([0, 1, 1])
    rgb = torch.tensor([[0.45, 0.55], [0.1, 0.9], [0.7, 0.3]])  # videos 0 and 2 wrong
    flow = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])  # video 1 wrong
    # by hand: fused = [[0.675, 0.325], [0.35, 0.65], [0.45, 0.55]] -> all three right
    result = fuse_results([rgb, labels], [flow, labels])
    assert result["top1_acc"] == pytest.approx(100.0) and result["num_videos"] == 3


def _slow_recall_at_1(g, g_labels, q, q_labels):
    def prep(x):
        mean = [sum(col) / len(x) for col in zip(*x)]
        rows = [[v - m for v, m in zip(row, mean)] for row in x]
        return [[v / math.sqrt(sum(u * u for u in row)) for v in row] for row in rows]

    g, q = prep(g.tolist()), prep(q.tolist())
    hits = 0
    for row, label in zip(q, q_labels.tolist()):
        sims = [sum(a * b for a, b in zip(row, other)) for other in g]
        hits += g_labels.tolist()[max(range(len(g)), key=lambda j: sims[j])] == label
    return 100.0 * hits / len(q)


def test_fused_retrieval_is_recall_on_concatenated_normalised_features():
    g = torch.Generator().manual_seed(0)
    g_labels, q_labels = torch.arange(6) % 3, torch.arange(6) % 3
    centres = torch.randn(3, 4, generator=g)
    noise = lambda: torch.randn(6, 4, generator=g)  # noqa: E731
    rgb = {"gallery": centres[g_labels] + 0.8 * noise(), "queries": centres[q_labels] + 0.8 * noise(),
           "gallery_labels": g_labels, "query_labels": q_labels, "topk": [1, 5]}
    flow = {"gallery": 10 * (centres[g_labels] + 0.8 * noise()), "queries": 10 * (centres[q_labels] + 0.8 * noise()),
            "gallery_labels": g_labels, "query_labels": q_labels, "topk": [1, 5]}
    result = fuse_results(rgb, flow)
    # the same recall from a slow formula on the concatenation of each stream centred and normalised by hand
    fused_g = torch.cat([_prep(rgb["gallery"]), _prep(flow["gallery"])], 1)
    fused_q = torch.cat([_prep(rgb["queries"]), _prep(flow["queries"])], 1)
    assert result["R@1"] == pytest.approx(_slow_recall_at_1(fused_g, g_labels, fused_q, q_labels))
    # the flow stream's 10x scale does not dominate: each stream is normalised before the concatenation
    torch.testing.assert_close(fuse_features(rgb["gallery"], flow["gallery"]).norm(dim=1),
                               torch.full((6,), math.sqrt(2), dtype=torch.float64))


def _prep(x):
    x = x.double() - x.double().mean(0)
    return x / x.norm(dim=1, keepdim=True)


def test_mismatched_streams_are_named():
    labels = torch.tensor([0, 1])
    with pytest.raises(InputError, match="different labels"):
        fuse_results([torch.ones(2, 2), labels], [torch.ones(2, 2), labels.flip(0)])
    with pytest.raises(InputError, match="both be saved by the topk evaluator or both"):
        fuse_results([torch.ones(2, 2), labels], {"gallery": torch.ones(2, 2)})


def test_the_flow_input_stream_puts_flow_clips_in_views(tmp_path, monkeypatch):
    from conftest import tiny_cfg_opts
    from videossl.config import load_config
    from videossl.data import build_dataset

    monkeypatch.setenv("VIDEOSSL_CACHE", str(tmp_path / "cache"))
    opts = {"TRAIN.DATASET": "synthetic", "TEST.DATASET": "synthetic", "SYNTHETIC.NUM_CLASSES": 2,
            "SYNTHETIC.TRAIN_PER_CLASS": 1, "SYNTHETIC.TEST_PER_CLASS": 1, "SYNTHETIC.NUM_FRAMES": 12,
            "SYNTHETIC.SIZE": 32, "SYNTHETIC.WRITE_FLOW": True, "DATA.USE_FLOW": True}
    both = build_dataset(load_config([], tiny_cfg_opts(**opts)), "train")
    flow_only = build_dataset(load_config([], tiny_cfg_opts(**opts, **{"DATA.INPUT_STREAM": "flow"})), "train")
    a, b = both[0], flow_only[0]
    assert "flow" not in b and len(b["views"]) == len(a["flow"])
    assert all(torch.equal(x, y) for x, y in zip(b["views"], a["flow"]))
    assert not torch.equal(a["views"][0], a["flow"][0])
    with pytest.raises(InputError, match="DATA.INPUT_STREAM flow needs DATA.USE_FLOW True"):
        build_dataset(load_config([], tiny_cfg_opts(**{**opts, "DATA.USE_FLOW": False,
                                                        "DATA.INPUT_STREAM": "flow"})), "train")
