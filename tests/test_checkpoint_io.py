import os

import pytest
import torch

from videossl.utils import checkpoint as cu


def test_names_sort_by_epoch_then_iteration(tmp_path):
    d = cu.checkpoint_dir(str(tmp_path))
    os.makedirs(d)
    for epoch, it in [(1, 0), (1, 7), (2, 0), (1, 12)]:
        open(os.path.join(d, cu.checkpoint_name("ssl", epoch, it)), "w").close()
    open(os.path.join(d, cu.checkpoint_name("", 9, 0)), "w").close()  # other task: ignored
    assert os.path.basename(cu.last_checkpoint(str(tmp_path), "ssl")) == "ssl_checkpoint_epoch_00002.pyth"
    os.remove(os.path.join(d, "ssl_checkpoint_epoch_00002.pyth"))
    assert cu.last_checkpoint(str(tmp_path), "ssl").endswith("ssl_checkpoint_epoch_00001_iter_0000012.pyth")
    assert cu.last_checkpoint(str(tmp_path), "").endswith("/checkpoint_epoch_00009.pyth")
    assert cu.last_checkpoint(str(tmp_path / "nothing"), "ssl") is None


def test_atomic_save_leaves_no_partial_file(tmp_path, monkeypatch):
    path = str(tmp_path / "checkpoints" / "a.pyth")
    cu.save_atomic({"x": torch.ones(3)}, path)
    assert torch.equal(cu.load_file(path)["x"], torch.ones(3))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(RuntimeError):
        cu.save_atomic({"x": torch.zeros(3)}, path)
    # the previous file is intact (the failed write went to a temp file)
    assert torch.equal(cu.load_file(path)["x"], torch.ones(3))


def test_unreadable_or_missing_checkpoint_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pyth"):
        cu.load_file(str(tmp_path / "nope.pyth"))
    bad = tmp_path / "bad.pyth"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.pyth is unreadable"):
        cu.load_file(str(bad))


def test_keep_last_n_removes_only_this_tasks_oldest_epoch_checkpoints(tmp_path):
    from types import SimpleNamespace

    from videossl.engine.hooks import Checkpointer

    other = os.path.join(cu.checkpoint_dir(str(tmp_path)), "checkpoint_epoch_00001.pyth")  # another task's file
    cu.save_atomic({}, other)
    checkpointer = Checkpointer(str(tmp_path), "ssl", period=1, iter_period=2, keep_last=2)
    trainer = SimpleNamespace(state_dict=lambda epoch, next_iter: {"epoch": epoch, "iter": next_iter})
    for epoch in range(4):
        checkpointer.save(trainer, epoch, 2)  # mid-epoch
        checkpointer.save(trainer, epoch + 1, 0)  # end of epoch
    names = sorted(os.listdir(cu.checkpoint_dir(str(tmp_path))))
    # (an epoch checkpoint also replaces the mid-epoch one)
    assert names == ["checkpoint_epoch_00001.pyth", "ssl_checkpoint_epoch_00003.pyth", "ssl_checkpoint_epoch_00004.pyth"]
    assert torch.load(os.path.join(cu.checkpoint_dir(str(tmp_path)), names[2]), weights_only=False)["epoch"] == 4


def test_keep_last_zero_keeps_every_epoch_checkpoint(tmp_path):
    from types import SimpleNamespace

    from videossl.engine.hooks import Checkpointer

    checkpointer = Checkpointer(str(tmp_path), "", period=1)
    trainer = SimpleNamespace(state_dict=lambda epoch, next_iter: {})
    for epoch in range(1, 4):
        checkpointer.save(trainer, epoch, 0)
    assert len(os.listdir(cu.checkpoint_dir(str(tmp_path)))) == 3
