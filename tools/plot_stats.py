#!/usr/bin/env python3
"""Training curves of one or more runs from their ``stdout.log``: loss, lr and every evaluation metric.

    python tools/plot_stats.py output/moco output/byol --out curves.png
    python tools/plot_stats.py output/a/stdout.log output/b --labels MoCo BYOL --out curves.png \
        [--metrics top1_acc R@1] [--train-keys top1_err]

Each RUN is a run directory (its ``stdout.log`` is read) or a log file.  The
``json_stats`` lines give the curves against the epoch: ``train_iter`` stats
at the fractional epoch ``epoch - 1 + iter / iters`` (``train_epoch`` stats
at the epoch when a run logs no ``train_iter``), the periodic evaluations
(``<evaluator>_epoch``, e.g. ``knn_epoch``) at their epoch.  One subplot per
quantity (``loss``, ``lr``, then ``<evaluator>: <metric>`` for every metric
that appears: ``top1_acc``, ``R@1``, ``mAP``, ...), one colour per run; the
final ``test results (...)`` lines are bars in a last, full-width row.

One ``stdout.log`` may hold several phases (a pretraining, then a linear
probe in the same ``OUTPUT_DIR``): a change of the epoch count starts a new
phase, drawn in the run's colour with another line style.  A resumed run
repeats a few iterations; the later value of an iteration wins.
"""

import argparse
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402
from videossl.errors import InputError  # noqa: E402

#: Evaluation keys drawn by default (counts and settings such as ``num_queries``, ``k``, ``chance_acc`` are not).
DEFAULT_METRIC = re.compile(r"^(R@\d+|mAP|top\d+_(acc|err)|acc|accuracy)$")
TRAIN_KEYS = ("loss", "lr")
PANEL_W, PANEL_H = 4.2, 3.0  # inches per subplot
LINE_STYLES = ("-", "--", ":", "-.")


@dataclass
class Phase:
    """One training phase of a log: the stats of one epoch count, keyed by x (epoch) so later values win."""

    epochs: Optional[int]
    train_iter: Dict[str, Dict[float, float]] = field(default_factory=dict)
    train_epoch: Dict[str, Dict[float, float]] = field(default_factory=dict)
    evals: Dict[str, Dict[float, float]] = field(default_factory=dict)  # "knn: top1_acc" -> {epoch: value}
    tests: Dict[str, float] = field(default_factory=dict)  # "retrieval: R@1" -> value
    tasks: List[str] = field(default_factory=list)
    last_x: float = 0.0


@dataclass
class Curve:
    """One line of one subplot, or (``final``) one test result: a bar at the end of its phase."""

    panel: str
    label: str
    run: int
    style: int
    x: List[float]
    y: List[float]
    final: bool = False


def log_path(path: str) -> str:
    """The log file of ``path``: ``path/stdout.log`` for a run directory, else ``path`` itself."""
    if os.path.isdir(path):
        log = os.path.join(path, "stdout.log")
        if not os.path.isfile(log):
            raise FileNotFoundError(f"no stdout.log in run directory {path}")
        return log
    if not os.path.isfile(path):
        raise FileNotFoundError(f"log not found: {path} (give a run directory or its stdout.log)")
    return path


