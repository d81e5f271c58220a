"""Methods: one file each, registered by name; the trainer builds them with build_method(cfg).

Importing this package imports every module in it (``import_submodules``),
so adding a method is adding a file with a ``@register_method`` builder.
"""

from .base import DEFAULT_ROLE, CheckpointLayout, Method, Progress
from .registry import METHOD_CLASSES, METHOD_REGISTRY, build_method, never_load_patterns, register_method
from ..utils.discover import import_submodules

import_submodules(__name__)

__all__ = ["DEFAULT_ROLE", "CheckpointLayout", "Method", "Progress", "METHOD_CLASSES", "METHOD_REGISTRY",
           "build_method", "never_load_patterns", "register_method"]
