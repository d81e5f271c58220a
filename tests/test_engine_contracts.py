"""The engine's contracts: tasks, builders with overrides, method defaults, hooks' state, errors, and no cfg in the loop."""

import ast
import math
import os
import re

import pytest
import torch

from conftest import tiny_cfg_opts
from helpers.logs import Records
from videossl.config import load_config
from videossl.engine.evaluators.base import view_order
from videossl.engine.tasks import get_task
from videossl.engine.weights import init_checkpoints, parse_roles
from videossl.errors import InputError, VideosslError
from videossl.methods import DEFAULT_ROLE, Method, Progress
from videossl.models import build_backbone

PKG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "videossl")


def _sources(sub=""):
    root = os.path.join(PKG, sub)
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                yield os.path.relpath(path, PKG), open(path).read()


# ------------------------------------------------------------------ tasks
def test_no_task_string_comparison_outside_the_registry_and_compat():
    pattern = re.compile(r"TASK\s*(==|!=|\bin\b)|(==|!=)\s*\w*\.?TASK\b")
    offenders = [rel for rel, text in _sources() if pattern.search(text)
                 and rel not in ("engine/tasks.py", "config/compat.py")]
    assert offenders == []


def test_task_registry_drives_validation_and_compat():
    assert get_task("pretrain").evaluator("topk") == "knn"
    assert get_task("linear").evaluator("topk") == "topk"
    with pytest.raises(ValueError, match="TASK='detect' is not a task"):
        get_task("detect")
    cfg = load_config([], ["TASK", "ssl_eval", "MODEL.DETACH_FINAL_FC", "True"])
    assert cfg.TASK == "linear" and cfg.SSL.METHOD == "supervised"
    with pytest.raises(ValueError, match="no SSL method"):
        load_config([], ["TASK", "pretrain"])


# ------------------------------------------------------------------ builders with overrides
@pytest.mark.parametrize("arch,extra", [("slow", {"RESNET.DEPTH": 10, "RESNET.WIDTH_PER_GROUP": 4}),
                                        ("s3d", {}), ("r21d_vcop", {})])
def test_flow_backbone_through_an_override(arch, extra):
    cfg = load_config([], tiny_cfg_opts(**{"MODEL.ARCH": arch, **extra}))
    flow = build_backbone(cfg, in_channels=2)
    rgb = build_backbone(cfg)
    first = lambda net: next(m for m in net.modules() if isinstance(m, torch.nn.Conv3d))  # noqa: E731
    assert first(flow).in_channels == 2 and first(rgb).in_channels == 3
    assert cfg.DATA.INPUT_CHANNEL_NUM[0] == 3  # the config is not edited
    with torch.no_grad():
        out = flow.eval().forward_features(torch.randn(2, 2, 8, 64, 64))
    assert out.shape == (2, flow.feature_dim)
    with pytest.raises(ValueError, match="no argument 'in_chans' to override"):
        build_backbone(cfg, in_chans=2)


def test_dataset_override_replaces_one_argument(tmp_path):
    from videossl.data import build_dataset

    cfg = load_config([], tiny_cfg_opts(**{
        "TRAIN.DATASET": "synthetic", "TEST.DATASET": "synthetic", "SYNTHETIC.NUM_CLASSES": 2,
        "SYNTHETIC.TRAIN_PER_CLASS": 2, "SYNTHETIC.TEST_PER_CLASS": 2, "SYNTHETIC.NUM_FRAMES": 16,
        "SYNTHETIC.SIZE": 32, "TEST.NUM_SPATIAL_CROPS": 3, "TEST.NUM_ENSEMBLE_VIEWS": 2}))
    assert len(build_dataset(cfg, "test")) == 4 * 2 * 3
    assert len(build_dataset(cfg, "test", test_crops=1)) == 4 * 2
    with pytest.raises(ValueError, match="no argument 'crops'"):
        build_dataset(cfg, "test", crops=1)


