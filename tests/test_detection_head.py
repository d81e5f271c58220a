"""The AVA detection head (PySlowFast's ``ResNetRoIHead``, one pathway) and its wiring into the ResNet.

The RoI pooling is checked against values computed independently: a slow
Python bilinear-sampling loop (Detectron's RoIAlign rule: a bin is the mean of
``ceil(roi / R)`` x ``ceil(roi / R)`` bilinear samples, ``aligned`` shifts by half a
feature pixel), and linear ramps whose bin maxima are known in closed form.
"""

import hashlib
import math

import pytest
import torch

from videossl.config import get_cfg
from videossl.config.load import merge_overrides
from videossl.errors import InputError
from videossl.models import RoIHead, RoIHeadSpec, build_model, head_spec_from_cfg, load_pretrained
from videossl.models.heads import VideoHead
from videossl.models.resnet import ResNet3D

STRIDE = 16  # PySlowFast's DETECTION.SPATIAL_SCALE_FACTOR default


# ---------------------------------------------------------------- an independent reference


def _bilinear(plane, y, x):
    """Value of a H x W list-of-lists at continuous (y, x); zero outside [-1, H] x [-1, W], edges clamped."""
    h, w = len(plane), len(plane[0])
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= h - 1:
        y0 = y1 = h - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= w - 1:
        x0 = x1 = w - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * plane[y0][x0] + (1 - ly) * lx * plane[y0][x1]
            + ly * (1 - lx) * plane[y1][x0] + ly * lx * plane[y1][x1])


def _reference_pool(feats, boxes, resolution, scale, aligned):
    """Slow loops: mean over T, RoIAlign (sampling_ratio 0), max over the R x R bins -> K x C."""
    n, c, t, h, w = feats.shape
    tmean = [[[[sum(float(feats[b, ch, k, i, j]) for k in range(t)) / t for j in range(w)]
               for i in range(h)] for ch in range(c)] for b in range(n)]
    out = []
    for box in boxes.tolist():
        b = int(box[0])
        off = 0.5 if aligned else 0.0
        x1, y1, x2, y2 = (v * scale - off for v in box[1:])
        rw, rh = x2 - x1, y2 - y1
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bw, bh = rw / resolution, rh / resolution
        gw, gh = math.ceil(rw / resolution), math.ceil(rh / resolution)
        row = []
        for ch in range(c):
            best = -math.inf
            for ph in range(resolution):
                for pw in range(resolution):
                    acc = 0.0
                    for iy in range(gh):
                        yy = y1 + ph * bh + (iy + 0.5) * bh / gh
                        for ix in range(gw):
                            xx = x1 + pw * bw + (ix + 0.5) * bw / gw
                            acc += _bilinear(tmean[b][ch], yy, xx)
                    best = max(best, acc / max(gh * gw, 1))
            row.append(best)
        out.append(row)
    return torch.tensor(out)


def _random_boxes(k, n, height, width, gen):
    """K x 5 boxes (batch index, x1, y1, x2, y2) inside a height x width image, at least 8 px wide/high."""
    xs = torch.rand(k, 2, generator=gen) * (width - 8)
    ys = torch.rand(k, 2, generator=gen) * (height - 8)
    x1, x2 = xs.min(1).values, xs.max(1).values + 8
    y1, y2 = ys.min(1).values, ys.max(1).values + 8
    idx = torch.randint(0, n, (k,), generator=gen).float()
    return torch.stack([idx, x1, y1, x2, y2], dim=1)


