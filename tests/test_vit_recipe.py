"""ViT finetune recipe: layer-wise LR decay groups, mixup/cutmix, clip-consistent RandAugment and erasing."""

import random

import numpy as np
import pytest
import torch

from helpers.vit_configs import vit_opts
from videossl.config import load_config
from videossl.data.mixup import VideoMixup, build_mixup
from videossl.data.randaug import ClipRandAugment, ClipRandomErasing
from videossl.engine.layer_decay import layer_decay_param_groups, layer_id
from videossl.methods import build_method


def _finetune_method(**extra):
    torch.manual_seed(0)
    opts = {"TASK": "finetune", "MVIT.DEPTH": 3, "SOLVER.LAYER_DECAY": 0.5, "SOLVER.OPTIMIZING_METHOD": "adamw",
            "SOLVER.WEIGHT_DECAY": 0.05, "MVIT.ZERO_DECAY_POS_CLS": False}
    opts.update(extra)
    return build_method(load_config(opts=vit_opts(**opts)))


def test_layer_ids_follow_pyslowfast():
    assert layer_id("cls_token", 12) == layer_id("mask_token", 12) == 0
    assert layer_id("pos_embed_spatial", 12) == layer_id("patch_embed.proj.weight", 12) == 0
    assert layer_id("blocks.0.attn.qkv.weight", 12) == 1 and layer_id("blocks.11.mlp.fc2.bias", 12) == 12
    assert layer_id("norm.weight", 12) == layer_id("head.projection.weight", 12) == 13
    assert layer_id("decoder_pos_embed", 12) == 13


def test_layer_decay_groups_scales_and_weight_decay():
    method = _finetune_method()  # Supervised wrapping the ViT as ``net``
    groups = layer_decay_param_groups(method, 0.05, 0.5)
    name_of = {id(p): n for n, p in method.named_parameters()}
    seen = [name_of[id(p)] for g in groups for p in g["params"]]
    assert sorted(seen) == sorted(n for n, p in method.named_parameters() if p.requires_grad)  # each once
    for g in groups:
        assert g["lr_scale"] == pytest.approx(0.5 ** (3 + 1 - g["layer_id"]))
        for p in g["params"]:
            n = name_of[id(p)]
            rel = n[len("net."):]
            assert layer_id(rel, 3) == g["layer_id"], n
            assert g["weight_decay"] == (0.0 if p.ndim <= 1 or n.endswith(".bias") else 0.05), n
    by_name = {name_of[id(p)]: g for g in groups for p in g["params"]}
    assert by_name["net.cls_token"]["lr_scale"] == pytest.approx(0.5 ** 4)
    assert by_name["net.blocks.2.attn.qkv.weight"]["lr_scale"] == pytest.approx(0.5)
    assert by_name["net.head.projection.weight"]["lr_scale"] == 1.0
    assert by_name["net.pos_embed_spatial"]["weight_decay"] == 0.05  # ZERO_DECAY_POS_CLS False (PySlowFast FT)


def test_layer_decay_no_weight_decay_names_from_model():
    method = _finetune_method(**{"MVIT.ZERO_DECAY_POS_CLS": True})
    groups = layer_decay_param_groups(method, 0.05, 0.75)
    name_of = {id(p): n for n, p in method.named_parameters()}
    wd = {name_of[id(p)]: g["weight_decay"] for g in groups for p in g["params"]}
    assert wd["net.cls_token"] == wd["net.pos_embed_temporal"] == 0.0
    assert wd["net.blocks.0.mlp.fc1.weight"] == 0.05


def test_trainer_optimizer_uses_layer_decay():
    from videossl.engine.optim import build_optimizer_from_cfg, set_lr

    cfg = load_config(opts=vit_opts(**{"TASK": "finetune", "MVIT.DEPTH": 3, "SOLVER.LAYER_DECAY": 0.5,
                                       "SOLVER.OPTIMIZING_METHOD": "adamw"}))
    method = build_method(cfg)
    opt = build_optimizer_from_cfg(cfg, method, 1.0)
    set_lr(opt, 1.0)
    assert sorted({g["lr"] for g in opt.param_groups}) == [0.5 ** k for k in (4, 3, 2, 1, 0)]


def test_layer_decay_rejects_batchnorm():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    with pytest.raises(ValueError, match="BatchNorm"):
        layer_decay_param_groups(model, 0.05, 0.75, depth=1)


