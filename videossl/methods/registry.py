"""Registry of methods: ``@register_method("name")`` on a ``build(cfg) -> Method`` function."""

from fvcore.common.registry import Registry

METHOD_REGISTRY = Registry("METHOD")
METHOD_REGISTRY.__doc__ = "Maps SSL.METHOD to a function build(cfg) -> Method."


def register_method(name: str):
    """Decorator registering ``fn(cfg) -> Method`` under ``name``."""

    def deco(fn):
        METHOD_REGISTRY._do_register(name, fn)
        return fn

    return deco


def build_method(cfg):
    """Build the method selected by ``cfg.SSL.METHOD``."""
    name = cfg.SSL.METHOD
    if name not in METHOD_REGISTRY:
        known = sorted(k for k, _ in METHOD_REGISTRY)
        raise ValueError(f"SSL.METHOD={name!r} is not a registered method; known: {known}")
    return METHOD_REGISTRY.get(name)(cfg)
