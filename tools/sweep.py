"""Shared pieces of the comparison sweeps (tools/ssl_vs_random.py, tools/mae_vs_random.py).

Jobs are ``tools/run_net.py`` subprocesses, logged to ``<out>/commands.txt``
exactly as run; a job whose result file exists is not rerun, so an
interrupted sweep resumes where it stopped.
"""

import json
import math
import os
import shlex
import subprocess
import sys
import time
from typing import List, Optional, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


def add_override_args(parser, job_flags: Sequence[Tuple[str, str]], data_help: str) -> None:
    """``--opts``-style KEY VALUE lists, one flag per ``(flag, help)`` in ``job_flags``, plus ``--data-opts``.

    Each flag may repeat and its pairs accumulate (a script can pin some and
    a user add more); later pairs win, as on the ``run_net.py`` command line.
    """
    for flag, text in list(job_flags) + [("--data-opts", data_help)]:
        parser.add_argument(flag, nargs="*", action="extend", default=[],
                            help=f"KEY VALUE overrides for {text} (the flag may repeat; later pairs win)")


class JobRunner:
    """Runs ``tools/run_net.py`` jobs one after the other (CPU friendly), logging each command."""

    def __init__(self, out: str, tag: str, python: str = sys.executable, common_opts: Sequence[str] = ()):
        self.tag, self.python, self.common_opts = tag, python, list(common_opts)
        os.makedirs(out, exist_ok=True)
        self.log = open(os.path.join(out, "commands.txt"), "a")

    def call(self, cmd: List[str]) -> None:
        """Run ``cmd`` in the repository root; SystemExit naming it if it fails."""
        line = shlex.join(cmd)
        self.log.write(line + "\n")
        self.log.flush()
        print(f"[{self.tag}] {line}", flush=True)
        start = time.time()
        rc = subprocess.run(cmd, cwd=ROOT).returncode
        print(f"[{self.tag}] exit {rc} after {time.time() - start:.0f}s", flush=True)
        if rc != 0:
            raise SystemExit(f"job failed (exit {rc}): {line}")

    def run_net(self, cfg: str, out_dir: str, opts: Sequence[str], result_file: Optional[str]):
        """``run_net.py --cfg cfg OUTPUT_DIR out_dir <common opts> <opts>`` unless ``out_dir/result_file``
        exists; returns that JSON (None without a result file)."""
        result = os.path.join(out_dir, result_file) if result_file else None
        if result is None or not os.path.isfile(result):
            self.call([self.python, "tools/run_net.py", "--cfg", cfg, "OUTPUT_DIR", out_dir]
                      + self.common_opts + list(opts))
        if result is None:
            return None
        with open(result) as f:
            return json.load(f)
