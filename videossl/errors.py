"""The project's error types: errors a user can fix, reported as one line without a traceback.

``tools/run_net.py`` prints a :class:`VideosslError` as ``videossl: error:
<message>`` and exits 1; any other exception is a bug and keeps its
traceback.  Each type also derives from the built-in type callers already
catch (``ValueError``, ``RuntimeError``, ``FloatingPointError``).
"""


class VideosslError(Exception):
    """Base: bad input (config, data, checkpoint) or a run-time condition the user must act on."""


class InputError(VideosslError, ValueError):
    """A value, file or checkpoint that does not fit (the message names the key, file or value)."""


class DataError(VideosslError, RuntimeError):
    """The data failed at run time (too many unreadable videos, an inconsistent test set)."""
