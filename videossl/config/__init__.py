"""Config: the YACS tree, PySlowFast compatibility, validation and loading."""

from .defaults import get_cfg
from .derived import compute_scale
from .load import ConfigError, load_config, merge_file, merge_overrides

__all__ = ["get_cfg", "load_config", "merge_file", "merge_overrides", "ConfigError", "compute_scale"]
