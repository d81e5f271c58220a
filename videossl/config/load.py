"""Load a config from YAML files and KEY VALUE overrides, checked and frozen."""

import difflib
import os
from typing import Iterable, List, Sequence

import yaml
from fvcore.common.config import CfgNode

from ..errors import VideosslError
from .compat import apply_compat
from .defaults import get_cfg
from .unsupported import check_unsupported
from .validate import validate_cfg


class ConfigError(VideosslError, ValueError):
    """A config file or override that cannot be used; the message names the key."""


def _all_keys(node: CfgNode, prefix: str = "") -> List[str]:
    keys = []
    for key, value in node.items():
        full = prefix + key
        keys.append(full)
        if isinstance(value, CfgNode):
            keys.extend(_all_keys(value, full + "."))
    return keys


def _unknown_key_error(full_key: str, root: CfgNode, source: str) -> ConfigError:
    close = difflib.get_close_matches(full_key, _all_keys(root), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    return ConfigError(f"{source}: unknown config key {full_key}{hint}")


def _coerce(value, original, full_key: str, source: str):
    """Convert ``value`` to the type of ``original`` where that is lossless."""
    if isinstance(original, bool) or isinstance(value, bool):
        if isinstance(original, bool) and isinstance(value, bool) or original is None:
            return value
        raise ConfigError(
            f"{source}: {full_key} expects {type(original).__name__}, got {value!r}"
        )
    if isinstance(original, float) and isinstance(value, int):
        return float(value)
    if original is None or value is None:
        return value
    if isinstance(original, (list, tuple)) and isinstance(value, (list, tuple)):
        return type(original)(value)
    if type(value) is not type(original):
        raise ConfigError(
            f"{source}: {full_key} expects {type(original).__name__} "
            f"(default {original!r}), got {type(value).__name__} {value!r}"
        )
    return value


def _merge_checked(dst: CfgNode, src: dict, root: CfgNode, source: str, prefix: str = "") -> None:
    for key, value in src.items():
        full_key = prefix + key
        if key not in dst:
            raise _unknown_key_error(full_key, root, source)
        original = dst[key]
        if isinstance(original, CfgNode):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: {full_key} is a section, got {value!r}")
            _merge_checked(original, value, root, source, full_key + ".")
        else:
            if isinstance(value, str):  # YACS literal-evaluates YAML strings ("1e-4" -> 1e-4)
                value = CfgNode._decode_cfg_value(value)
            dst[key] = _coerce(value, original, full_key, source)


def merge_file(cfg: CfgNode, path: str) -> None:
    """Merge one YAML file (``_BASE_`` supported) into ``cfg``, strictly."""
    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path}")
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        raise ConfigError(f"{path}: not valid YAML{at} ({getattr(err, 'problem', None) or err})") from None
    if doc is None:  # an empty file changes nothing
        return
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a config file must be a mapping of KEY: value, not a {type(doc).__name__}")
    loaded = CfgNode.load_yaml_with_base(path, allow_unsafe=False)  # resolves _BASE_
    _merge_checked(cfg, loaded, cfg, path)


def merge_overrides(cfg: CfgNode, opts: Sequence[str]) -> None:
    """Merge ``KEY VALUE KEY VALUE ...`` (strings, literal-evaluated like YACS)."""
    if len(opts) % 2:
        raise ConfigError(f"overrides must come in KEY VALUE pairs, got {list(opts)}")
    for key, raw in zip(opts[0::2], opts[1::2]):
        value = CfgNode._decode_cfg_value(raw)
        node, parts = cfg, key.split(".")
        for part in parts[:-1]:
            if part not in node or not isinstance(node[part], CfgNode):
                raise _unknown_key_error(key, cfg, "command line")
            node = node[part]
        if parts[-1] not in node or isinstance(node[parts[-1]], CfgNode):
            raise _unknown_key_error(key, cfg, "command line")
        node[parts[-1]] = _coerce(value, node[parts[-1]], key, "command line")


def finalize(cfg: CfgNode) -> CfgNode:
    """Apply PySlowFast compatibility, validate, and freeze ``cfg``."""
    try:
        apply_compat(cfg)
        validate_cfg(cfg)
        check_unsupported(cfg, get_cfg())
    except ValueError as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(str(err)) from None
    cfg.freeze()
    return cfg


def load_config(
    cfg_files: Iterable[str] = (),
    opts: Sequence[str] = (),
    shard_id: int = None,
    num_shards: int = None,
) -> CfgNode:
    """Defaults <- each file in order <- overrides; then compat, checks, freeze.

    ``shard_id`` / ``num_shards`` (PySlowFast's ``--shard_id``/``--num_shards``)
    override the config when given.
    """
    cfg = get_cfg()
    for path in cfg_files:
        merge_file(cfg, path)
    merge_overrides(cfg, list(opts))
    if shard_id is not None:
        cfg.SHARD_ID = shard_id
    if num_shards is not None:
        cfg.NUM_SHARDS = num_shards
    return finalize(cfg)
