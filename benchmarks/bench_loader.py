#!/usr/bin/env python3
"""Loader benchmark wrapper: runs tools/benchmark_loader.py and writes benchmarks/RESULTS_loader.md.

    python benchmarks/bench_loader.py [--quick] [extra benchmark_loader.py flags]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

import benchmark_loader  # noqa: E402


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = ["--out", os.path.join(HERE, "RESULTS_loader.md")]
    if "--quick" in argv:
        argv.remove("--quick")
        args += ["--samples", "4", "--files", "2", "--real-files", "6", "--rho", "2", "--workers", "0"]
    return benchmark_loader.main(args + argv)


if __name__ == "__main__":
    sys.exit(main())
