"""Published checkpoint layouts, synthesised here, load through the weights module as their publishers load them.

* a CoCLR linear-probe classifier (``backbone.*``, ``final_bn``, ``final_fc.1``)
  tests with CoCLR's logits: ``FC(BN(L2-normalise(features)))``;
* a ViCC pretraining checkpoint's ``prototypes.weight`` initialises our SwAV prototypes;
* a VideoMAE pretraining checkpoint finetunes as VideoMAE does (the encoder's
  ``norm`` unused, ``fc_norm`` at identity); a PySlowFast MAE-ST one as
  PySlowFast does (``norm`` loaded); the load table says which;
* a videossl supervised checkpoint (``net.*``) initialises a supervised run and a finetune.
"""

import torch
import torch.nn.functional as F

from conftest import tiny_cfg_opts
from helpers.vit_configs import VIDEOMAE_OPTS, mae_opts, vit_opts
from videossl.config import load_config
from videossl.engine import weights
from videossl.engine.tasks import get_task
from videossl.methods import DEFAULT_ROLE, build_method
from videossl.models.s3d import REFERENCE_BLOCKS, S3D
from videossl.models.vit_convert import mae_to_maskmvit, mae_to_videomae

X = torch.randn(2, 3, 8, 64, 64, generator=torch.Generator().manual_seed(0))


def _randomize(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights and BN statistics, so every tensor of the state dict matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) * 0.5 + 0.5 if t.dim() == 1
                        else torch.randn(t.shape, generator=g) * 0.05)
    return module


def _coclr_s3d_keys(s3d: S3D, prefix: str):
    """S3D weights as CoCLR's state dict holds them: each layer under its name and its ``blockN.i`` alias."""
    alias = {name: f"{block}.{i}." for block, names in REFERENCE_BLOCKS.items() for i, name in enumerate(names)}
    out = {}
    for k, v in s3d.state_dict().items():
        out[prefix + k] = v.clone()
        layer, _, rest = k.partition(".")
        out[prefix + alias[layer] + rest] = v.clone()
    return out


def test_coclr_linear_probe_checkpoint_reproduces_coclr_logits(tmp_path):
    cfg = load_config([], tiny_cfg_opts(**{"TASK": "linear", "LINEAR.PROTOCOL": "coclr", "MODEL.ARCH": "s3d",
                                           "MODEL.NUM_CLASSES": 5, "DATA.NUM_FRAMES": 8}))
    src = _randomize(S3D(), 1).eval()
    state = _coclr_s3d_keys(src, "backbone.")
    g = torch.Generator().manual_seed(2)
    bn = {"weight": torch.rand(1024, generator=g) + 0.5, "bias": torch.randn(1024, generator=g) * 0.1,
          "running_mean": torch.randn(1024, generator=g) * 0.01, "running_var": torch.rand(1024, generator=g) * 0.01 + 1e-3,
          "num_batches_tracked": torch.tensor(100)}
    fc = {"weight": torch.randn(5, 1024, generator=g) * 0.1, "bias": torch.randn(5, generator=g)}
    state.update({f"final_bn.{k}": v for k, v in bn.items()})
    state.update({f"final_fc.1.{k}": v for k, v in fc.items()})
    path = tmp_path / "model_best_epoch90.pth.tar"
    torch.save({"epoch": 90, "state_dict": state, "best_acc": 0.5}, path)

    method = build_method(cfg)
    assert weights.load_for_test(method, str(path))
    with torch.no_grad():
        ours = method.eval().predict({"views": [X]})
        # CoCLR's LinearClassifier in eval mode, written out: L2-norm -> BN1d (running stats) -> FC
        feats = F.normalize(src.forward_features(X), dim=1)
        normed = (feats - bn["running_mean"]) / torch.sqrt(bn["running_var"] + 1e-5) * bn["weight"] + bn["bias"]
        expected = normed @ fc["weight"].t() + fc["bias"]
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-5)


