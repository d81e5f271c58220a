import pytest
import torch
from torch import nn

from videossl.engine.optim import LARS, build_optimizer, default_param_groups


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 4, 1)
        self.bn = nn.BatchNorm3d(4)
        self.fc = nn.Linear(4, 2)
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)


def test_param_groups_split_bn_1d_and_frozen():
    net = Net()
    groups = default_param_groups(net, weight_decay=1e-4, bn_weight_decay=0.0, zero_wd_1d=True)
    rest, bn, zero = ({id(p) for p in g["params"]} for g in groups)
    assert [g["weight_decay"] for g in groups] == [1e-4, 0.0, 0.0]
    assert rest == {id(net.conv.weight), id(net.fc.weight)}
    assert bn == {id(net.bn.weight), id(net.bn.bias)}
    assert zero == {id(net.conv.bias), id(net.fc.bias)}
    all_ids = rest | bn | zero
    assert id(net.frozen.weight) not in all_ids


def test_lars_scales_update_by_trust_ratio():
    w = torch.tensor([[3.0, 4.0]], requires_grad=True)  # ||w|| = 5
    b = torch.tensor([1.0], requires_grad=True)
    opt = build_optimizer([{"params": [w, b], "weight_decay": 0.1, "lars": True}], "sgd", lr=1.0,
                          momentum=0.0, nesterov=False, lars=True)
    assert isinstance(opt, LARS)
    w.grad = torch.tensor([[0.0, 2.0]])  # ||g|| = 2
    b.grad = torch.tensor([0.5])
    opt.step()
    rate = 0.001 * 5 / (2 + 0.1 * 5 + 1e-8)
    expected = torch.tensor([[3.0, 4.0]]) - rate * (torch.tensor([[0.0, 2.0]]) + 0.1 * torch.tensor([[3.0, 4.0]]))
    assert torch.allclose(w.detach(), expected)
    # 1-D params: plain SGD step, no weight decay, no scaling
    assert torch.allclose(b.detach(), torch.tensor([0.5]))
    assert opt.param_groups[0]["weight_decay"] == 0.1  # restored after the step


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 4, 1)
        self.bn = nn.BatchNorm3d(4)
        self.head = nn.Module()
        self.head.projection = nn.Linear(4, 2)


def test_backbone_lr_ratio_scales_every_parameter_outside_the_head():
    from videossl.engine.optim import scale_backbone_lr, set_lr

    net = Classifier()
    groups = default_param_groups(net, weight_decay=1e-3, bn_weight_decay=0.0, zero_wd_1d=False)
    opt = build_optimizer(scale_backbone_lr(groups, net, 0.1), "adam", 1e-3)
    set_lr(opt, 1e-3)
    lr = {id(p): (g["lr"], g["weight_decay"]) for g in opt.param_groups for p in g["params"]}
    assert len(lr) == len(list(net.parameters()))
    for name, p in net.named_parameters():
        head = name.startswith("head.")
        assert lr[id(p)][0] == pytest.approx(1e-3 if head else 1e-4), name
        assert lr[id(p)][1] == (0.0 if name.startswith("bn.") else 1e-3), name  # groups keep their decay
    assert scale_backbone_lr(groups, net, 1.0) is groups
    with pytest.raises(ValueError, match="BACKBONE_LR_RATIO needs a classifier head"):
        scale_backbone_lr(groups, Net(), 0.1)