# ---------------------------------------------------------------- the head on hand-built maps


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("resolution", [7, 3])
def test_pool_matches_slow_bilinear_reference(aligned, resolution):
    gen = torch.Generator().manual_seed(1)
    feats = torch.randn(2, 3, 3, 5, 6, generator=gen)  # N C T H W
    boxes = _random_boxes(6, 2, 5 * STRIDE, 6 * STRIDE, gen)
    head = RoIHead(3, 4, resolution=resolution, spatial_scale_factor=STRIDE, aligned=aligned)
    got = head.pool(feats, boxes)
    want = _reference_pool(feats, boxes, resolution, 1.0 / STRIDE, aligned)
    assert got.shape == (6, 3)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_linear_ramps_give_the_extreme_bin_centres_and_the_linear_layer_is_applied():
    # Channel 0 holds (t+1) * column, channel 1 -(t+1) * column, channel 2 (t+1) * row: the mean
    # over T=4 frames is 2.5 * ramp.  Bilinear sampling reproduces a ramp exactly, and the mean of
    # a bin's samples is the ramp at the bin's centre, so the max over the 7 x 7 bins is the ramp
    # at the last (channel 0, 2) or first (channel 1) bin centre.
    t, h, w = 4, 8, 8
    frame = torch.arange(1, t + 1, dtype=torch.float32).view(t, 1, 1)
    col = torch.arange(w, dtype=torch.float32).view(1, 1, w).expand(1, h, w)
    row = torch.arange(h, dtype=torch.float32).view(1, h, 1).expand(1, h, w)
    feats = torch.stack([frame * col, -frame * col, frame * row]).unsqueeze(0)  # 1 x 3 x T x H x W
    # Pixels 24..88 are feature coordinates 1.5..5.5, i.e. pixel-centre indices 1..5 (aligned);
    # rows 40..72 are indices 2..4.  Bins: 4/7 wide, 2/7 high.
    boxes = torch.tensor([[0.0, 24.0, 40.0, 88.0, 72.0]])
    head = RoIHead(3, 2, temporal_pool=t, resolution=7, spatial_scale_factor=STRIDE, aligned=True,
                   act="sigmoid")
    pooled = head.pool(feats, boxes)
    expected = 2.5 * torch.tensor([[5 - 2 / 7, -(1 + 2 / 7), 4 - 1 / 7]])
    torch.testing.assert_close(pooled, expected, atol=1e-5, rtol=1e-5)

    with torch.no_grad():
        head.projection.weight.copy_(torch.tensor([[1.0, 0.0, -2.0], [0.5, 3.0, 1.0]]))
        head.projection.bias.copy_(torch.tensor([0.25, -1.0]))
    logits = expected @ head.projection.weight.detach().T + head.projection.bias.detach()
    head.train()
    torch.testing.assert_close(head(feats, boxes), logits, atol=1e-5, rtol=1e-5)
    head.eval()
    torch.testing.assert_close(head(feats, boxes), torch.sigmoid(logits), atol=1e-6, rtol=1e-5)


def test_each_box_reads_its_own_sample():
    # Sample b, channel c is the constant 10 * b + c (the frames vary around it: -1, +1).
    n, c, t, h, w = 3, 2, 2, 4, 4
    base = (10 * torch.arange(n).view(n, 1) + torch.arange(c).view(1, c)).float()
    feats = base.view(n, c, 1, 1, 1) + torch.tensor([-1.0, 1.0]).view(1, 1, t, 1, 1)
    feats = feats.expand(n, c, t, h, w).contiguous()
    boxes = torch.tensor([[2.0, 0, 0, 40, 40], [0.0, 8, 8, 60, 50], [1.0, 4, 20, 30, 64],
                          [2.0, 16, 16, 32, 32]])
    head = RoIHead(c, 3, resolution=7, spatial_scale_factor=STRIDE)
    pooled = head.pool(feats, boxes)
    torch.testing.assert_close(pooled, base[[2, 0, 1, 2]])


def test_flip_equivariance_with_mirrored_boxes():
    gen = torch.Generator().manual_seed(3)
    h, w = 6, 7
    feats = torch.randn(2, 4, 3, h, w, generator=gen)
    boxes = _random_boxes(8, 2, h * STRIDE, w * STRIDE, gen)
    mirrored = boxes.clone()
    mirrored[:, 1] = w * STRIDE - boxes[:, 3]
    mirrored[:, 3] = w * STRIDE - boxes[:, 1]
    head = RoIHead(4, 5, resolution=7, spatial_scale_factor=STRIDE, aligned=True).eval()
    out = head(feats, boxes)
    torch.testing.assert_close(head(feats.flip(-1), mirrored), out, atol=1e-5, rtol=1e-5)
    # Not trivially so: the unmirrored boxes on the flipped map give something else.
    assert not torch.allclose(head(feats.flip(-1), boxes), out, atol=1e-3)


def test_activation_only_in_eval_mode():
    gen = torch.Generator().manual_seed(4)
    feats = torch.randn(2, 6, 2, 4, 4, generator=gen)
    boxes = _random_boxes(5, 2, 64, 64, gen)
    torch.manual_seed(4)  # the projection's init
    head = RoIHead(6, 3, act="sigmoid", init_std=1.0)
    head.train()
    logits = head(feats, boxes)
    torch.testing.assert_close(logits, head.projection(head.pool(feats, boxes)))
    assert (logits < 0).any() and (logits > 1).any()  # raw logits, not probabilities
    head.eval()
    torch.testing.assert_close(head(feats, boxes), torch.sigmoid(logits))
    soft = RoIHead(6, 3, act="softmax", init_std=1.0).eval()
    torch.testing.assert_close(soft(feats, boxes).sum(1), torch.ones(5))
    plain = RoIHead(6, 3, act=None).eval()
    torch.testing.assert_close(plain(feats, boxes), plain.projection(plain.pool(feats, boxes)))


