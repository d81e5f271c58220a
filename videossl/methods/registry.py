"""Registry of methods: ``@register_method("name")`` on a ``build(cfg) -> MethodClass`` function.

Every module of this package is imported when :mod:`videossl.methods` is
(:func:`videossl.utils.discover.import_submodules`), so a new method file
registers itself: there is no hand-kept import list.  A method defined
outside the package registers the same way once its module is imported.
"""

import typing
from typing import Callable, Dict, Optional, Tuple, Type

from fvcore.common.registry import Registry

from ..errors import InputError
from .base import Method

METHOD_REGISTRY = Registry("METHOD")
METHOD_REGISTRY.__doc__ = "Maps SSL.METHOD to a function build(cfg) -> Method."
#: SSL.METHOD -> the class its builder returns (its checkpoint layout is read without building it).
METHOD_CLASSES: Dict[str, Type[Method]] = {}


def register_method(name: str, method_cls: Optional[Type[Method]] = None) -> Callable:
    """Decorator registering ``fn(cfg) -> Method`` under ``name``.

    ``method_cls``: the class ``fn`` returns (its checkpoint layout is read
    without building it); default: ``fn``'s return annotation, else :class:`Method`.
    """

    def deco(fn):
        cls = method_cls
        if cls is None:
            cls = typing.get_type_hints(fn).get("return", Method)
        if not (isinstance(cls, type) and issubclass(cls, Method)):
            raise TypeError(f"register_method({name!r}): {cls!r} is not a Method subclass")
        METHOD_REGISTRY._do_register(name, fn)
        METHOD_CLASSES[name] = cls
        return fn

    return deco


def never_load_patterns() -> Tuple[str, ...]:
    """Key fragments that no registered method's reference checkpoints hold as weights."""
    return tuple(sorted({p for cls in METHOD_CLASSES.values() for p in cls.checkpoint_layout().never_load}))


def build_method(cfg) -> Method:
    """Build the method selected by ``cfg.SSL.METHOD``."""
    name = cfg.SSL.METHOD
    if name not in METHOD_REGISTRY:
        known = sorted(k for k, _ in METHOD_REGISTRY)
        raise InputError(f"SSL.METHOD={name!r} is not a registered method; known: {known}")
    return METHOD_REGISTRY.get(name)(cfg)
