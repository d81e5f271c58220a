"""Bad input and interrupted runs: one clear line, a non-zero exit, nothing lost (docs/reliability.md, one test a row)."""

import errno
import os
import sys
from types import SimpleNamespace

import pytest
import torch

from conftest import tiny_cfg_opts
from helpers.logs import Records
from videossl.config import load_config
from videossl.errors import DataError
from videossl.utils import checkpoint as cu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, ROOT)

SYNTH = {"TRAIN.DATASET": "synthetic", "TEST.ENABLE": False, "SYNTHETIC.NUM_CLASSES": 4,
         "SYNTHETIC.TRAIN_PER_CLASS": 3, "SYNTHETIC.TEST_PER_CLASS": 1, "SYNTHETIC.NUM_FRAMES": 16,
         "SYNTHETIC.SIZE": 32}


def _run_net(argv, capsys):
    import run_net

    code = run_net.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


@pytest.mark.parametrize("text,message", [
    ("SOLVER:\n  BASE_LR: [0.1\n", "not valid YAML at line 3, column 1"),
    ("- a\n- b\n", "must be a mapping of KEY: value, not a list"),
])
def test_a_bad_yaml_file_is_one_line(tmp_path, capsys, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, err = _run_net(["--cfg", str(path)], capsys)
    assert code == 2 and len(err) == 1 and str(path) in err[0] and message in err[0]


def test_an_unwritable_output_dir_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, err = _run_net(tiny_cfg_opts(OUTPUT_DIR=str(blocker / "out")), capsys)
    assert code == 1 and len(err) == 1 and "is not writable" in err[0] and str(blocker / "out") in err[0]


def test_a_label_outside_num_classes_is_named_before_training(tmp_path, capsys):
    code, err = _run_net(tiny_cfg_opts(**SYNTH, **{"MODEL.NUM_CLASSES": 2, "OUTPUT_DIR": str(tmp_path)}), capsys)
    assert code == 1 and len(err) == 1
    assert "outside MODEL.NUM_CLASSES=2" in err[0] and ".mp4 has label" in err[0]
    assert not os.path.exists(tmp_path / "checkpoints")


def test_a_full_disk_names_the_file_and_leaves_no_partial_file(tmp_path, monkeypatch):
    path = str(tmp_path / "checkpoints" / "checkpoint_epoch_00001.pyth")
    cu.save_atomic({"a": 1}, path)

    def full_disk(obj, f):
        f.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cu.torch, "save", full_disk)
    with pytest.raises(DataError, match=r"could not write checkpoint .*epoch_00001.pyth: No space left on device "
                                        r"\(ENOSPC\); the partial file was removed"):
        cu.save_atomic({"a": 2}, path)
    assert os.listdir(tmp_path / "checkpoints") == ["checkpoint_epoch_00001.pyth"]
    assert torch.load(path)["a"] == 1  # the previous checkpoint is intact


def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous(tmp_path):
    from videossl.engine.run import run_task

    opts = {**SYNTH, "MODEL.NUM_CLASSES": 4, "TASK": "supervised", "OUTPUT_DIR": str(tmp_path),
            "TRAIN.CHECKPOINT_PERIOD": 1}
    run_task(load_config([], tiny_cfg_opts(**opts, **{"SOLVER.MAX_EPOCH": 2})))
    newest = tmp_path / "checkpoints" / "checkpoint_epoch_00002.pyth"
    newest.write_bytes(b"truncated")
    run_task(load_config([], tiny_cfg_opts(**opts, **{"SOLVER.MAX_EPOCH": 3})))
    log = (tmp_path / "stdout.log").read_text()
    assert f"cannot resume from {newest}" in log
    assert "checkpoint_epoch_00001.pyth at epoch 1 iteration 0" in log
    assert torch.load(tmp_path / "checkpoints" / "checkpoint_epoch_00003.pyth", weights_only=False)["epoch"] == 3