# ------------------------------------------------------------------ the method contract
class _Linear(Method):
    def __init__(self):
        super().__init__()
        self.backbone = torch.nn.Linear(3, 2)

    def forward(self, batch):
        return {"loss": self.backbone(batch["x"]).pow(2).mean()}


def test_method_defaults_forward_and_backward_once_and_name_bad_roles():
    m = _Linear()
    calls = []
    out = m.train_step({"x": torch.ones(4, 3)}, lambda loss: (calls.append(float(loss)), loss.backward()), m)
    assert calls == [float(out["loss"])] and m.backbone.weight.grad is not None
    assert m.before_optimizer_step(Progress(0, 0, 0, 1, 1)) is True
    assert m.no_weight_decay_names() == set() and m.param_groups() is None
    assert m.init_targets() == {DEFAULT_ROLE: m}
    loaded = m.init_from({DEFAULT_ROLE: "a.pyth"}, lambda module, path: (module, path))
    assert loaded == {DEFAULT_ROLE: (m, "a.pyth")}
    with pytest.raises(ValueError, match="no initialisation role 'sampler'.*\\['model'\\]"):
        m.init_from({"sampler": "b.pyth"}, lambda module, path: None)


def test_init_from_roles_in_the_config(tmp_path):
    assert parse_roles(["query=a.pth", "sampler=b.pth"]) == {"query": "a.pth", "sampler": "b.pth"}
    with pytest.raises(InputError, match="'query' is not ROLE=PATH"):
        parse_roles(["query"])
    a, b = tmp_path / "a.pth", tmp_path / "b.pth"
    a.write_bytes(b"x")
    b.write_bytes(b"x")
    cfg = load_config([], ["TASK", "pretrain", "SSL.METHOD", "moco", "TRAIN.INIT_FROM", f"['query={a}', 'sampler={b}']"])
    assert init_checkpoints(cfg, get_task("pretrain")) == {"query": str(a), "sampler": str(b)}


# ------------------------------------------------------------------ evaluators
def test_view_order_sorts_any_number_of_clips_and_crops():
    g = torch.Generator().manual_seed(0)
    vid = torch.randint(0, 5, (300,), generator=g)
    clip = torch.randint(0, 20, (300,), generator=g)
    crop = torch.randint(0, 12, (300,), generator=g)  # >= 10 crops broke the old vid*1e5+clip*10+crop key
    idx = view_order(vid, clip, crop)
    got = [(int(vid[i]), int(clip[i]), int(crop[i])) for i in idx]
    assert got == sorted(set(zip(vid.tolist(), clip.tolist(), crop.tolist())))


# ------------------------------------------------------------------ nothing in the loop reads cfg
def test_the_loop_and_its_hooks_read_no_config():
    tree = ast.parse(open(os.path.join(PKG, "engine", "loop.py")).read())
    trainer = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Trainer")
    names = {n.id for n in ast.walk(trainer) if isinstance(n, ast.Name)}
    attrs = {n.attr for n in ast.walk(trainer) if isinstance(n, ast.Attribute)}
    assert "cfg" not in names and "cfg" not in attrs
    for rel, text in _sources("engine/hooks"):
        assert not re.search(r"\bcfg\b", text), rel


# ------------------------------------------------------------------ errors
def test_user_errors_are_one_line_and_bugs_keep_their_traceback(monkeypatch, capsys):
    from videossl.engine import run

    def bad_input(cfg):
        raise InputError("checkpoint x.pyth does not fit")

    monkeypatch.setattr(run, "run_task", bad_input)
    with pytest.raises(SystemExit) as exc:
        run._job(None)
    assert exc.value.code == 1
    assert capsys.readouterr().err.strip() == "videossl: error: checkpoint x.pyth does not fit"

    def bug(cfg):
        raise KeyError("a bug")

    monkeypatch.setattr(run, "run_task", bug)
    with pytest.raises(KeyError):
        run._job(None)
    assert issubclass(InputError, ValueError) and issubclass(InputError, VideosslError)


