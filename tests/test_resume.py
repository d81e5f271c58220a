"""kill -9 in the middle of training, resume, and get the same run.

The interrupted-and-resumed run must produce the same per-iteration losses
and bit-identical final weights as an uninterrupted run (CPU).
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import tiny_cfg_opts
from helpers.runs import assert_same_weights, final_weights, logged_losses

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cmd(out_dir):
    opts = tiny_cfg_opts(**{
        "TRAIN.DATASET": "synthetic", "TEST.DATASET": "synthetic", "TEST.ENABLE": "False",
        "SYNTHETIC.NUM_CLASSES": 4, "SYNTHETIC.TRAIN_PER_CLASS": 4, "SYNTHETIC.TEST_PER_CLASS": 1,
        "SYNTHETIC.NUM_FRAMES": 16, "SYNTHETIC.SIZE": 32, "MODEL.DROPOUT_RATE": 0.5,
        "SOLVER.MAX_EPOCH": 2, "SOLVER.BASE_LR": 0.05, "TRAIN.CHECKPOINT_ITER_PERIOD": 1,
        "TRAIN.CHECKPOINT_PERIOD": 1, "OUTPUT_DIR": out_dir,
    })
    return [sys.executable, os.path.join(ROOT, "tools", "run_net.py")] + opts


@pytest.mark.timeout(300)
def test_kill_and_resume_is_exact(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    ref_dir, run_dir = str(tmp_path / "ref"), str(tmp_path / "run")
    subprocess.run(_cmd(ref_dir), check=True, env=env, cwd=ROOT, capture_output=True)

    proc = subprocess.Popen(_cmd(run_dir), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ckpt_dir = os.path.join(run_dir, "checkpoints")
    deadline = time.time() + 200
    # Kill once training is well under way: past the first epoch checkpoint.
    while time.time() < deadline and proc.poll() is None:
        names = os.listdir(ckpt_dir) if os.path.isdir(ckpt_dir) else []
        if any("epoch_00001_iter" in n for n in names):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not os.path.exists(os.path.join(ckpt_dir, "checkpoint_epoch_00002.pyth"))

    subprocess.run(_cmd(run_dir), check=True, env=env, cwd=ROOT, capture_output=True)
    ref_losses, run_losses = logged_losses(ref_dir), logged_losses(run_dir)
    assert len(ref_losses) == 8
    assert run_losses == ref_losses
    name = "checkpoint_epoch_00002.pyth"
    assert_same_weights(final_weights(ref_dir, name), final_weights(run_dir, name))
    with open(os.path.join(run_dir, "stdout.log")) as f:
        assert "resumed from" in f.read()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("sig,code", [(signal.SIGUSR1, 143), (signal.SIGINT, 130)])
def test_preemption_signal_checkpoints_then_resumes(tmp_path, sig, code):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    run_dir = str(tmp_path / "run")
    cmd = _cmd(run_dir) + ["TRAIN.CHECKPOINT_ITER_PERIOD", "0", "TRAIN.CHECKPOINT_PERIOD", "5"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen_iters = 0
    for line in proc.stdout:  # wait for the second logged iteration, then preempt
        seen_iters += '"_type": "train_iter"' in line
        if seen_iters == 2:
            proc.send_signal(sig)
            break
    proc.communicate(timeout=120)
    assert proc.returncode == code  # 143 preempted (requeue), 130 Ctrl-C
    names = os.listdir(os.path.join(run_dir, "checkpoints"))
    assert len(names) == 1 and "_iter_" in names[0], names  # written on the signal, mid-epoch
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True)
    assert len(logged_losses(run_dir)) == 8
