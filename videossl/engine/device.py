"""Where tensors go, and moving a batch there."""

import torch

from ..utils import distributed as du


def get_device(cfg) -> torch.device:
    if torch.cuda.is_available() and cfg.NUM_GPUS > 0:
        return torch.device("cuda", du.get_local_rank() % torch.cuda.device_count())
    return torch.device("cpu")


def to_device(obj, device: torch.device):
    """Recursively move tensors in dicts/lists/tuples to ``device`` (non-blocking)."""
    if torch.is_tensor(obj):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj
