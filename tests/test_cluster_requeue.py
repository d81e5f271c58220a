"""Cluster launches survive their time limit: signal mid-epoch -> checkpoint -> requeue -> exact resume.

Two launchers, each with 1 process and with ``NUM_GPUS 2`` (gloo):

* ``slurm/videossl.sbatch`` run by bash with stub ``srun`` (runs the node
  script here) and ``scontrol`` (records the requeue), SIGUSR1 sent to the
  batch shell as ``--signal=B:USR1`` does;
* ``tools/submit.py``'s job on submitit's local executor, SIGUSR2 sent to its
  tasks as SLURM does for submitit; submitit itself requeues.

The requeued run's per-iteration losses and final weights are bit-identical
to an uninterrupted ``run_net.py`` run.  Also: two shards x 1 process and
torchrun with 2 processes give the same losses as ``NUM_GPUS 2``.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from conftest import tiny_cfg_opts
from helpers.runs import assert_same_weights, final_weights, free_port, logged_losses

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_NET = os.path.join(ROOT, "tools", "run_net.py")
FINAL = "checkpoint_epoch_00002.pyth"
# torchrun sets OMP_NUM_THREADS=1 in its workers; CPU results depend on the thread count, so every run here uses 1.
THREADS = {"OMP_NUM_THREADS": "1"}
ENV = dict(os.environ, **THREADS)
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bash, /proc and POSIX signals")


def _opts(out_dir, **extra):
    """2 epochs x 4 iterations at a global batch of 4, no test; values with spaces ride along as one argument."""
    return tiny_cfg_opts(**{
        "TRAIN.DATASET": "synthetic", "TEST.ENABLE": False, "SYNTHETIC.NUM_CLASSES": 4,
        "SYNTHETIC.TRAIN_PER_CLASS": 4, "SYNTHETIC.TEST_PER_CLASS": 1, "SYNTHETIC.NUM_FRAMES": 16,
        "SYNTHETIC.SIZE": 32, "SOLVER.MAX_EPOCH": 2, "TRAIN.CHECKPOINT_PERIOD": 5, "MODEL.DROPOUT_RATE": 0.5,
        "DATA.TRAIN_JITTER_SCALES_RELATIVE": "[0.3, 1.0]", "OUTPUT_DIR": out_dir, **extra})


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Uninterrupted run_net.py runs, by process count: losses and final weights."""
    runs = {}
    for procs in (1, 2):
        out = str(tmp_path_factory.mktemp(f"reference{procs}"))
        cmd = [sys.executable, RUN_NET, "--init_method", f"tcp://127.0.0.1:{free_port()}"] + \
            _opts(out, NUM_GPUS=procs)
        subprocess.run(cmd, cwd=ROOT, env=ENV, check=True, capture_output=True, timeout=300)
        runs[procs] = (logged_losses(out), final_weights(out, FINAL))
        assert len(runs[procs][0]) == 8
    return runs


def _wait_for_iterations(out_dir, n, proc=None, timeout=200):
    """Block until rank 0 logged ``n`` training iterations."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(os.path.join(out_dir, "stdout.log")) and len(logged_losses(out_dir)) >= n:
            return
        assert proc is None or proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.05)
    raise AssertionError("training did not start")


def _assert_matches(out_dir, reference):
    losses, weights = reference
    assert logged_losses(out_dir) == losses
    assert_same_weights(final_weights(out_dir, FINAL), weights)


# ------------------------------------------------------------------ slurm/videossl.sbatch with stub commands
STUB_SRUN = """#!/bin/bash
# srun stub: one node; drop srun's own options, run the task here (exec: signals reach it directly)
while [[ "$1" == --* ]]; do shift; done
export SLURM_NODEID=0 SLURM_PROCID=0
exec "$@"
"""
STUB_SCONTROL = """#!/bin/bash
# scontrol stub: this machine is the only node; a requeue is recorded
case "$1" in
  show) echo 127.0.0.1 ;;
  requeue) echo "requeue $2" >> "$STUB_LOG" ;;