class _Pair(Method):
    MOMENTUM_PAIRS = (("online", "copy"),)

    def __init__(self):
        super().__init__()
        self.online = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
        self.copy = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
        self.probe = torch.nn.BatchNorm1d(3)

    def frozen_modules(self):
        return ["probe"]


def test_declared_momentum_pairs_and_frozen_modules():
    m = _Pair()
    assert m.checkpoint_layout().momentum == ("copy.",)
    m.momentum_update(0.0, copy=True)
    assert torch.equal(m.copy[0].weight, m.online[0].weight)
    before = m.copy[0].weight.clone()
    with torch.no_grad():
        m.online[0].weight.add_(1.0)
    m.momentum_update(0.75)
    torch.testing.assert_close(m.copy[0].weight, 0.75 * before + 0.25 * m.online[0].weight)
    m.train()
    assert m.online.training and m.copy.training and not m.probe.training  # copies keep train-mode BN


def test_checkpoints_hold_the_schedule_and_every_hooks_state(tmp_path):
    from videossl.engine.run import run_task
    from videossl.utils.logging import read_json_stats

    cfg = load_config([], tiny_cfg_opts(**{
        "TASK": "supervised", "TRAIN.DATASET": "synthetic", "TEST.ENABLE": False, "SYNTHETIC.NUM_CLASSES": 4,
        "SYNTHETIC.TRAIN_PER_CLASS": 3, "SYNTHETIC.TEST_PER_CLASS": 1, "SYNTHETIC.NUM_FRAMES": 16,
        "SYNTHETIC.SIZE": 32, "SOLVER.MAX_EPOCH": 1, "TRAIN.CHECKPOINT_ITER_PERIOD": 2, "OUTPUT_DIR": str(tmp_path)}))
    run_task(cfg)
    # the mid-epoch checkpoint (iteration 2) was replaced by the epoch's: it holds the state after all 3 steps
    ckpt = torch.load(tmp_path / "checkpoints" / "checkpoint_epoch_00001.pyth", weights_only=False)
    losses = [s["loss"] for s in read_json_stats(str(tmp_path / "stdout.log"), "train_iter")]
    assert len(losses) == 3  # 12 videos / batch 4
    assert ckpt["scheduler_state"]["policy"] == cfg.SOLVER.LR_POLICY
    assert ckpt["scheduler_state"]["max_epoch"] == 1 and ckpt["scheduler_state"]["base_lr"] == cfg.SOLVER.BASE_LR
    hooks = ckpt["hooks"]
    assert hooks["loss_guard"]["prev_loss"] == pytest.approx(losses[2], rel=1e-5)  # json_stats keeps 6 digits
    assert hooks["data_health"] == {"epoch": 0, "failed": 0, "seen": 12}  # three batches of 4
    assert set(hooks) == {"loss_guard", "logger", "data_health", "preemption", "checkpointer"}


def test_warmup_longer_than_the_run_warns_and_runs_as_pyslowfast():
    from videossl.config import compute_scale
    from videossl.engine.lr_schedule import build_lr_schedule

    with Records() as records:
        cfg = load_config([], ["SOLVER.MAX_EPOCH", "1", "SOLVER.WARMUP_EPOCHS", "10.0", "SOLVER.BASE_LR", "0.1",
                               "SOLVER.WARMUP_START_LR", "0.0", "SOLVER.LR_POLICY", "cosine"])
    assert "SOLVER.WARMUP_EPOCHS=10.0 exceeds SOLVER.MAX_EPOCH=1" in records.text
    # PySlowFast's get_lr_at_epoch: linear from WARMUP_START_LR to the policy's LR at WARMUP_EPOCHS
    schedule = build_lr_schedule(cfg, compute_scale(cfg, 1))
    end = 0.1 * (math.cos(math.pi * 10.0 / 1) + 1) / 2
    assert schedule.lr_at(0.5) == pytest.approx(end * 0.5 / 10.0)