def test_every_epoch_boundary_is_saved_when_iteration_checkpoints_are_on(tmp_path):
    from videossl.engine.hooks import Checkpointer

    trainer = SimpleNamespace(epoch=0, iters_this_epoch=3, settings=SimpleNamespace(max_epoch=5),
                              last_checkpoint=None, state_dict=lambda e, i: {"resume_epoch": e, "resume_iter": i})
    Checkpointer(str(tmp_path), "", period=5, iter_period=2).after_epoch(trainer)
    path = cu.last_checkpoint(str(tmp_path))
    assert os.path.basename(path) == "checkpoint_epoch_00000_iter_0000003.pyth"  # after epoch 1 of 5 (period 5)
    state = torch.load(path)
    assert (state["resume_epoch"], state["resume_iter"]) == (1, 0)
    Checkpointer(str(tmp_path), "", period=5, iter_period=0).after_epoch(trainer)  # off: nothing more written
    assert os.listdir(tmp_path / "checkpoints") == ["checkpoint_epoch_00000_iter_0000003.pyth"]


def test_a_checkpoint_that_mostly_does_not_fit_warns(tmp_path):
    from videossl.engine import weights
    from videossl.engine.tasks import get_task
    from videossl.methods import DEFAULT_ROLE, build_method

    wide = build_method(load_config([], tiny_cfg_opts(**{"TASK": "supervised", "RESNET.WIDTH_PER_GROUP": 8})))
    path = tmp_path / "wide.pyth"
    torch.save({"model_state": wide.net.state_dict()}, path)
    narrow = build_method(load_config([], tiny_cfg_opts(**{"TASK": "supervised"})))
    with Records() as records:
        weights.initialise(narrow, {DEFAULT_ROLE: str(path)}, get_task("supervised"))
    assert "do not fit the model's shapes" in records.text and "MODEL.ARCH" in records.text


def test_num_gpus_without_cuda_says_it_runs_cpu_processes(monkeypatch):
    from videossl.engine import launch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.setattr(launch, "spawn_and_wait", lambda *a, **k: None)
    cfg = load_config([], tiny_cfg_opts(**{"NUM_GPUS": 2}))
    with Records() as records:
        launch.launch_job(cfg, lambda c: None)
    assert "NUM_GPUS=2 on a machine without CUDA: 2 CPU processes on gloo" in records.text



def test_tensorboard_purges_the_steps_after_a_resume(tmp_path, monkeypatch):
    import torch.utils.tensorboard as tb

    from videossl.engine.hooks import TrainLogger

    opened = []

    class Writer:
        def __init__(self, log_dir, purge_step=None):
            opened.append((log_dir, purge_step))

        def flush(self):
            pass

    monkeypatch.setattr(tb, "SummaryWriter", Writer)
    hook = TrainLogger(1, str(tmp_path / "tb"))
    for global_iter in (5, 0):  # resumed after 5 steps; a fresh run
        trainer = SimpleNamespace(global_iter=global_iter)
        hook.before_train(trainer)
        assert isinstance(trainer.tensorboard, Writer)
    assert opened == [(str(tmp_path / "tb"), 5), (str(tmp_path / "tb"), None)]


@pytest.mark.parametrize("tool,argv,message", [
    ("check_dataset", ["--dir", "{missing}"], "no such folder: {missing}"),
    ("check_dataset", ["--dir", "{empty}"], "no videos (.mp4"),
    ("prepare_resize", ["{missing}", "{out}"], "no such folder: {missing}"),
    ("prepare_resize", ["{empty}", "{out}"], "no videos (.mp4"),
    ("prepare_frames", ["{empty}", "{out}"], "no videos (.mp4"),
    ("build_splits", ["--folders", "{missing}", "--out", "{out}"], "no such folder: {missing}"),
    ("visualize_mae", ["--cfg", "{missing}.yaml", "--checkpoint", "x.pyth", "--video", "v.mp4", "--out", "{out}"],
     "config file not found: {missing}.yaml"),
])
def test_tools_given_a_missing_or_empty_input_say_so_in_one_line(tmp_path, capsys, tool, argv, message):
    import importlib

    from tools.cli import run_main

    paths = {"missing": str(tmp_path / "missing"), "empty": str(tmp_path / "empty"), "out": str(tmp_path / "out")}
    os.makedirs(paths["empty"])
    module = importlib.import_module(f"tools.{tool}")
    code = run_main(tool, module.main, [a.format(**paths) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith(tool) and message.format(**paths) in err[0]
