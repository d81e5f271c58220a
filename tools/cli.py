"""What every command-line tool shares: user errors as one line."""

import sys
from typing import Callable, Optional, Sequence


def run_main(tool: str, main: Callable, argv: Optional[Sequence[str]] = None) -> int:
    """``main(argv)``, with a user error (a missing file or folder, bad input) printed as one line naming
    ``tool`` and exit status 2; any other exception is a bug and keeps its traceback.  A ``main`` that
    returns a non-int (e.g. a result dict) counts as success."""
    from videossl.errors import VideosslError

    try:
        code = main(argv)
    except (VideosslError, FileNotFoundError) as err:
        print(f"{tool}: error: {err}", file=sys.stderr)
        return 2
    return code if isinstance(code, int) else 0