def _number(v) -> Optional[float]:
    """A float for an int / float / "nan" / "inf" value (json_stats writes non-finite floats as strings)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and v.lower() in ("nan", "inf", "-inf"):
        return float(v)
    return None


def _fraction(v) -> Tuple[Optional[int], Optional[int]]:
    """``"3/80"`` -> ``(3, 80)``; an int -> ``(n, None)``; anything else ``(None, None)``."""
    if isinstance(v, int):
        return v, None
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(v))
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def _add(store: Dict[str, Dict[float, float]], x: float, stats: dict, keep) -> None:
    for key, value in stats.items():
        num = _number(value)
        if num is not None and keep(key):
            store.setdefault(key, {})[x] = num


def parse_log(path: str, metric=DEFAULT_METRIC.match) -> List[Phase]:
    """The phases of a ``stdout.log`` (see the module doc); ``metric(key)`` picks the evaluation keys.

    Raises InputError naming the file when it has no ``json_stats`` line.
    """
    phases: List[Phase] = []
    seen_stats = False

    def phase_for(epochs: Optional[int]) -> Phase:
        if not phases or (epochs is not None and phases[-1].epochs not in (None, epochs)):
            phases.append(Phase(epochs))
        if phases[-1].epochs is None:
            phases[-1].epochs = epochs
        return phases[-1]

    with open(path, errors="replace") as f:
        for line in f:
            if "json_stats:" in line:
                try:
                    stats = json.loads(line.split("json_stats:", 1)[1])
                except ValueError:  # a line cut short by a killed run
                    continue
                seen_stats = True
                _add_stats(stats, phase_for, metric)
            elif "test results (" in line and "): {" in line:
                try:
                    result = json.loads(line.split("): ", 1)[1])
                except ValueError:
                    continue
                ph = phase_for(None)
                name = result.get("evaluator", "test")
                for key, value in result.items():
                    num = _number(value)
                    if num is not None and metric(key):
                        ph.tests[f"{name}: {key}"] = num
                if result.get("task") and result["task"] not in ph.tasks:
                    ph.tasks.append(result["task"])
    if not seen_stats:
        raise InputError(f"{path}: no json_stats lines (is it a videossl / PySlowFast stdout.log?)")
    return phases


def _add_stats(stats: dict, phase_for, metric) -> None:
    kind = stats.get("_type", "")
    epoch, epochs = _fraction(stats.get("epoch"))
    if epoch is None:
        return
    ph = phase_for(epochs)
    if kind == "train_iter":
        it, iters = _fraction(stats.get("iter"))
        x = epoch - 1 + (it / iters if it is not None and iters else 1.0)
        _add(ph.train_iter, x, stats, lambda k: not k.startswith("_"))
    elif kind == "train_epoch":
        x = float(epoch)
        _add(ph.train_epoch, x, stats, lambda k: not k.startswith("_"))
    elif kind.endswith("_epoch"):
        x = float(epoch)
        name = kind[: -len("_epoch")]
        for key, value in stats.items():
            num = _number(value)
            if num is not None and metric(key):
                ph.evals.setdefault(f"{name}: {key}", {})[x] = num
    else:
        return
    ph.last_x = max(ph.last_x, x)


def run_curves(phases: Sequence[Phase], label: str, run: int, train_keys: Sequence[str] = TRAIN_KEYS) -> List[Curve]:
    """The curves of one run's phases: ``train_keys`` (per iteration, else per epoch), evaluations, tests."""
    curves = []
    for i, ph in enumerate(phases):
        name = label
        if len(phases) > 1:
            what = "/".join(ph.tasks) or f"phase {i + 1}"
            name = f"{label} ({what}, {ph.epochs} ep)" if ph.epochs else f"{label} ({what})"
        for key in train_keys:
            points = ph.train_iter.get(key) or ph.train_epoch.get(key)
            if points:
                xs = sorted(points)
                curves.append(Curve(key, name, run, i, xs, [points[x] for x in xs]))
        for panel, points in ph.evals.items():
            xs = sorted(points)
            curves.append(Curve(panel, name, run, i, xs, [points[x] for x in xs]))
        end = float(ph.epochs) if ph.epochs else ph.last_x
        for panel, value in ph.tests.items():
            curves.append(Curve(panel, name, run, i, [end], [value], final=True))
    return curves


def panel_order(curves: Sequence[Curve], train_keys: Sequence[str] = TRAIN_KEYS) -> List[str]:
    """Names in drawing order: the train keys first, then the evaluations by evaluator and metric
    (``R@5`` before ``R@10``)."""
    present = {c.panel for c in curves}

    def metric_key(panel: str):
        name, _, key = panel.partition(": ")
        m = re.fullmatch(r"(\D*)(\d+)(.*)", key)
        return (name, m.group(1), int(m.group(2)), m.group(3)) if m else (name, key, 0, "")

    return [k for k in train_keys if k in present] + sorted(present - set(train_keys), key=metric_key)


def figure_size(curve_panels: int, has_tests: bool, legend_entries: int, title: bool = False) -> Tuple[float, float]:
    """``(width, height)`` in inches of :func:`draw_stats`' figure: up to 3 columns of ``PANEL_W x PANEL_H``
    curve subplots, a full-width ``PANEL_H`` row for the final tests, 0.25 inch per legend row
    (4 entries a row) and 0.25 inch for a title."""
    ncols = 3 if has_tests else min(3, max(curve_panels, 1))
    rows = math.ceil(curve_panels / ncols) + has_tests
    return ncols * PANEL_W, rows * PANEL_H + 0.25 * math.ceil(max(legend_entries, 1) / 4) + 0.25 * bool(title)