def test_head_rejects_bad_inputs():
    head = RoIHead(2, 3, temporal_pool=4)
    boxes = torch.tensor([[0.0, 0, 0, 16, 16]])
    with pytest.raises(InputError, match="T=4"):
        head(torch.randn(1, 2, 2, 4, 4), boxes)  # PySlowFast's fixed temporal kernel
    with pytest.raises(InputError, match="K x 5"):
        head(torch.randn(1, 2, 4, 4, 4), boxes[:, 1:])
    with pytest.raises(InputError, match="activation"):
        RoIHead(2, 3, act="tanh")


def test_roi_head_state_dict_is_pyslowfast_layout():
    # The RoI head has exactly ResNetBasicHead's parameters, so a Slow R50 with an RoI head has
    # PySlowFast's Slow R50 state-dict layout (the hash of test_models_backbones, 400 classes).
    slow_r50_layout_sha256 = "873a4f1904b94a7b957ce4b344918de452004c15a3351884c1084ce4c48b7c34"
    with torch.device("meta"):
        net = ResNet3D(50, "slow", spatial_strides=(1, 2, 2, 1), spatial_dilations=(1, 1, 1, 2))
        net.head = RoIHead(2048, 400)
    lines = sorted(f"{k} {tuple(v.shape)}" for k, v in net.state_dict().items())
    assert hashlib.sha256("\n".join(lines).encode()).hexdigest() == slow_r50_layout_sha256
    assert [k for k in net.state_dict() if k.startswith("head.")] == ["head.projection.weight",
                                                                       "head.projection.bias"]
    head = RoIHead(2048, 80)  # AVA: 80 classes
    assert {k: tuple(v.shape) for k, v in head.state_dict().items()} == {
        "projection.weight": (80, 2048), "projection.bias": (80,)}
    assert [name for name, _ in head.named_children()] == ["s0_tpool", "s0_roi", "s0_spool",
                                                           "projection", "act"]


# ---------------------------------------------------------------- built from the config


def _ava_cfg(*extra):
    # Built without load_config's finalize: this tests the model builders only.
    cfg = get_cfg()
    merge_overrides(cfg, [
        "MODEL.ARCH", "slow", "RESNET.DEPTH", "10", "RESNET.WIDTH_PER_GROUP", "4",
        "DATA.NUM_FRAMES", "4", "DATA.TRAIN_CROP_SIZE", "32", "DATA.TEST_CROP_SIZE", "32",
        "MODEL.NUM_CLASSES", "5", "MODEL.HEAD_ACT", "sigmoid", "MODEL.DROPOUT_RATE", "0.5",
        "DETECTION.ENABLE", "True",
        "RESNET.SPATIAL_DILATIONS", "[[1], [1], [1], [2]]",
        "RESNET.SPATIAL_STRIDES", "[[1], [2], [2], [1]]", *extra,
    ])
    return cfg


def test_build_from_config_maps_clips_and_boxes_to_box_scores():
    torch.manual_seed(0)
    cfg = _ava_cfg()
    spec = head_spec_from_cfg(cfg)
    assert spec == RoIHeadSpec(num_classes=5, temporal_pool=4, resolution=7, spatial_scale_factor=16,
                               aligned=True, act="sigmoid", dropout=0.5, detach=False, init_std=0.01)
    net = build_model(cfg)
    assert isinstance(net.head, RoIHead) and net.head.temporal_pool == 4
    assert net.head.s0_roi.spatial_scale == 1 / 16 and net.head.s0_roi.aligned
    assert net.head.s0_roi.output_size == (7, 7) and net.head.s0_roi.sampling_ratio == 0
    assert [k for k in net.state_dict() if k.startswith("head.")] == ["head.projection.weight",
                                                                       "head.projection.bias"]
    x = torch.randn(2, 3, 4, 32, 32)
    assert net.forward_maps(x).shape == (2, 128, 4, 2, 2)  # res5 output stride 16: 32 px -> 2 x 2
    assert net.forward_features(x).shape == (2, 128)
    boxes = torch.tensor([[0.0, 0, 0, 31, 31], [1.0, 4, 2, 20, 30], [1.0, 10, 10, 30, 22]])
    out = net(x, boxes)  # train mode: logits, with gradients
    assert out.shape == (3, 5)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.eval()
    with torch.no_grad():
        probs = net(x, boxes)
        maps = net.forward_maps(x)
        logits = net.head.projection(net.head.pool(maps, boxes))
    torch.testing.assert_close(probs, torch.sigmoid(logits))
    with pytest.raises(InputError, match="needs K x 5 boxes"):
        net(x)