# ----------------------------------------------------------------------------- mixup
def test_mixup_soft_targets_and_views():
    np.random.seed(0)
    mix = VideoMixup(4, mixup_alpha=0.8, cutmix_alpha=0.0, label_smoothing=0.1)
    views = [torch.randn(4, 3, 2, 8, 8), torch.randn(4, 3, 2, 8, 8)]
    orig = [v.clone() for v in views]
    labels = torch.tensor([0, 1, 2, 3])
    out, targets = mix(views, labels)
    assert all(torch.equal(a, b) for a, b in zip(views, orig))  # inputs untouched
    lam = (targets[0, 0].item() - 0.025) / 0.9  # target = lam * (0.9 + 0.025) + (1 - lam) * 0.025
    for v, o in zip(out, orig):
        torch.testing.assert_close(v, o * lam + o.flip(0) * (1 - lam), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(targets.sum(1), torch.ones(4))
    assert targets[0, 3] > 0.025 and targets[0, 1] == pytest.approx(0.025)  # partner of 0 is 3


def test_cutmix_same_box_on_all_frames_and_views():
    np.random.seed(0)  # lambda 0.56: a visible box
    mix = VideoMixup(3, mixup_alpha=0.0, cutmix_alpha=1.0, label_smoothing=0.0)
    views = [torch.zeros(2, 3, 4, 16, 16), torch.zeros(2, 3, 4, 16, 16)]
    views[0][1] = 1.0
    views[1][1] = 1.0
    out, targets = mix(views, torch.tensor([0, 1]))
    box = out[0][0] == 1.0  # sample 0 received sample 1's pixels inside the box
    assert box.any()
    assert (box == box[:1, :1]).all()  # same box for every channel and frame
    assert torch.equal(out[1][0] == 1.0, box)  # and for every view
    area = box[0, 0].float().mean().item()
    assert targets[0, 1].item() == pytest.approx(area) and targets[0, 0].item() == pytest.approx(1 - area)


def test_build_mixup_from_config():
    cfg = load_config(opts=vit_opts(**{"MIXUP.ENABLE": True, "MIXUP.LABEL_SMOOTH_VALUE": 0.2}))
    mix = build_mixup(cfg)
    assert isinstance(mix, VideoMixup) and mix.num_classes == 5 and mix.label_smoothing == 0.2
    assert build_mixup(load_config(opts=vit_opts())) is None


# ----------------------------------------------------------------------------- randaug / erasing
def test_randaug_same_draw_for_every_frame_and_reproducible():
    rng = np.random.RandomState(0)
    frame = torch.from_numpy(rng.randint(0, 255, (32, 32, 3), dtype=np.uint8))
    frames = frame.expand(6, 32, 32, 3).contiguous()
    ra = ClipRandAugment("rand-m9-n4-mstd0.5-inc1", "bicubic", 32)
    state = random.getstate(), np.random.get_state()[1].copy()
    outs = {seed: ra(frames, seed=seed) for seed in range(6)}
    assert random.getstate() == state[0] and (np.random.get_state()[1] == state[1]).all()  # caller RNG untouched
    for out in outs.values():
        assert out.shape == frames.shape and out.dtype == torch.uint8
        assert all(torch.equal(out[0], out[i]) for i in range(6))
    assert torch.equal(ra(frames, seed=3), outs[3])
    assert len({o.sum().item() for o in outs.values()}) > 1  # different seeds, different augmentations


def test_randaug_survives_every_magnitude():
    """Magnitude 10 (m9 + mstd0.5 reaches it) asks timm's posterize for 0 bits, which Pillow 13
    refuses; a few hundred clips of the default AUG.AA_TYPE must all go through, and a 0-bit
    posterize gives black, as with older Pillow."""
    frames = torch.from_numpy(np.random.RandomState(1).randint(0, 255, (2, 16, 16, 3), dtype=np.uint8))
    ra = ClipRandAugment("rand-m9-mstd0.5-inc1", "bicubic", 16)
    for seed in range(300):
        assert ra(frames, seed=seed).shape == frames.shape
    post = ClipRandAugment("rand-m10-n1-inc1", "bicubic", 16)
    post.transform.ops = [op for op in post.transform.ops if op.name == "PosterizeIncreasing"]
    post.transform.ops[0].prob = 1.0
    assert post(frames, seed=0).max() == 0


def test_random_erasing_one_box_per_clip():
    er = ClipRandomErasing(prob=1.0, mode="pixel", count=1)
    clip = torch.zeros(3, 5, 24, 24)
    out = er(clip, seed=7)
    assert torch.count_nonzero(clip) == 0  # input untouched
    erased = out != 0
    assert erased.any() and (erased == erased[:1, :1]).all()
    assert not torch.equal(out[0, 0], out[0, 1])  # pixel noise drawn per frame
    assert torch.equal(er(clip, seed=7), out)
