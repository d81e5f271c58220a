"""Checkpoint conversion: every foreign layout loads with nothing left over and gives identical outputs.

Reference layouts are written by hand here from the references' module
structure (CoCLR/ViCC ``encoder_q = Sequential(backbone, pool, conv, relu,
conv)`` with S3D's duplicated ``blockN`` aliases; AVID-CMA's DataParallel
``module.video_model`` / ``video_proj``; PySlowFast's SSL ``.pyth``; caffe2
blobs), not through the converter's own inverse.
"""

import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from videossl.methods import never_load_patterns
from videossl.models import convert
from videossl.models.convert import (SOURCES, LoadReport, clear_names, extract_backbone, load_pretrained,
                                     register_source)
from videossl.models.resnet_convert import caffe2_name_to_pyslowfast
from videossl.models.heads import VideoHead
from videossl.models.r2plus1d import R2Plus1D, R2Plus1DNet
from videossl.models.resnet import ResNet3D
from videossl.models.s3d import S3D

X = torch.randn(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(0))

# CoCLR's S3D: layer -> its alias inside block1..block5 (backbone/s3dg.py).
S3D_ALIASES = {"Conv_1a": "block1.0", "Conv_2b": "block2.1", "Conv_2c": "block2.2", "Mixed_3b": "block3.1",
               "Mixed_3c": "block3.2", "Mixed_4b": "block4.1", "Mixed_4c": "block4.2", "Mixed_4d": "block4.3",
               "Mixed_4e": "block4.4", "Mixed_4f": "block4.5", "Mixed_5b": "block5.1", "Mixed_5c": "block5.2"}


