"""Run one preparation function over many files in a process pool, collecting failures."""

import multiprocessing
import sys
from typing import Callable, List, Optional, Sequence, Tuple


def _guarded(item):
    fn, src, dst = item
    try:
        return src, None, fn(src, dst)
    except Exception as err:  # noqa: BLE001 - report the file and go on with the others
        return src, f"{type(err).__name__}: {err}", None


def map_files(fn: Callable, jobs: Sequence[Tuple[str, str]], workers: int,
              progress_every: int = 100, bar: str = "",
              start_method: Optional[str] = None) -> Tuple[List, List[Tuple[str, str]]]:
    """``fn(src, dst)`` for every ``(src, dst)`` job on ``workers`` processes (``fn`` picklable).

    Returns ``(results, failed)``: the results of the jobs that succeeded and
    ``(src, "Error: message")`` of those that raised; failures are also printed
    to stderr.  Progress: a tqdm bar named ``bar`` on stderr, or else a line
    every ``progress_every`` jobs on stdout.  ``start_method``: the pool's
    (``"spawn"`` for work that uses a library's own thread pool, such as
    OpenCV, which a forked child can deadlock on); None = the platform default.
    """
    from tqdm import tqdm

    results, failed = [], []
    with multiprocessing.get_context(start_method).Pool(max(workers, 1)) as pool, \
            tqdm(total=len(jobs), desc=bar, unit="video", disable=not bar, file=sys.stderr) as progress:
        items = [(fn, src, dst) for src, dst in jobs]
        for k, (src, err, out) in enumerate(pool.imap_unordered(_guarded, items), 1):
            if err:
                failed.append((src, err))
            else:
                results.append(out)
            progress.update(1)
            progress.set_postfix(failed=len(failed), refresh=False)
            if not bar and progress_every and (k % progress_every == 0 or k == len(jobs)):
                print(f"{k}/{len(jobs)} done, {len(failed)} failed", flush=True)
    for src, err in failed:
        print(f"FAILED {src}: {err}", file=sys.stderr)
    return results, failed