def test_vicc_prototypes_initialise_swav_prototypes(tmp_path):
    cfg = load_config([], tiny_cfg_opts(**{
        "TASK": "pretrain", "SSL.METHOD": "swav", "MODEL.ARCH": "s3d", "CONTRASTIVE.DIM": 128,
        "MODEL.NUM_CLASSES": 128, "CONTRASTIVE.NUM_MLP_LAYERS": 2, "CONTRASTIVE.MLP_DIM": 1024,
        "CONTRASTIVE.BN_MLP": False, "SSL.SWAV_NUM_PROTOTYPES": 300}))
    g = torch.Generator().manual_seed(3)
    # ViCC's encoder_q = Sequential(S3D, pool, Conv3d 1024->1024, ReLU, Conv3d 1024->128), then prototypes
    state = _coclr_s3d_keys(_randomize(S3D(), 4), "encoder_q.0.")
    state["encoder_q.2.weight"] = torch.randn(1024, 1024, 1, 1, 1, generator=g) * 0.01
    state["encoder_q.2.bias"] = torch.randn(1024, generator=g) * 0.01
    state["encoder_q.4.weight"] = torch.randn(128, 1024, 1, 1, 1, generator=g) * 0.01
    state["encoder_q.4.bias"] = torch.randn(128, generator=g) * 0.01
    state["prototypes.weight"] = F.normalize(torch.randn(300, 128, generator=g), dim=1)
    path = tmp_path / "epoch499.pth.tar"
    torch.save({"epoch": 499, "state_dict": state, "best_loss": 1.0}, path)

    method = build_method(cfg)
    reports = weights.initialise(method, {DEFAULT_ROLE: str(path)}, get_task("pretrain"))
    assert torch.equal(method.swav_prototypes.weight, state["prototypes.weight"])
    proj = method.backbone.head.projection.projection
    assert torch.equal(proj[2].weight, state["encoder_q.4.weight"].flatten(1))
    assert "prototypes.weight" not in reports[DEFAULT_ROLE].unexpected


def _mae_state(**extra):
    torch.manual_seed(0)
    mae = build_method(load_config(opts=mae_opts(**extra)))
    return _randomize(mae, 5).state_dict()


def _finetune(tmp_path, state_file, **extra):
    cfg = load_config(opts=vit_opts(**{"TASK": "finetune", "MODEL.ARCH": "vit", "MVIT.PATCH_KERNEL": "[2, 8, 8]",
                                       "MVIT.PATCH_STRIDE": "[2, 8, 8]", "MVIT.DEPTH": 2, **extra}))
    method = build_method(cfg)
    report = weights.initialise(method, {DEFAULT_ROLE: str(state_file)}, get_task("finetune"))[DEFAULT_ROLE]
    return method, report


def test_videomae_pretraining_checkpoint_finetunes_as_videomae(tmp_path):
    vm = {k: v for k, v in VIDEOMAE_OPTS.items() if not k.startswith("MVIT.USE_MEAN")}
    ours = _mae_state(**vm)
    path = tmp_path / "checkpoint-799.pth"
    torch.save({"model": mae_to_videomae(ours)}, path)
    method, report = _finetune(tmp_path, path, **vm)
    net = method.net
    assert report.source == "videomae" and any("VideoMAE" in n for n in report.notes)
    assert "VideoMAE finetuning" in report.table()
    # the encoder's norm is not used: norm (fc_norm's part) stays at identity
    assert torch.equal(net.norm.weight, torch.ones_like(net.norm.weight))
    assert torch.equal(net.norm.bias, torch.zeros_like(net.norm.bias))
    assert not torch.equal(ours["backbone.norm.weight"], net.norm.weight)
    assert torch.equal(net.blocks[1].mlp.fc2.weight, ours["backbone.blocks.1.mlp.fc2.weight"])


def test_pyslowfast_mae_checkpoint_finetunes_as_mae_st(tmp_path):
    ours = _mae_state()
    path = tmp_path / "checkpoint_epoch_00400.pyth"
    torch.save({"epoch": 400, "model_state": mae_to_maskmvit(ours)}, path)
    method, report = _finetune(tmp_path, path)
    assert report.source == "maskmvit" and any("MAE-ST" in n for n in report.notes)
    assert torch.equal(method.net.norm.weight, ours["backbone.norm.weight"])


def test_videossl_supervised_checkpoint_initialises_supervised_and_finetune(tmp_path):
    cfg = load_config([], tiny_cfg_opts(**{"TASK": "supervised"}))
    src = _randomize(build_method(cfg), 6)
    path = tmp_path / "checkpoint_epoch_00005.pyth"
    torch.save({"epoch": 5, "resume_epoch": 5, "resume_iter": 0, "model_state": src.state_dict(),
                "cfg": cfg.dump()}, path)

    full = build_method(cfg)
    report = weights.initialise(full, {DEFAULT_ROLE: str(path)}, get_task("supervised"))[DEFAULT_ROLE]
    assert report.missing == [] and report.unexpected == []
    for k, v in src.state_dict().items():
        assert torch.equal(full.state_dict()[k], v), k

    ft = build_method(load_config([], tiny_cfg_opts(**{"TASK": "finetune"})))
    head0 = ft.net.head.projection.weight.clone()
    report = weights.initialise(ft, {DEFAULT_ROLE: str(path)}, get_task("finetune"))[DEFAULT_ROLE]
    conv = "net.s1.pathway0_stem.conv.weight"
    assert torch.equal(ft.state_dict()[conv], src.state_dict()[conv])
    assert torch.equal(ft.net.head.projection.weight, head0)  # heads are never taken for a finetune