def _randomize(net: nn.Module, seed: int) -> nn.Module:
    """Random weights and BN statistics, so outputs depend on every tensor of the state dict."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) * 0.5 + 0.5 if t.dim() == 1
                        else torch.randn(t.shape, generator=g) * 0.05)
    return net.eval()


class _SSL(nn.Module):
    """A PySlowFast-layout SSL model: ``backbone`` (with head) and the momentum ``backbone_hist``."""

    def __init__(self, make, dim_out=128, layers=3, mlp_dim=64, hist=True):
        super().__init__()
        self.backbone = make()
        self.backbone.head = VideoHead(self.backbone.feature_dim, dim_out, num_mlp_layers=layers, mlp_dim=mlp_dim)
        if hist:
            self.backbone_hist = make()
            self.backbone_hist.head = VideoHead(self.backbone.feature_dim, dim_out, num_mlp_layers=layers,
                                                mlp_dim=mlp_dim)


def _r10():
    return ResNet3D(10, "slow", width_per_group=4)


def _no_grad_eval(net, x=X):
    with torch.no_grad():
        return net.eval()(x)


# ------------------------------------------------------------------ PySlowFast .pyth


@pytest.fixture
def moco_pyth(tmp_path):
    """A MoCo-style PySlowFast SSL checkpoint file (keys as in pyslowfast_keys/contrastive_MoCo_*)."""
    src = _randomize(_SSL(_r10), 1)
    state = OrderedDict(src.state_dict())
    state["queue_x"] = torch.randn(64, 128)
    state["ptr"] = torch.zeros(1)
    state["iter"] = torch.zeros(1)
    state["knn_mem.memory"] = torch.randn(100, 1, 128)
    path = tmp_path / "MoCo_SlowR10_epoch_00200.pyth"
    torch.save({"epoch": 199, "model_state": state, "optimizer_state": {}, "cfg": "TASK: ssl"}, path)
    return path, src


def test_pyslowfast_ssl_checkpoint_into_a_classifier(moco_pyth):
    path, src = moco_pyth
    net = _r10()
    net.head = VideoHead(net.feature_dim, 4)
    report = load_pretrained(net, path, clear_name_patterns=("backbone.",), drop_patterns=never_load_patterns())
    assert report.source == "pyslowfast" and report.epoch == 199
    assert set(report.loaded) == {k for k in net.state_dict() if not k.startswith("head.")}
    assert report.missing == ["head.projection.weight", "head.projection.bias"]
    assert "queue_x" in report.unexpected and "backbone_hist.s1.pathway0_stem.conv.weight" in report.unexpected
    assert "head.projection.projection.0.weight" in report.unexpected  # the SSL MLP is not a classifier
    assert report.dropped == ["knn_mem.memory"] and not report.mismatched
    with torch.no_grad():
        ours = net.eval().forward_features(X)
        assert torch.equal(ours, src.backbone.forward_features(X))
        assert not torch.allclose(ours, src.backbone_hist.forward_features(X))


def test_pyslowfast_ssl_checkpoint_into_the_same_method_loads_everything(moco_pyth):
    path, src = moco_pyth
    dst = _SSL(_r10)
    dst.register_buffer("queue_x", torch.zeros(64, 128))
    report = load_pretrained(dst, path, drop_patterns=never_load_patterns())
    assert report.missing == [] and report.mismatched == []
    assert sorted(report.unexpected) == ["iter", "ptr"]
    assert torch.equal(_no_grad_eval(dst.backbone_hist), _no_grad_eval(src.backbone_hist))


def test_extract_backbone(moco_pyth):
    path, src = moco_pyth
    trunk = extract_backbone(path)
    assert set(trunk) == {k for k in src.backbone.state_dict() if not k.startswith("head.")}
    assert torch.equal(trunk["s5.pathway0_res0.branch2.c.weight"], src.backbone.s5.pathway0_res0.branch2.c.weight)
    assert "head.projection.projection.0.weight" in extract_backbone(path, keep_head=True)
    hist = extract_backbone(path, prefix="backbone_hist.")
    assert torch.equal(hist["s1.pathway0_stem.conv.weight"], src.backbone_hist.s1.pathway0_stem.conv.weight)
    with pytest.raises(ValueError, match="no weights under 'encoder.'"):
        extract_backbone(path, prefix="encoder.")


def test_clear_names_replaces_the_first_occurrence_only():
    t = torch.zeros(1)
    out = clear_names({"backbone.s1.w": t, "backbone_hist.s1.w": t, "backbone.head.backbone.w": t,
                       "module.backbone.x": t}, ["module.", "backbone."])
    assert list(out) == ["s1.w", "backbone_hist.s1.w", "head.backbone.w", "x"]


def test_module_prefix_is_removed(tmp_path):
    src = _randomize(_r10(), 2)
    path = tmp_path / "ddp.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in src.state_dict().items()}}, path)
    dst = _r10()
    report = load_pretrained(dst, path)
    assert report.missing == [] and report.unexpected == []
    assert torch.equal(_no_grad_eval(dst), _no_grad_eval(src))


# ------------------------------------------------------------------ CoCLR / ViCC (S3D, R2Plus1DNet)


def _coclr_encoder_state(backbone: nn.Module, head_in: int, seed: int, s3d_aliases: bool) -> OrderedDict:
    """``encoder.state_dict()`` of CoCLR's Sequential(backbone, pool, Conv3d, ReLU, Conv3d)."""
    g = torch.Generator().manual_seed(seed)
    out = OrderedDict()
    for k, v in backbone.state_dict().items():
        out["0." + k] = v
        layer, _, rest = k.partition(".")
        if s3d_aliases and layer in S3D_ALIASES:
            out[f"0.{S3D_ALIASES[layer]}.{rest}"] = v
    out["2.weight"] = torch.randn(head_in, head_in, 1, 1, 1, generator=g) * 0.05
    out["2.bias"] = torch.randn(head_in, generator=g) * 0.05
    out["4.weight"] = torch.randn(128, head_in, 1, 1, 1, generator=g) * 0.05
    out["4.bias"] = torch.randn(128, generator=g) * 0.05
    return out


