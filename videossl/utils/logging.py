"""Logging: rank-0 console + ``OUTPUT_DIR/stdout.log``, PySlowFast ``json_stats`` lines."""

import json
import logging
import math
import os
import sys

from . import distributed as du

_LOGGER_NAME = "videossl"


def setup_logging(output_dir: str = "") -> logging.Logger:
    """Configure the ``videossl`` logger: INFO on rank 0 (stdout + stdout.log), ERROR elsewhere."""
    logger = logging.getLogger(_LOGGER_NAME)
    logger.handlers.clear()
    logger.propagate = False
    fmt = logging.Formatter("[%(asctime)s %(filename)s:%(lineno)d] %(message)s", "%m/%d %H:%M:%S")
    if du.is_main_process():
        logger.setLevel(logging.INFO)
        console = logging.StreamHandler(sys.stdout)
        console.setFormatter(fmt)
        logger.addHandler(console)
        if output_dir:
            os.makedirs(output_dir, exist_ok=True)
            fh = logging.FileHandler(os.path.join(output_dir, "stdout.log"))
            fh.setFormatter(fmt)
            logger.addHandler(fh)
    else:
        logger.setLevel(logging.ERROR)
        logger.addHandler(logging.StreamHandler(sys.stderr))
    return logger


def get_logger(name: str = "") -> logging.Logger:
    return logging.getLogger(_LOGGER_NAME + ("." + name if name else ""))


# Full float precision in json_stats (the golden runs compare losses bit for bit); else 6 digits as PySlowFast.
FULL_PRECISION = os.environ.get("VIDEOSSL_JSON_FULL_PRECISION") == "1"


def _round(v):
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return v if FULL_PRECISION else float(f"{v:.6g}")
    return v


def log_json_stats(stats: dict) -> None:
    """Log ``json_stats: {...}`` exactly as PySlowFast formats it (one line, sorted keys)."""
    stats = {k: _round(v) for k, v in stats.items()}
    get_logger().info("json_stats: %s", json.dumps(stats, sort_keys=True))


def read_json_stats(log_path: str, type_: str = "") -> list:
    """The ``json_stats`` dicts of a log file (``stdout.log``), in order; only ``_type == type_`` if given."""
    rows = []
    with open(log_path) as f:
        for line in f:
            if "json_stats:" not in line:
                continue
            stats = json.loads(line.split("json_stats:", 1)[1])
            if not type_ or stats.get("_type") == type_:
                rows.append(stats)
    return rows
