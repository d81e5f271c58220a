"""Robustness end to end: ``tools/run_net.py`` trains through a dataset with corrupt, truncated and
zero-length files, reports how many it skipped in the epoch stats, and stops with one clear error when
most files are bad."""

import json
import os
import subprocess
import sys

import av
import torch

from conftest import tiny_cfg_opts
from videossl.data.fixtures import make_kinetics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cut_without_codec_parameters(data: bytes, path: str) -> bytes:
    """A prefix of ``data`` that opens with a video stream but no codec parameters (the header is cut
    mid-way); the first half if no such cut exists with this FFmpeg."""
    for k in range(150, 190):
        cut = data[: len(data) * k // 200]
        with open(path, "wb") as f:
            f.write(cut)
        try:
            with av.open(path) as c:
                if c.streams.video and c.streams.video[0].codec_context is None:
                    return cut
        except av.error.FFmpegError:
            pass
    return data[: len(data) // 2]


def _dataset(root, bad):
    """16 good tiny videos in the Kinetics layout, then the first ``len(bad)`` odd indices broken."""
    make_kinetics(root, labels=tuple(k % 3 for k in range(16)), num_frames=24, splits=("train",))
    videos = os.path.join(root, "videos")
    good = open(os.path.join(videos, "train_0.mp4"), "rb").read()
    names = []
    for kind, k in zip(bad, range(1, 16, 2)):
        path = os.path.join(videos, f"train_{k}.mp4")
        names.append(os.path.basename(path))
        if kind == "corrupt":
            data = bytes((b * 97 + 13) % 256 for b in good)  # right size, garbage bytes
        elif kind == "truncated":
            data = good[: len(good) // 2]
        elif kind == "header_cut":
            data = _cut_without_codec_parameters(good, path)
        else:  # zero-length
            data = b""
        with open(path, "wb") as f:
            f.write(data)
    return names


def _run(root, out_dir, **extra):
    opts = tiny_cfg_opts(**{
        "TRAIN.DATASET": "kinetics", "DATA.PATH_TO_DATA_DIR": root, "MODEL.NUM_CLASSES": 3,
        "TEST.ENABLE": "False", "SOLVER.MAX_EPOCH": 1, "OUTPUT_DIR": out_dir, **extra,
    })
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "run_net.py")] + opts, cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_training_skips_bad_files_and_reports_the_count(tmp_path):
    root, out = str(tmp_path / "k400"), str(tmp_path / "out")
    bad = _dataset(root, ["corrupt", "truncated", "header_cut", "empty"])
    assert os.path.getsize(os.path.join(root, "videos", bad[3])) == 0
    proc = _run(root, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = open(os.path.join(out, "stdout.log")).read()
    stats = [json.loads(line.split("json_stats:", 1)[1]) for line in log.splitlines() if "json_stats:" in line]
    epoch = [s for s in stats if s["_type"] == "train_epoch"]
    iters = [s for s in stats if s["_type"] == "train_iter"]
    assert len(epoch) == 1 and len(iters) == 4  # 16 samples / batch 4: the epoch ran to its end
    # every index of the epoch is drawn once, so each bad file fails at least once (retries may
    # land on a bad file again, so the count can be higher)
    assert epoch[0]["samples"] == 16
    assert 4 <= epoch[0]["skipped_videos"] <= 16
    warned = [line for line in log.splitlines() if "skipping unreadable video" in line]
    for name in bad:  # each bad file is named, once
        assert sum(name in line for line in warned) == 1, (name, warned)
    assert len(warned) == 4
    assert os.path.exists(os.path.join(out, "checkpoints", "checkpoint_epoch_00001.pyth"))


def test_training_stops_with_a_clear_error_when_most_files_are_bad(tmp_path):
    root, out = str(tmp_path / "k400"), str(tmp_path / "out")
    _dataset(root, ["corrupt", "empty", "truncated", "corrupt", "empty", "truncated", "corrupt", "empty"])
    for k in range(0, 16, 2)[1:]:  # and most even ones: 15 of 16 bad
        os.remove(os.path.join(root, "videos", f"train_{k}.mp4"))
    proc = _run(root, out, **{"DATA_LOADER.MAX_RETRIES": 200})
    assert proc.returncode == 1
    assert "MAX_FAILED_FRACTION" in proc.stderr and "check_dataset.py" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not os.path.exists(os.path.join(out, "checkpoints", "checkpoint_epoch_00001.pyth"))


def _failing_on_one_rank(rank, world, init_file, out_dir):
    """Rank 1's videos all fail, rank 0's all decode: both ranks must stop at the same step."""
    from types import SimpleNamespace

    import torch.distributed as dist

    from videossl.engine.hooks import DataHealth
    from videossl.errors import DataError

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        trainer = SimpleNamespace(epoch=0, iters_this_epoch=10, device=torch.device("cpu"),
                                  settings=SimpleNamespace(global_batch=4 * world, max_epoch=1))
        hook = DataHealth(max_fraction=0.25)
        hook.before_epoch(trainer)
        steps = 0
        try:
            for _ in range(10):
                trainer.batch = {"label": torch.zeros(4, dtype=torch.long),
                                 "num_failed": torch.full((4,), 4 * rank, dtype=torch.long)}
                hook.before_step(trainer)
                steps += 1
        except DataError as err:
            with open(os.path.join(out_dir, f"rank{rank}.txt"), "w") as f:
                f.write(f"{steps} {err}")
    finally:
        dist.destroy_process_group()


def test_too_many_failures_on_one_rank_stop_every_rank_at_the_same_step(tmp_path):
    from conftest import spawn_two_ranks

    spawn_two_ranks(_failing_on_one_rank, str(tmp_path))
    results = [(tmp_path / f"rank{r}.txt").read_text() for r in range(2)]
    # 16 failures a step on rank 1 against 10 x 8 samples: 16/96 <= 0.25 after one step, 32/112 > 0.25 after two
    assert results[0] == results[1] and results[0].startswith("1 32 videos failed")