def _coclr_projection(enc: dict, feats: torch.Tensor) -> torch.Tensor:
    h = torch.relu(feats @ enc["2.weight"].flatten(1).T + enc["2.bias"])
    return h @ enc["4.weight"].flatten(1).T + enc["4.bias"]


@pytest.fixture(scope="module")
def coclr_s3d():
    q = _randomize(S3D(), 3)
    k = _randomize(S3D(), 4)
    enc_q = _coclr_encoder_state(q, 1024, 5, s3d_aliases=True)
    enc_k = _coclr_encoder_state(k, 1024, 6, s3d_aliases=True)
    state = OrderedDict([(f"encoder_q.{n}", v) for n, v in enc_q.items()]
                        + [(f"encoder_k.{n}", v) for n, v in enc_k.items()])
    state["queue"] = torch.randn(128, 64)
    state["queue_ptr"] = torch.zeros(1, dtype=torch.long)
    return state, q, k, enc_q


def test_coclr_layout_has_the_reference_key_count(coclr_s3d):
    state = coclr_s3d[0]
    # CoCLR's S3D state_dict holds 924 keys (each layer twice) + 4 projection keys per encoder.
    assert sum(k.startswith("encoder_q.") for k in state) == 924 + 4
    assert "encoder_q.0.block4.2.branch1.1.conv2.weight" in state
    assert "encoder_q.0.Mixed_4c.branch1.1.conv2.weight" in state


def test_coclr_pretrain_checkpoint_round_trip(coclr_s3d, tmp_path):
    state, q, k, enc_q = coclr_s3d
    path = tmp_path / "CoCLR-ucf101-rgb-128-s3d-ep182.pth.tar"
    torch.save({"epoch": 182, "state_dict": state, "best_acc": 0.0, "optimizer": {}, "iteration": 1}, path)
    dst = _SSL(S3D, dim_out=128, layers=2, mlp_dim=1024)
    report = load_pretrained(dst, path)
    assert report.source == "coclr"
    assert report.missing == [] and report.mismatched == []
    assert sorted(report.unexpected) == ["queue", "queue_ptr"]
    assert len(report.dropped) == 924  # both encoders' blockN aliases
    with torch.no_grad():
        feats = dst.backbone.eval().forward_features(X)
        assert torch.equal(feats, q.forward_maps(X).mean(dim=(2, 3, 4)))
        assert torch.allclose(dst.backbone(X), _coclr_projection(enc_q, feats), atol=1e-6)
        assert torch.equal(dst.backbone_hist.eval().forward_features(X), k.forward_features(X))


def test_coclr_inverse_mapping_writes_the_reference_layout(coclr_s3d):
    state = coclr_s3d[0]
    dst = _SSL(S3D, dim_out=128, layers=2, mlp_dim=1024)
    load_pretrained(dst, {"state_dict": state})
    back = SOURCES["coclr"].from_ours(dst.state_dict())
    assert set(back) == set(state) - {"queue", "queue_ptr"}
    assert all(back[n].shape == state[n].shape for n in back)


def test_coclr_aliases_alone_still_load(coclr_s3d):
    state = coclr_s3d[0]
    aliases_only = {n: v for n, v in state.items()
                    if n.startswith("encoder_q.") and not any(f".0.{layer}." in n for layer in S3D_ALIASES)}
    net = S3D()
    report = load_pretrained(net, aliases_only, clear_name_patterns=("backbone.",))
    assert report.missing == [] and report.dropped == []
    assert torch.equal(_no_grad_eval(net), _no_grad_eval(coclr_s3d[1]))


