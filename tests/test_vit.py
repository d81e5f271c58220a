"""Video ViT: PySlowFast parameter names and counts, pooling, position-embedding resizing, config building."""

import os

import pytest
import torch
import torch.nn.functional as F

from helpers.vit_configs import vit_opts
from videossl.config import load_config
from videossl.models import build_head, build_model, HeadSpec
from videossl.models.vit import VIT_SIZES, VisionTransformer, vit_from_size
from videossl.models.vit_convert import load_vit_checkpoint
from videossl.models.vit_pos import resize_spatial, resize_temporal, sincos_table

KEYS_DIR = "/work/shared/references/pyslowfast_keys"

#: Exact parameter counts with a 400-class head (PySlowFast k400_VIT_*_16x4_FT, 16x224^2 input).
FT_PARAMS = {"B": 86_702_224, "L": 304_506_256, "H": 632_424_080}


def tiny(**kw) -> VisionTransformer:
    """4 frames at 32^2 with 2x16x16 tubelets: a 2x2x2 token grid."""
    args = dict(num_frames=4, crop_size=32)
    args.update(kw)
    return vit_from_size("tiny", **args)


def _count_formula(dim: int, depth: int, classes: int = 400) -> int:
    """ViT-x/16 with 2-frame tubelets, 8x14x14 separable positions + cls, from the architecture."""
    block = 12 * dim * dim + 13 * dim  # qkv, proj, fc1 (4x), fc2, two LayerNorms
    patch = dim * 3 * 2 * 16 * 16 + dim
    pos_cls = (196 + 8 + 1) * dim + dim
    return depth * block + patch + pos_cls + 2 * dim + classes * dim + classes


@pytest.mark.parametrize("size", ["B", "L", "H"])
def test_param_counts_exact(size):
    with torch.device("meta"):
        net = vit_from_size(size)
        net.head = build_head(net.feature_dim, HeadSpec(num_classes=400))
    n = sum(p.numel() for p in net.parameters())
    dim, depth, _ = VIT_SIZES[size]
    assert n == FT_PARAMS[size] == _count_formula(dim, depth)


def test_keys_and_shapes_match_pyslowfast_ft_dump():
    with torch.device("meta"):
        net = vit_from_size("B")
        net.head = build_head(768, HeadSpec(num_classes=400))
    path = os.path.join(KEYS_DIR, "mae_vit_b_16x4_ft.txt")
    if not os.path.exists(path):
        pytest.skip("reference key dump not available")
    lines = open(path).read().splitlines()
    assert lines[0].split()[1] == str(FT_PARAMS["B"])
    ref = [(line.split(" ", 1)[0], line.split(" ", 1)[1]) for line in lines[1:]]
    ours = [(k, str(tuple(v.shape))) for k, v in net.state_dict().items()]
    assert ours == ref


@pytest.mark.parametrize("mean_pool,cls", [(True, True), (False, True), (False, False), (True, False)])
def test_pooling_rules(mean_pool, cls):
    torch.manual_seed(0)
    net = tiny(use_mean_pooling=mean_pool, use_cls_token=cls, pos_embed="separable").eval()
    x = torch.randn(2, 3, 4, 32, 32)
    tokens, grid = net.embed(x)
    assert grid == (2, 2, 2) and tokens.shape == (2, 8, 64)
    out = net.forward_tokens(tokens)
    assert out.shape == (2, 8 + int(cls), 64)
    if mean_pool:
        ref = net.norm(out[:, int(cls):].mean(1))
    elif cls:
        ref = net.norm(out[:, 0])
    else:
        ref = net.norm(out).mean(1)
    torch.testing.assert_close(net.forward_features(x), ref)


def test_head_init_scale_applies_to_attached_head():
    torch.manual_seed(0)
    net = tiny(head_init_scale=1e-3)
    net.head = build_head(64, HeadSpec(num_classes=10, init_std=0.01))
    w = net.head.projection.weight
    assert 0.7 * 0.02e-3 < w.std().item() < 1.3 * 0.02e-3  # trunc-normal(0.02) x 1e-3, as PySlowFast
    assert torch.count_nonzero(net.head.projection.bias) == 0
    before = w.clone()
    head = net.head
    net.head = None
    net.head = head  # re-attaching (as checkpoint loading does) must not re-initialise
    torch.testing.assert_close(net.head.projection.weight, before)


