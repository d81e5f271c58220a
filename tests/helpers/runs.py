"""Running ``tools/run_net.py`` in a test and reading back what the run logged and saved."""

import json
import os
import socket

import torch


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def logged_losses(out_dir: str) -> dict:
    """``(epoch, iter) -> loss`` from ``OUTPUT_DIR/stdout.log``; an iteration run twice keeps its last value."""
    losses = {}
    with open(os.path.join(out_dir, "stdout.log")) as f:
        for line in f:
            if "json_stats:" in line:
                stats = json.loads(line.split("json_stats:", 1)[1])
                if stats["_type"] == "train_iter":
                    losses[(stats["epoch"], stats["iter"])] = stats["loss"]
    return losses


def final_weights(out_dir: str, name: str) -> dict:
    """``model_state`` of ``OUTPUT_DIR/checkpoints/<name>``."""
    return torch.load(os.path.join(out_dir, "checkpoints", name), map_location="cpu", weights_only=False)["model_state"]


def assert_same_weights(a: dict, b: dict) -> None:
    """Bit-identical state dicts (same keys, ``torch.equal`` tensors)."""
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