def test_coclr_classifier_checkpoint():
    src = _randomize(S3D(), 7)
    fc_w, fc_b = torch.randn(101, 1024), torch.randn(101)
    state = OrderedDict(("module.backbone." + n, v) for n, v in src.state_dict().items())
    for n in ("weight", "bias", "running_mean", "running_var"):
        state[f"module.final_bn.{n}"] = torch.ones(1024)
    state["module.final_fc.1.weight"], state["module.final_fc.1.bias"] = fc_w, fc_b
    net = S3D()
    net.head = VideoHead(1024, 101)
    report = load_pretrained(net, {"epoch": 10, "state_dict": state})  # as torch.load returns it
    assert report.source == "coclr" and report.missing == []
    # CoCLR's final_bn maps onto the coclr-protocol head's BN (head.bn); a PySlowFast head has none
    assert sorted(report.unexpected) == [f"head.bn.{n}" for n in ("bias", "running_mean", "running_var", "weight")]
    with torch.no_grad():
        assert torch.allclose(net.eval()(X), src.forward_features(X) @ fc_w.T + fc_b, atol=1e-5)


def test_vicc_r21d_checkpoint_round_trip(tmp_path):
    src = _randomize(R2Plus1DNet(), 8)
    enc = _coclr_encoder_state(src, 512, 9, s3d_aliases=False)
    state = OrderedDict((f"encoder_q.{n}", v) for n, v in enc.items())
    state["prototypes.weight"] = torch.randn(300, 128)
    assert "encoder_q.0.conv3.block1.downsampleconv.spatial_conv.weight" in state  # the reference's name
    path = tmp_path / "vicc_rgb_r21d.pth.tar"
    torch.save({"epoch": 99, "state_dict": state, "best_loss": 0}, path)
    dst = _SSL(R2Plus1DNet, dim_out=128, layers=2, mlp_dim=512, hist=False)
    report = load_pretrained(dst, path)
    assert report.missing == [] and report.unexpected == ["swav_prototypes.weight"]  # SwAV's name; no SwAV here
    with torch.no_grad():
        feats = dst.backbone.eval().forward_features(X)
        assert torch.equal(feats, src.forward_features(X))
        assert torch.allclose(dst.backbone(X), _coclr_projection(enc, feats), atol=1e-6)


# ------------------------------------------------------------------ AVID-CMA (the 15.4M R(2+1)D-18)


def test_avid_checkpoint_round_trip(tmp_path):
    src = _randomize(R2Plus1D(18), 10)
    g = torch.Generator().manual_seed(11)
    proj = [torch.randn(512, 512, generator=g) * 0.05, torch.randn(512, 512, generator=g) * 0.05,
            torch.randn(128, 512, generator=g) * 0.05]
    state = OrderedDict(("module.video_model." + n, v) for n, v in src.state_dict().items())
    for i, w in zip((0, 2, 4), proj):
        state[f"module.video_proj.projection.{i}.weight"] = w
        state[f"module.video_proj.projection.{i}.bias"] = torch.zeros(w.shape[0])
    state["module.audio_model.conv1.0.weight"] = torch.randn(64, 1, 7, 7)
    assert "module.video_model.conv2x.0.spt_conv1.weight" in state  # the reference's name
    path = tmp_path / "AVID_Kinetics_Cross-N1024_checkpoint.pth.tar"
    torch.save({"model": state, "optimizer": {}, "epoch": 30}, path)
    dst = _SSL(lambda: R2Plus1D(18), dim_out=128, layers=3, mlp_dim=512, hist=False)
    report = load_pretrained(dst, path)
    assert report.source == "avid"
    assert report.missing == [] and report.unexpected == ["audio_model.conv1.0.weight"]
    with torch.no_grad():
        feats = dst.backbone.eval().forward_features(X)
        assert torch.equal(feats, src.forward_maps(X).amax(dim=(2, 3, 4)))
        expected = torch.relu(torch.relu(feats @ proj[0].T) @ proj[1].T) @ proj[2].T
        assert torch.allclose(dst.backbone(X), expected, atol=1e-6)


# ------------------------------------------------------------------ caffe2 .pkl and inflation


