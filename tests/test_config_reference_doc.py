"""docs/config_reference.md is what tools/config_reference.py prints for the current defaults."""

import contextlib
import io
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools import config_reference  # noqa: E402


def test_config_reference_doc_is_up_to_date():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        config_reference.main()
    with open(os.path.join(ROOT, "docs", "config_reference.md")) as f:
        assert f.read() == out.getvalue(), "regenerate: python tools/config_reference.py > docs/config_reference.md"
