"""Stop signals with NUM_GPUS 2 (two gloo processes spawned by the launcher).

Whichever process gets SIGUSR1 -- the launcher alone, the ranks alone, or the
whole process group -- the ranks agree after the current step, write one
mid-epoch checkpoint and exit; the launcher exits 143 (130 for SIGINT) and
no rank outlives it.  Rerunning the command finishes the run.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import tiny_cfg_opts
from helpers.runs import free_port, logged_losses

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FINAL = "checkpoint_epoch_00002.pyth"  # the end of the run (2 epochs)


def _cmd(out_dir, port):
    return [sys.executable, os.path.join(ROOT, "tools", "run_net.py"), "--init_method", f"tcp://127.0.0.1:{port}"] + \
        tiny_cfg_opts(**{
            "NUM_GPUS": 2, "TRAIN.DATASET": "synthetic", "TEST.ENABLE": False, "SYNTHETIC.NUM_CLASSES": 4,
            "SYNTHETIC.TRAIN_PER_CLASS": 4, "SYNTHETIC.TEST_PER_CLASS": 1, "SYNTHETIC.NUM_FRAMES": 16,
            "SYNTHETIC.SIZE": 32, "SOLVER.MAX_EPOCH": 2, "TRAIN.CHECKPOINT_PERIOD": 5, "OUTPUT_DIR": out_dir})


def _ranks(launcher_pid):
    """PIDs of the launcher's spawned ranks (children running multiprocessing's spawn entry point)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if ppid == launcher_pid and "spawn_main" in cmdline:
            pids.append(int(entry))
    return pids


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.timeout(400)
@pytest.mark.parametrize("target,sig,code", [
    ("launcher", signal.SIGUSR1, 143), ("ranks", signal.SIGUSR1, 143), ("group", signal.SIGUSR1, 143),
    ("group", signal.SIGINT, 130)])
def test_a_signal_to_any_process_checkpoints_and_exits_with_the_documented_status(tmp_path, target, sig, code):
    out = str(tmp_path / "run")
    cmd = _cmd(out, free_port())
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    seen, ranks, lines = 0, [], []
    for line in proc.stdout:  # rank 0 logs each iteration; signal after the second
        lines.append(line)
        seen += '"_type": "train_iter"' in line
        if seen == 2:
            ranks = _ranks(proc.pid)
            assert len(ranks) == 2, ranks
            if target == "launcher":
                os.kill(proc.pid, sig)
            elif target == "ranks":
                for pid in ranks:
                    os.kill(pid, sig)
            else:
                os.killpg(proc.pid, sig)
            break
    rest, _ = proc.communicate(timeout=180)
    log = "".join(lines) + rest
    assert proc.returncode == code, log[-3000:]
    assert f"stopped by a signal, exit {code}" in log
    names = os.listdir(os.path.join(out, "checkpoints"))
    # one checkpoint, written on the signal: mid-epoch, or at the epoch boundary if the signal landed in the
    # epoch's last step; never the final one
    assert len(names) == 1 and names[0] != FINAL, names
    deadline = time.time() + 10
    while any(_alive(pid) for pid in ranks) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in ranks), "a rank outlived its launcher"
    if target == "group" and sig == signal.SIGUSR1:  # the rerun resumes and finishes the run
        cmd = _cmd(out, free_port())
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, timeout=200)
        assert len(logged_losses(out)) == 8  # 2 epochs x 4 iterations


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
@pytest.mark.timeout(300)
def test_ranks_of_a_killed_launcher_checkpoint_and_exit(tmp_path):
    """kill -9 of the launcher cannot be forwarded: the kernel sends the ranks SIGTERM instead."""
    out = str(tmp_path / "run")
    proc = subprocess.Popen(_cmd(out, free_port()), cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = 0
    for line in proc.stdout:
        seen += '"_type": "train_iter"' in line
        if seen == 2:
            ranks = _ranks(proc.pid)
            proc.kill()
            break
    proc.wait()
    deadline = time.time() + 120
    while any(_alive(pid) for pid in ranks) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in ranks), "ranks orphaned"
    names = os.listdir(os.path.join(out, "checkpoints"))
    # one checkpoint, written on the signal: mid-epoch, or at the epoch boundary if the signal landed in the
    # epoch's last step; never the final one
    assert len(names) == 1 and names[0] != FINAL, names


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGUSR1, 143), (signal.SIGUSR2, 143),
                                      (signal.SIGINT, 130)])
def test_a_stop_signal_outside_the_training_loop_exits_at_once(sig, code):
    from videossl.engine.hooks.preemption import Preempted, exit_on_stop_signals, received_signal

    before = signal.getsignal(sig)
    with pytest.raises(Preempted) as exc:
        with exit_on_stop_signals():
            os.kill(os.getpid(), sig)
            time.sleep(5)  # the handler raises before this returns
    assert exc.value.code == code and received_signal() == sig
    assert signal.getsignal(sig) is before  # the previous handler is back


def test_a_forked_child_ignores_the_parents_stop_handler():
    from videossl.engine.hooks.preemption import exit_on_stop_signals

    with exit_on_stop_signals():
        pid = os.fork()
        if pid == 0:  # a DataLoader worker: the signal must not raise here
            try:
                os.kill(os.getpid(), signal.SIGUSR1)
                time.sleep(0.2)
            finally:
                os._exit(7)
        _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 7
