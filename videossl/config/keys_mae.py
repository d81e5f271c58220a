"""Config keys owned by the mae area (videossl-only keys; PySlowFast keys live in defaults.py)."""

from fvcore.common.config import CfgNode


def add_keys(cfg: CfgNode) -> None:
    """Add this area's keys to `cfg` in place."""
    del cfg  # no keys yet