@pytest.mark.parametrize("blob, ours", [
    ("conv1_w", "s1.pathway0_stem.conv.weight"),
    ("res_conv1_bn_s", "s1.pathway0_stem.bn.weight"),
    ("res_conv1_bn_riv", "s1.pathway0_stem.bn.running_var"),
    ("res4_4_branch2c_bn_b", "s4.pathway0_res4.branch2.c_bn.bias"),
    ("res2_0_branch2a_w", "s2.pathway0_res0.branch2.a.weight"),
    ("res3_0_branch1_w", "s3.pathway0_res0.branch1.weight"),
    ("res3_0_branch1_bn_rm", "s3.pathway0_res0.branch1_bn.running_mean"),
    ("pred_w", "head.projection.weight"),
    ("t_res2_1_branch2b_w", "s2.pathway1_res1.branch2.b.weight"),
])
def test_caffe2_blob_names(blob, ours):
    assert caffe2_name_to_pyslowfast(blob) == ours


def test_caffe2_pickle_round_trip(tmp_path):
    src = _randomize(_r10(), 12)
    src.head = VideoHead(src.feature_dim, 6)
    _randomize(src.head, 13)
    blobs = {name: v.numpy().copy() for name, v in SOURCES["caffe2"].from_ours(src.state_dict()).items()}
    assert "res3_0_branch2b_bn_riv" in blobs and "pred_w" in blobs
    blobs.update({"model_iter": np.array([1000]), "lr": np.array([0.1]), "conv1_w_momentum": blobs["conv1_w"]})
    path = tmp_path / "SLOWONLY_8x8_R50.pkl"
    with open(path, "wb") as f:
        pickle.dump({"blobs": blobs}, f, protocol=2)
    dst = _r10()
    dst.head = VideoHead(dst.feature_dim, 6)
    report = load_pretrained(dst, path, source="caffe2")
    assert report.source == "caffe2" and report.missing == [] and report.unexpected == []
    assert sorted(report.dropped) == ["conv1_w_momentum", "lr", "model_iter"]
    assert torch.equal(_no_grad_eval(dst), _no_grad_eval(src))
    assert load_pretrained(_r10(), path).source == "caffe2"  # detected without source=


def test_inflation_repeats_2d_kernels_over_time():
    net = ResNet3D(10, "i3d", width_per_group=4)
    state3d = net.state_dict()
    g = torch.Generator().manual_seed(14)
    ckpt = {k: (torch.randn(v.shape[:2] + v.shape[3:], generator=g) if v.dim() == 5 else v.clone())
            for k, v in state3d.items()}
    report = load_pretrained(net, ckpt, inflate=True)
    convs = [k for k, v in state3d.items() if v.dim() == 5]
    assert sorted(report.inflated) == sorted(convs) and report.mismatched == []
    stem = net.s1.pathway0_stem.conv.weight  # 5 x 7 x 7 stem of i3d
    w2d = ckpt["s1.pathway0_stem.conv.weight"]
    assert stem.shape[2] == 5 and torch.allclose(stem, w2d[:, :, None].expand_as(stem) / 5)
    # Without inflation the kernels with a temporal or spatial extent are shape mismatches
    # (1x1 kernels load as 1x1x1: they differ by a trailing singleton only).
    report = load_pretrained(ResNet3D(10, "i3d", width_per_group=4), ckpt)
    assert {k for k, _, _ in report.mismatched} == {k for k in convs if state3d[k].shape[2:] != (1, 1, 1)}
    with pytest.raises(ValueError, match="no tensor of matching shape in the given state dict"):
        load_pretrained(ResNet3D(10, "i3d", width_per_group=4), {"s1.pathway0_stem.conv.weight": w2d})


# ------------------------------------------------------------------ report and errors


