import torch

from videossl.engine.metrics import aggregate_views, topk_accuracy


def test_multi_view_sum_and_max_by_hand():
    # video 0 has views with softmax scores favouring class 1 on average but class 0 at its max
    scores = torch.tensor([[0.6, 0.4, 0.0], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1],  # video 0
                           [0.0, 0.1, 0.9], [0.3, 0.3, 0.4], [0.5, 0.1, 0.4]])  # video 1
    vid = torch.tensor([0, 0, 0, 1, 1, 1])
    summed = aggregate_views(scores, vid, 2, "sum")
    assert torch.allclose(summed, torch.tensor([[0.9, 1.9, 0.2], [0.8, 0.5, 1.7]]))
    maxed = aggregate_views(scores, vid, 2, "max")
    assert torch.allclose(maxed, torch.tensor([[0.6, 0.8, 0.1], [0.5, 0.3, 0.9]]))
    labels = torch.tensor([1, 0])
    acc = topk_accuracy(summed, labels, ks=(1, 2))
    assert acc["top1_acc"] == 50.0  # video 0 right (class 1), video 1 wrong (predicts 2)
    assert acc["top2_acc"] == 100.0  # video 1's top-2 is {2, 0}, which holds its class 0