esac
"""


def _stub_env(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("srun", STUB_SRUN), ("scontrol", STUB_SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return dict(ENV, PATH=f"{bin_dir}:{os.environ['PATH']}", STUB_LOG=str(tmp_path / "stub.log"),
                SLURM_JOB_ID="4242", SLURM_JOB_NODELIST="node1", SLURM_NNODES="1", SLURM_SUBMIT_DIR=ROOT,
                PYTHON=sys.executable, VIDEOSSL_PORT=str(free_port()), PYTHONUNBUFFERED="1")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("procs", [1, 2])
def test_sbatch_template_requeues_on_the_time_limit_signal_and_resumes_exactly(tmp_path, reference, procs):
    out = str(tmp_path / "out")
    env = _stub_env(tmp_path)
    cmd = ["bash", os.path.join(ROOT, "slurm", "videossl.sbatch")] + _opts(out, NUM_GPUS=procs)
    job = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for_iterations(out, 2, job)
    job.send_signal(signal.SIGUSR1)  # what --signal=B:USR1@120 does 2 minutes before the limit
    log, _ = job.communicate(timeout=200)
    assert job.returncode == 143, log[-3000:]
    assert open(env["STUB_LOG"]).read() == "requeue 4242\n"
    with open(os.path.join(out, "config.yaml")) as f:  # the value with a space arrived as one argument
        assert yaml.safe_load(f)["DATA"]["TRAIN_JITTER_SCALES_RELATIVE"] == [0.3, 1.0]
    names = os.listdir(os.path.join(out, "checkpoints"))
    # one checkpoint, written on the signal: mid-epoch, or at the epoch boundary if the signal landed in the
    # epoch's last step; never the final one
    assert len(names) == 1 and names[0] != FINAL, names

    requeued = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert requeued.returncode == 0, requeued.stdout[-3000:]
    assert open(env["STUB_LOG"]).read() == "requeue 4242\n"  # finished: not requeued again
    _assert_matches(out, reference[procs])


def test_sbatch_template_does_not_requeue_a_cancelled_job(tmp_path):
    """scancel sends SIGTERM to the steps, not the time-limit SIGUSR1: checkpoint, exit 143, no requeue."""
    out = str(tmp_path / "out")
    env = _stub_env(tmp_path)
    cmd = ["bash", os.path.join(ROOT, "slurm", "videossl.sbatch")] + _opts(out, NUM_GPUS=1)
    job = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for_iterations(out, 2, job)
    job.send_signal(signal.SIGTERM)
    log, _ = job.communicate(timeout=200)
    assert job.returncode == 143, log[-3000:]
    assert not os.path.exists(env["STUB_LOG"])


# ------------------------------------------------------------------ submitit
def _children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except OSError:
                pass
    return kids


@pytest.mark.timeout(600)
@pytest.mark.parametrize("procs", [1, 2])
def test_submitit_requeues_on_its_preemption_signal_and_resumes_exactly(tmp_path, monkeypatch, reference, procs):
    submitit = pytest.importorskip("submitit")
    for key, value in THREADS.items():  # the local executor's tasks inherit this process's environment
        monkeypatch.setenv(key, value)
    sys.path.insert(0, ROOT)
    from tools.submit import build_executor, parse_args
    from videossl.engine.submitit_job import SubmititJob

    out = str(tmp_path / "out")
    args = parse_args(["--cfg", "x.yaml", "--cluster", "local", "--gpus-per-node", str(procs), "--time", "20",
                       "--folder", str(tmp_path / "submitit")])
    job = build_executor(args).submit(SubmititJob([], _opts(out), 1, procs, port=free_port()))
    _wait_for_iterations(out, 2)
    tasks = _children(job._process.pid)
    assert len(tasks) == procs, tasks
    for pid in tasks:  # SLURM signals every task of the step
        os.kill(pid, submitit.JobEnvironment._usr_sig())
    assert job.results() == [out] * procs  # submitit requeued the job and the requeued tasks finished it
    stdout = job.task(0).stdout() or ""
    assert "Requeued job" in stdout, stdout[-3000:]
    _assert_matches(out, reference[procs])


# ------------------------------------------------------------------ launchers agree
@pytest.mark.timeout(600)
def test_two_shards_and_torchrun_give_the_losses_of_num_gpus_2(tmp_path, reference):
    port = free_port()
    shards_out = str(tmp_path / "shards")
    # TRAIN.BATCH_SIZE is per machine (PySlowFast): 2 machines x 2 = the global batch 4 of NUM_GPUS 2
    shards = [subprocess.Popen([sys.executable, RUN_NET, "--shard_id", str(i), "--num_shards", "2", "--init_method",
                                f"tcp://127.0.0.1:{port}"] + _opts(shards_out, **{"TRAIN.BATCH_SIZE": 2}),
                               cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
              for i in range(2)]
    for shard in shards:
        _, err = shard.communicate(timeout=300)
        assert shard.returncode == 0, err[-3000:]
    assert logged_losses(shards_out) == reference[2][0]

    torchrun_out = str(tmp_path / "torchrun")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                          str(free_port()), RUN_NET] + _opts(torchrun_out, NUM_GPUS=2),
                         cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert logged_losses(torchrun_out) == reference[2][0]
    assert_same_weights(final_weights(torchrun_out, FINAL), reference[2][1])
