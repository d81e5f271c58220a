#!/usr/bin/env python3
"""Download a published checkpoint by model-zoo name (or URL) into iopath's cache.

    python tools/download_model.py --list
    python tools/download_model.py moco_slow_r50_8x8_rho2 [more names ...]

Prints the local path of each checkpoint (pass it, or just the name, as
``TRAIN.CHECKPOINT_FILE_PATH``).  Without network, or for Google-Drive-only
checkpoints, prints one line saying what to download and where to save it,
and exits with status 1.  See MODEL_ZOO.md for the numbers and configs.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from videossl.models.zoo import ZOO, ZooDownloadError, local_path, resolve_checkpoint_path  # noqa: E402


def _list() -> None:
    width = max(len(n) for n in ZOO)
    for name, e in ZOO.items():
        metrics = ", ".join(f"{k} {v}" for k, v in e.metrics.items())
        where = "manual (Google Drive)" if e.manual else ("cached" if os.path.isfile(local_path(name)) else "url")
        print(f"{name.ljust(width)}  {e.arch:<11} {where:<21} {metrics}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="model-zoo names or URLs")
    parser.add_argument("--list", action="store_true", help="list the model zoo")
    args = parser.parse_args(argv)
    if args.list or not args.names:
        _list()
        return 0
    status = 0
    for name in args.names:
        try:
            print(resolve_checkpoint_path(name))
        except (ZooDownloadError, FileNotFoundError) as err:
            print(f"videossl: {err}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
