"""Import every module of a package, so that registration decorators in them run."""

import importlib
import pkgutil


def import_submodules(package: str) -> None:
    """Import ``package`` and every module below it (a new file registers itself; no import list)."""
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
        importlib.import_module(info.name)
