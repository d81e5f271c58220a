"""Optimizer construction: PySlowFast parameter groups, SGD/Adam/AdamW, LARS."""

from typing import Dict, Iterable, List

import torch
from torch import nn

from ..errors import InputError


def default_param_groups(model: nn.Module, weight_decay: float, bn_weight_decay: float,
                         zero_wd_1d: bool, lars: bool = False,
                         no_weight_decay_names: Iterable[str] = ()) -> List[Dict]:
    """Split trainable parameters into PySlowFast's groups.

    * parameters of BatchNorm modules: ``bn_weight_decay`` (never LARS-scaled);
    * names in ``no_weight_decay_names`` (e.g. ViT pos-embeds/cls token), or any
      1-D parameter (biases, LayerNorm) when ``zero_wd_1d``: no weight decay;
    * everything else: ``weight_decay``, LARS-scaled when ``lars``.

    Frozen parameters (``requires_grad=False``, e.g. a momentum encoder) are left out.
    """
    no_wd = set(no_weight_decay_names)
    bn, zero, rest = [], [], []
    for module_name, module in model.named_modules():
        is_bn = isinstance(module, nn.modules.batchnorm._NormBase)
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            full = f"{module_name}.{name}" if module_name else name
            if is_bn:
                bn.append(p)
            elif full in no_wd or (zero_wd_1d and p.ndim <= 1):
                zero.append(p)
            else:
                rest.append(p)
    groups = [
        {"params": rest, "weight_decay": weight_decay, "lars": lars},
        {"params": bn, "weight_decay": bn_weight_decay, "lars": False},
        {"params": zero, "weight_decay": 0.0, "lars": False},
    ]
    return [g for g in groups if g["params"]]


def scale_backbone_lr(groups: List[Dict], model: nn.Module, ratio: float) -> List[Dict]:
    """``groups`` with every parameter outside a classifier ``head`` moved to a copy of its group
    whose ``lr_scale`` is multiplied by ``ratio`` (CoCLR's finetuning: backbone LR = LR / 10).

    A parameter is in a head when a component of its name is ``head``.
    """
    if ratio == 1.0:
        return groups
    in_head = {id(p) for n, p in model.named_parameters() if "head" in n.split(".")}
    if not in_head:
        raise InputError("SOLVER.BACKBONE_LR_RATIO needs a classifier head (a module named 'head') in the model")
    out = []
    for g in groups:
        head = [p for p in g["params"] if id(p) in in_head]
        body = [p for p in g["params"] if id(p) not in in_head]
        out += [dict(g, params=head), dict(g, params=body, lr_scale=g.get("lr_scale", 1.0) * ratio)]
    return [g for g in out if g["params"]]


class LARS(torch.optim.Optimizer):
    """Layer-wise adaptive rate scaling around another optimizer (apex LARC semantics).

    For each parameter with ``ndim > 1`` in a group with ``lars=True``:
    ``g <- (g + wd*w) * trust * ||w|| / (||g|| + wd*||w|| + eps)`` and the wrapped
    optimizer steps with that group's weight decay temporarily 0.  1-D
    parameters in LARS groups get neither scaling nor weight decay
    (PySlowFast's behaviour, clip=False).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, trust_coefficient: float = 0.001,
                 eps: float = 1e-8):
        self.optim = optimizer
        self.trust_coefficient = trust_coefficient
        self.eps = eps

    # Delegate the Optimizer interface to the wrapped optimizer.
    @property
    def param_groups(self):
        return self.optim.param_groups

    @property
    def state(self):
        return self.optim.state

    def state_dict(self):
        return self.optim.state_dict()

    def load_state_dict(self, state_dict):
        self.optim.load_state_dict(state_dict)

    def zero_grad(self, set_to_none: bool = True):
        self.optim.zero_grad(set_to_none=set_to_none)

    @torch.no_grad()
    def step(self, closure=None):
        saved_wd = []
        for group in self.optim.param_groups:
            wd = group.get("weight_decay", 0.0)
            saved_wd.append(wd)
            if not group.get("lars", False):
                continue
            group["weight_decay"] = 0.0
            for p in group["params"]:
                if p.grad is None or p.ndim <= 1:
                    continue
                w_norm = torch.linalg.vector_norm(p)
                g_norm = torch.linalg.vector_norm(p.grad)
                if w_norm > 0 and g_norm > 0:
                    rate = self.trust_coefficient * w_norm / (g_norm + wd * w_norm + self.eps)
                    p.grad.add_(p, alpha=wd).mul_(rate)
        try:
            return self.optim.step(closure)
        finally:
            for group, wd in zip(self.optim.param_groups, saved_wd):
                group["weight_decay"] = wd


def build_optimizer(param_groups: List[Dict], method: str, lr: float, momentum: float = 0.9,
                    dampening: float = 0.0, nesterov: bool = True, betas=(0.9, 0.999),
                    lars: bool = False) -> torch.optim.Optimizer:
    """SGD / Adam / AdamW over ``param_groups`` (each may carry ``lr_scale``), optionally LARS-wrapped."""
    for g in param_groups:
        g.setdefault("lr_scale", 1.0)
    if method == "sgd":
        opt = torch.optim.SGD(param_groups, lr=lr, momentum=momentum, dampening=dampening,
                              nesterov=nesterov and momentum > 0 and dampening == 0)
    elif method == "adam":
        opt = torch.optim.Adam(param_groups, lr=lr, betas=tuple(betas))
    elif method == "adamw":
        opt = torch.optim.AdamW(param_groups, lr=lr, betas=tuple(betas))
    else:
        raise InputError(f"SOLVER.OPTIMIZING_METHOD={method!r} is not one of sgd, adam, adamw")
    return LARS(opt) if lars else opt


def set_lr(optimizer, lr: float) -> None:
    """Set every group's LR to ``lr * group['lr_scale']`` (layer decay)."""
    for g in optimizer.param_groups:
        g["lr"] = lr * g.get("lr_scale", 1.0)


def build_optimizer_from_cfg(cfg, method_module: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Groups from the method (if it defines them), layer decay, or PySlowFast's default split."""
    s = cfg.SOLVER
    groups = method_module.param_groups()
    if groups is None and s.LAYER_DECAY < 1.0:
        from .layer_decay import layer_decay_param_groups  # ViT finetune recipe

        groups = layer_decay_param_groups(method_module, s.WEIGHT_DECAY, s.LAYER_DECAY,
                                          method_module.no_weight_decay_names())
    if groups is None:
        no_wd = method_module.no_weight_decay_names()
        groups = default_param_groups(method_module, s.WEIGHT_DECAY, cfg.BN.WEIGHT_DECAY,
                                      s.ZERO_WD_1D_PARAM, s.LARS_ON, no_wd)
    groups = scale_backbone_lr(groups, method_module, s.BACKBONE_LR_RATIO)
    if not any(p.requires_grad for g in groups for p in g["params"]):
        raise InputError("the method has no trainable parameters")
    return build_optimizer(groups, s.OPTIMIZING_METHOD, lr, s.MOMENTUM, s.DAMPENING,
                           s.NESTEROV, s.BETAS, lars=s.LARS_ON)