def test_default_strides_give_output_stride_32_and_the_classifier_without_detection():
    cfg = _ava_cfg("RESNET.SPATIAL_DILATIONS", "[[1], [1], [1], [1]]",
                   "RESNET.SPATIAL_STRIDES", "[[1], [2], [2], [2]]")
    net = build_model(cfg)
    assert net.forward_maps(torch.randn(1, 3, 4, 32, 32)).shape[-2:] == (1, 1)
    cfg = _ava_cfg("DETECTION.ENABLE", "False")
    net = build_model(cfg)
    assert isinstance(net.head, VideoHead)
    assert net(torch.randn(2, 3, 4, 32, 32)).shape == (2, 5)
    with pytest.raises(InputError, match="not a detection"):
        net(torch.randn(2, 3, 4, 32, 32), boxes=torch.zeros(1, 5))


def test_detection_needs_a_backbone_that_takes_boxes():
    with pytest.raises(InputError, match="needs a backbone that classifies boxes"):
        build_model(_ava_cfg("MODEL.ARCH", "s3d"))


def test_pyslowfast_ava_checkpoint_loads_strictly():
    # A tiny checkpoint in PySlowFast's AVA layout: the backbone keys of the Slow ResNet plus
    # head.projection.{weight,bias} (80 x 2048 for the real R50; 5 x 128 here), nothing else.
    torch.manual_seed(0)
    net = build_model(_ava_cfg())
    gen = torch.Generator().manual_seed(5)
    state = {k: torch.randn(v.shape, generator=gen) if v.is_floating_point() else v.clone()
             for k, v in net.state_dict().items() if not k.startswith("head.")}
    state["head.projection.weight"] = torch.randn(5, 128, generator=gen)
    state["head.projection.bias"] = torch.randn(5, generator=gen)
    fresh = build_model(_ava_cfg())
    fresh.load_state_dict(state, strict=True)
    torch.testing.assert_close(fresh.head.projection.weight, state["head.projection.weight"])
    torch.testing.assert_close(fresh.s5.pathway0_res0.branch2.b.weight,
                               state["s5.pathway0_res0.branch2.b.weight"])
    # The same dict as a PySlowFast .pyth container goes through the loader without leftovers.
    other = build_model(_ava_cfg())
    report = load_pretrained(other, {"model_state": state, "epoch": 20})
    assert report.missing == [] and report.unexpected == [] and report.mismatched == []
    torch.testing.assert_close(other.head.projection.bias, state["head.projection.bias"])


def test_a_vit_takes_the_roi_head_on_its_patch_grid():
    """MAE / VideoMAE encoders finetune on AVA too: the RoI head pools boxes on the last block's
    normalised patch tokens laid out on their (t, h, w) grid (stride 16 = the patch size)."""
    from helpers.vit_configs import vit_opts

    cfg = get_cfg()
    merge_overrides(cfg, vit_opts(**{"DETECTION.ENABLE": True, "MODEL.HEAD_ACT": "sigmoid",
                                     "DETECTION.ROI_XFORM_RESOLUTION": 2}))
    torch.manual_seed(0)
    net = build_model(cfg)
    x = torch.randn(2, 3, 4, 32, 32)
    maps = net.forward_maps(x)
    assert maps.shape == (2, 64, 2, 2, 2)  # D x (4/2) x (32/16) x (32/16)
    tokens, _ = net.embed(x)
    out = net.norm(net.forward_tokens(tokens)[:, net.num_prefix_tokens:])
    torch.testing.assert_close(maps[1, :, 1, 0, 1], out[1, 1 * 4 + 0 * 2 + 1])  # token (t=1, h=0, w=1)
    boxes = torch.tensor([[0, 0.0, 0.0, 32.0, 32.0], [1, 0.0, 0.0, 16.0, 16.0]])
    net.train()
    logits = net(x, boxes=boxes)
    assert logits.shape == (2, 5)
    logits.sum().backward()
    assert net.patch_embed.proj.weight.grad is not None
    net.eval()
    probs = net(x, boxes=boxes)
    assert ((probs > 0) & (probs < 1)).all()
    with pytest.raises(InputError, match="needs K x 5 boxes"):
        net(x)