def test_drop_path_is_stochastic_in_train_only():
    torch.manual_seed(0)
    net = VisionTransformer(64, depth=4, num_heads=2, num_frames=4, crop_size=32, drop_path_rate=0.5)
    x = torch.randn(4, 3, 4, 32, 32)
    net.train()
    assert not torch.allclose(net.forward_features(x), net.forward_features(x))
    net.eval()
    torch.testing.assert_close(net.forward_features(x), net.forward_features(x))


def test_activation_checkpointing_same_outputs_and_grads():
    torch.manual_seed(0)
    a = tiny()
    b = tiny(act_checkpoint=True)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 4, 32, 32)
    a.train(), b.train()
    ya, yb = a.forward_features(x), b.forward_features(x)
    torch.testing.assert_close(ya, yb)
    ya.sum().backward()
    yb.sum().backward()
    for (n, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        torch.testing.assert_close(pa.grad, pb.grad, msg=n)


# ----------------------------------------------------------------------------- positions
def test_resize_temporal_is_linear_and_spatial_is_bicubic():
    ramp = torch.arange(4.0).view(1, 4, 1).expand(1, 4, 3)
    out = resize_temporal(ramp, 8)
    expected = torch.tensor([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0])  # align_corners=False, clamped
    torch.testing.assert_close(out[0, :, 0], expected)
    table = torch.randn(1, 4 * 4, 5)
    grid = table.reshape(1, 4, 4, 5).permute(0, 3, 1, 2)
    ref = F.interpolate(grid, size=(6, 6), mode="bicubic", align_corners=False).permute(0, 2, 3, 1).reshape(1, 36, 5)
    torch.testing.assert_close(resize_spatial(table, (4, 4), (6, 6)), ref)
    assert resize_temporal(ramp, 4) is ramp  # same size: untouched


def test_sincos_table_matches_videomae_formula():
    table = sincos_table(5, 6)[0]
    for p in range(5):
        for j in range(6):
            angle = p / 10000 ** (2 * (j // 2) / 6)
            ref = torch.sin(torch.tensor(angle)) if j % 2 == 0 else torch.cos(torch.tensor(angle))
            assert abs(table[p, j].item() - ref.item()) < 1e-6


@pytest.mark.parametrize("pos", ["separable", "joint", "sincos"])
def test_pos_embed_interpolation_runtime_equals_load_time(pos):
    """A 4x32^2 model run on 8x64^2 input equals an 8x64^2 model loaded from its weights."""
    torch.manual_seed(0)
    small = tiny(pos_embed=pos, use_cls_token=pos != "sincos").eval()
    big = vit_from_size("tiny", num_frames=8, crop_size=64, pos_embed=pos, use_cls_token=pos != "sincos").eval()
    report = load_vit_checkpoint(big, small.state_dict())
    assert report.missing == [] and report.unexpected == [] and report.mismatched == []
    if pos == "separable":
        assert big.pos_embed_temporal.shape == (1, 4, 64) and big.pos_embed_spatial.shape == (1, 16, 64)
        torch.testing.assert_close(big.pos_embed_temporal, resize_temporal(small.pos_embed_temporal, 4))
        torch.testing.assert_close(big.pos_embed_spatial, resize_spatial(small.pos_embed_spatial, (2, 2), (4, 4)))
    x = torch.randn(2, 3, 8, 64, 64)
    torch.testing.assert_close(small.forward_features(x), big.forward_features(x))
    # and the native size is unchanged by the resizing code path
    torch.testing.assert_close(small.pos_table(small.grid), small.pos_table((2, 2, 2)))


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize("arch", ["vit", "mvit", "maskmvit"])
def test_build_from_config(arch):
    cfg = load_config(opts=vit_opts(**{"MODEL.ARCH": arch}))
    net = build_model(cfg)
    assert isinstance(net, VisionTransformer)
    assert net.grid == (2, 2, 2) and net.pos_style == "separable" and net.use_mean_pooling
    assert net.blocks[1].drop_path.drop_prob == pytest.approx(0.1)
    assert net(torch.randn(3, 3, 4, 32, 32)).shape == (3, 5)
    assert net.head.projection.weight.abs().max() < 1e-3


def test_build_from_config_sincos_no_cls():
    cfg = load_config(opts=vit_opts(**{"MVIT.SEP_POS_EMBED": False, "MVIT.USE_FIXED_SINCOS_POS": True,
                                       "MVIT.CLS_EMBED_ON": False}))
    net = build_model(cfg)
    assert net.pos_style == "sincos" and not net.cls_embed_on
    assert not any("pos_embed" in k or "cls_token" in k for k in net.state_dict())
