"""What ``tools/run_net.py`` runs once the config is loaded: save it, launch, report errors."""

import os
import sys

from ..utils import distributed as du
from .trainer import NonFiniteLossError, run_task


def save_config(cfg) -> str:
    """Write the frozen, merged config to ``OUTPUT_DIR/config.yaml``."""
    os.makedirs(cfg.OUTPUT_DIR, exist_ok=True)
    path = os.path.join(cfg.OUTPUT_DIR, "config.yaml")
    with open(path, "w") as f:
        f.write(cfg.dump())
    return path


def _job(cfg):
    try:
        run_task(cfg)
    except (NonFiniteLossError, FileNotFoundError, ValueError, RuntimeError) as err:
        # One clear line for the errors users cause (bad data, bad checkpoint, NaN loss).
        if du.is_main_process():
            print(f"videossl: error: {err}", file=sys.stderr)
        raise SystemExit(1) from None


def run_job(cfg, init_method: str, launch_job) -> int:
    save_config(cfg)
    try:
        launch_job(cfg, _job, init_method)
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as err:  # noqa: BLE001 - a spawned child's error arrives wrapped
        msg = str(err).strip().splitlines()
        print(f"videossl: error: {msg[-1] if msg else err}", file=sys.stderr)
        return 1
    return 0
