"""Keep freed memory in the process instead of handing it back to the OS (glibc malloc).

A data-loading process allocates and frees the same few large buffers for
every sample (decoded frames, 4.8 MB float clips at 224², the collated
batch).  glibc serves blocks above its mmap threshold with fresh ``mmap``
pages and trims the heap after large frees, so each such buffer is
page-faulted and zeroed again: measured on the 2-core machine, ~3,300 minor
faults and ~5 ms per 224² clip, more than the colour augmentation costs.
:func:`keep_freed_memory` raises the mmap threshold to glibc's maximum
(32 MiB) and turns heap trimming off (``mallopt``), the runtime equivalent of
``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``.  Results do not
depend on it; elsewhere than glibc it does nothing.
"""

import ctypes
import ctypes.util
import logging

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MAX_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's upper limit on 64-bit systems
_done = False


def keep_freed_memory() -> bool:
    """Configure this process's glibc malloc once; True if it took effect."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, _MAX_MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1
    if not ok:
        logging.getLogger(__name__).debug("mallopt refused the loader's malloc settings")
    _done = ok
    return ok
