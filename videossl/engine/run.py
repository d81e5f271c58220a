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


def one_line(err: BaseException) -> str:
    """The user-facing line of an error (a DataLoader worker's error arrives with its traceback)."""
    lines = [ln for ln in str(err).strip().splitlines() if ln.strip()]
    if not lines:
        return type(err).__name__
    if len(lines) > 1 and "Traceback" in str(err):
        return lines[-1].split(": ", 1)[-1]
    return " ".join(ln.strip() for ln in lines)


def _job(cfg):
    try:
        run_task(cfg)
    except (NonFiniteLossError, FileNotFoundError, ValueError, RuntimeError) as err:
        # One clear line for the errors users cause (bad data, bad checkpoint, NaN loss).
        if du.is_main_process():
            print(f"videossl: error: {one_line(err)}", file=sys.stderr)
        raise SystemExit(1) from None


def run_job(cfg, init_method: str, launch_job) -> int:
    save_config(cfg)
    try:
        launch_job(cfg, _job, init_method)
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as err:  # noqa: BLE001 - a spawned child's error arrives wrapped
        print(f"videossl: error: {one_line(err)}", file=sys.stderr)
        return 1
    return 0