def draw_stats(curves: Sequence[Curve], path: Optional[str] = None, title: str = "",
               train_keys: Sequence[str] = TRAIN_KEYS):
    """Curves of ``curves`` in a grid of subplots and their final tests as bars; returns the RGB image.

    One subplot per non-final panel (:func:`panel_order`, 3 columns), run
    ``r`` in ``RUN_COLORS[r]``, its phase ``s`` in ``LINE_STYLES[s]``.  The
    ``final`` points (test results) are grouped bars in a last, full-width
    row: one group per metric, one bar per (run, phase), later phases
    hatched.  One legend entry per (run, phase) below.  Size:
    :func:`figure_size` inches at ``tools.plots.DPI``.  Writes a PNG when ``path`` is given.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from tools.plots import RUN_COLORS, BarSeries, draw_bars, finish, new_figure

    panels = panel_order([c for c in curves if not c.final], train_keys)
    tests = panel_order([c for c in curves if c.final], train_keys)
    if not panels and not tests:
        raise InputError("nothing to plot: no loss, lr or evaluation metric in the logs")
    names = list(dict.fromkeys((c.run, c.style, c.label) for c in curves))
    ncols = 3 if tests else min(3, max(len(panels), 1))
    nrows = math.ceil(len(panels) / ncols)
    fig = new_figure(*figure_size(len(panels), bool(tests), len(names), bool(title)))
    grid = fig.add_gridspec(nrows + bool(tests), ncols)
    color = {key: RUN_COLORS[key[0] % len(RUN_COLORS)] for key in names}
    hatch = {key: "//" if key[1] else "" for key in names}
    x_max = max((x for c in curves if not c.final for x in c.x), default=1.0)
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(grid[i // ncols, i % ncols])
        ax.set_xlim(0, x_max * 1.03 or 1.0)  # one epoch axis for every curve panel
        for c in (c for c in curves if c.panel == panel and not c.final):
            marker = "o" if len(c.x) <= 30 and panel not in train_keys else None
            ax.plot(c.x, c.y, linestyle=LINE_STYLES[c.style % len(LINE_STYLES)], color=color[(c.run, c.style, c.label)],
                    linewidth=1.4, marker=marker, markersize=3)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("epoch", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        if panel == "lr":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    if tests:
        ax = fig.add_subplot(grid[nrows, :])
        bars = [BarSeries(key[2], color[key], {c.panel: (c.y[0], 0.0) for c in curves
                                               if c.final and (c.run, c.style, c.label) == key}, hatch[key])
                for key in names]
        draw_bars(ax, tests, [b for b in bars if b.values], fmt="{:.1f}", slots=8)
        ax.set_title("final test", fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
        ax.tick_params(axis="y", labelsize=8)
    entries = []
    for key in names:
        if tests and not panels:
            entries.append((Patch(facecolor=color[key], hatch=hatch[key] or None, edgecolor="white"), key[2]))
        else:
            entries.append((Line2D([], [], color=color[key], linestyle=LINE_STYLES[key[1] % len(LINE_STYLES)]),
                            key[2]))
    return finish(fig, [h for h, _ in entries], [n for _, n in entries], title, path,
                  ncols=min(4, len(entries)), fontsize=9)


def default_labels(paths: Sequence[str]) -> List[str]:
    """A legend label per path: the run directory's name, with its parent when two names clash."""
    dirs = [os.path.abspath(p if os.path.isdir(p) else os.path.dirname(p) or ".") for p in paths]
    labels = [os.path.basename(d) for d in dirs]
    if len(set(labels)) < len(labels):
        labels = [os.path.join(os.path.basename(os.path.dirname(d)), os.path.basename(d)) for d in dirs]
    return labels


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories (with stdout.log) or log files")
    p.add_argument("--labels", nargs="+", default=None, help="one legend label per RUN (default: directory names)")
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("--metrics", nargs="+", default=None,
                   help="evaluation keys to draw (default: R@k, mAP, topK_acc/err, acc)")
    p.add_argument("--train-keys", nargs="+", default=[],
                   help="more train_iter keys to draw besides loss and lr (e.g. top1_err)")
    p.add_argument("--title", default="")
    args = p.parse_args(argv)
    if args.labels is not None and len(args.labels) != len(args.runs):
        raise InputError(f"--labels gives {len(args.labels)} labels for {len(args.runs)} runs")
    labels = args.labels or default_labels(args.runs)
    metric = (lambda k: k in args.metrics) if args.metrics else DEFAULT_METRIC.match
    train_keys = list(TRAIN_KEYS) + [k for k in args.train_keys if k not in TRAIN_KEYS]
    curves = []
    for i, (run, label) in enumerate(zip(args.runs, labels)):
        curves += run_curves(parse_log(log_path(run), metric), label, i, train_keys)
    draw_stats(curves, args.out, args.title, train_keys)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main("plot_stats", main))
