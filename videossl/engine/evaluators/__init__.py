"""Evaluators, one file each (multi-view top-k, retrieval R@k, kNN), built by name from ``TEST.EVALUATOR``.

Every module here is imported with the package, so a new evaluator file registers itself.
"""

from ...utils.discover import import_submodules
from .base import EVALUATORS, Evaluator, build_evaluator, extract, register_evaluator, view_order

import_submodules(__name__)

__all__ = ["EVALUATORS", "Evaluator", "build_evaluator", "extract", "register_evaluator", "view_order"]