def test_shape_mismatch_and_the_table(moco_pyth, tmp_path):
    src = _randomize(_r10(), 15)
    src.head = VideoHead(src.feature_dim, 400)
    path = tmp_path / "k400_supervised.pyth"
    torch.save({"model_state": src.state_dict(), "epoch": 5}, path)
    net = _r10()
    net.head = VideoHead(net.feature_dim, 101)
    report = load_pretrained(net, path)
    assert report.mismatched == [("head.projection.weight", (400, 128), (101, 128)),
                                 ("head.projection.bias", (400,), (101,))]
    table = report.table()
    assert isinstance(report, LoadReport) and isinstance(table, str)
    assert str(path) in table and "format: pyslowfast" in table
    rows = {line.split("|")[0].strip(): line for line in table.splitlines()[3:]}
    assert set(rows) == {"loaded", "missing (kept init)", "unexpected (unused)", "shape mismatch",
                         "dropped (non-weights, aliases)"}
    assert rows["shape mismatch"].split("|")[1].strip() == "2"
    assert "head.projection.weight (400, 128) vs model (101, 128)" in rows["shape mismatch"]
    assert rows["missing (kept init)"].split("|")[1].strip() == "2"


def test_no_matching_key_raises_naming_the_file(tmp_path):
    path = tmp_path / "s3d_weights.pth"
    torch.save({"state_dict": S3D().state_dict()}, path)
    with pytest.raises(ValueError, match=f"{path}.*Conv_1a.*s1.pathway0_stem"):
        load_pretrained(_r10(), path)


def test_no_match_hints_at_the_prefix(moco_pyth):
    path, _ = moco_pyth
    with pytest.raises(ValueError, match="start with 'backbone.'.*CLEAR_NAME_PATTERN"):
        load_pretrained(_r10(), path, clear_name_patterns=())


@pytest.mark.parametrize("content, match", [
    (b"this is not a checkpoint", "is unreadable"),
    (None, "not a checkpoint: it holds a list"),
    ({"epoch": 3, "note": "no tensors"}, "not a checkpoint: no tensors"),
])
def test_unreadable_or_not_a_checkpoint(tmp_path, content, match):
    path = tmp_path / "weights.pyth"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save([1, 2, 3] if content is None else content, path)
    with pytest.raises(ValueError, match=match) as err:
        load_pretrained(_r10(), path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_file_and_unknown_source(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such.pyth"):
        load_pretrained(_r10(), tmp_path / "no_such.pyth")
    with pytest.raises(ValueError, match="unknown checkpoint source 'mmaction'"):
        load_pretrained(_r10(), _r10().state_dict(), source="mmaction")


# ------------------------------------------------------------------ the registry hook (VideoMAE / MAE-ST)


def test_register_source_hook(monkeypatch):
    monkeypatch.setattr(convert, "SOURCES", dict(SOURCES))
    src = _randomize(_r10(), 16)
    foreign = {"toy_net." + k: v for k, v in src.state_dict().items()}
    register_source("toy", detect=lambda s, c: all(k.startswith("toy_net.") for k in s),
                    to_ours=lambda s: ({k[len("toy_net."):]: v for k, v in s.items()}, []), priority=10)
    dst = _r10()
    report = load_pretrained(dst, {"model": foreign})
    assert report.source == "toy" and report.missing == [] and report.unexpected == []
    assert torch.equal(_no_grad_eval(dst), _no_grad_eval(src))


def test_videomae_checkpoints_are_detected():
    # The ViT module (imported with videossl.models) registers the VideoMAE mapping; detection routes these files to it.
    state = {"encoder.patch_embed.proj.weight": torch.zeros(8, 3, 2, 4, 4),
             "encoder.blocks.0.attn.q_bias": torch.zeros(8), "decoder.head.weight": torch.zeros(6, 8)}
    assert convert.detect_source(state, "module") == "videomae"
    assert convert.detect_source({"s1.pathway0_stem.conv.weight": torch.zeros(1)}, "model_state") == "pyslowfast"
