"""Matplotlib pieces shared by the picture tools: a headless figure, PNG output, and a mean ± std bar chart.

Figures are drawn off-screen (the ``Agg`` backend, no display needed) and come
back as ``H x W x 3`` uint8 RGB arrays, so tests can check pixels; the PNG
written is exactly that array.  Used by ``tools/visualize_retrieval.py``,
``tools/plot_stats.py``, ``tools/ssl_vs_random.py`` and ``tools/mae_vs_random.py``.
"""

import os
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

DPI = 100
#: Bar colours by series: the first series (a baseline such as random init) grey, then the tab10 colours.
SERIES_COLORS = ("#8c8c8c", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
#: Line colours by run (matplotlib's tab10).
RUN_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
              "#bcbd22", "#17becf")


def new_figure(width_in: float, height_in: float, layout: Optional[str] = "constrained") -> Figure:
    """A figure of ``width_in x height_in`` inches at :data:`DPI`, drawn off-screen (no pyplot state)."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def render(fig: Figure) -> np.ndarray:
    """The figure as an ``H x W x 3`` uint8 RGB array (``H, W`` = its size in inches times :data:`DPI`)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def save_png(image: np.ndarray, path: str) -> str:
    """Write an ``H x W x 3`` uint8 array to ``path`` (folders created); returns ``path``."""
    from PIL import Image

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(image).save(path)
    return path


def hex_rgb(color: str) -> Tuple[int, int, int]:
    """``"#1f77b4"`` -> ``(31, 119, 180)``."""
    return tuple(int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))


def over_seeds(n: Optional[int]) -> str:
    """What a bar means: ``"mean ± std over 3 seeds"``, ``"1 seed"``, or ``"mean ± std over seeds"`` (``n`` None)."""
    if n == 1:
        return "1 seed"
    return f"mean ± std over {n} seeds" if n else "mean ± std over seeds"


@dataclass
class BarPanel:
    """One subplot of :func:`bar_chart`.

    Attributes:
        title: the subplot's title.
        values: ``{group: {series: (mean, std)}}``; a group may lack some series
            (its bars stay centred on its tick).
        ylabel: the y-axis label.
        fmt: format of the value printed above each bar.
    """

    title: str
    values: Dict[str, Dict[str, Tuple[float, float]]]
    ylabel: str = ""
    fmt: str = "{:.1f}"


@dataclass(eq=False)
class BarSeries:
    """One series of :func:`draw_bars`: a bar per group it has a value for.

    Attributes:
        name: the legend label.
        color: the bar colour.
        values: ``{group: (mean, std)}``.
        hatch: a matplotlib hatch pattern (``"//"``), or "" for solid bars.
    """

    name: str
    color: str
    values: Dict[str, Tuple[float, float]]
    hatch: str = ""


def draw_bars(ax, groups: Sequence[str], series: Sequence[BarSeries], fmt: str = "{:.1f}",
              slots: int = 0) -> None:
    """Grouped bars on ``ax``: one tick per group, its bars (the series that have it, in order) centred on it.

    Each bar has a ± std error bar (none for a series whose stds are all 0) and its
    mean printed above it (``fmt``).  The x range holds at least ``slots``
    groups, so a wide axis with few groups gets narrow bars (centred).
    """
    per_group = {g: [s for s in series if g in s.values] for g in groups}
    width = min(0.6, 0.8 / max([len(v) for v in per_group.values()] + [1]))
    for s in series:
        pts = [(gi, s.values[g]) for gi, g in enumerate(groups) if g in s.values]
        if not pts:
            continue
        xs = np.array([gi + (per_group[groups[gi]].index(s) - (len(per_group[groups[gi]]) - 1) / 2) * width
                       for gi, _ in pts])
        means = np.array([float(v[0]) for _, v in pts])
        stds = np.array([float(v[1]) for _, v in pts])
        ax.bar(xs, means, width * 0.92, yerr=stds if stds.any() else None, color=s.color, label=s.name,
               capsize=3, hatch=s.hatch or None, edgecolor="white" if s.hatch else None,
               error_kw={"elinewidth": 1, "ecolor": "#222222"})
        for xi, m, sd in zip(xs, means, stds):
            up = not m < 0
            ax.annotate(fmt.format(m), (xi, m + sd if up else m - sd), xytext=(0, 2 if up else -2),
                        textcoords="offset points", ha="center", va="bottom" if up else "top", fontsize=7)
    ax.set_xticks(np.arange(len(groups)), list(groups))
    span = max(len(groups), slots) + 0.2
    ax.set_xlim((len(groups) - 1) / 2 - span / 2, (len(groups) - 1) / 2 + span / 2)
    ax.axhline(0, color="#444444", linewidth=0.8)
    ax.margins(y=0.12)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def bar_chart(panels: Sequence[BarPanel], series: Sequence[str], path: Optional[str] = None,
              title: str = "") -> np.ndarray:
    """Grouped bars with ± std error bars (:func:`draw_bars`), one subplot per panel side by side; returns the image.

    Each group (x tick) has one bar per series it holds, in ``series`` order,
    coloured ``SERIES_COLORS[i]`` for ``series[i]`` in every panel, with the
    mean printed above it; one legend (the series) below the panels.  Size:
    ``sum(panel widths) x 3.6`` inches at :data:`DPI`, a panel
    ``max(2.6, 1.2 + 1.1 * groups)`` inches wide.  Writes a PNG when ``path`` is given.
    """
    if not panels:
        raise ValueError("bar_chart needs at least one panel")
    widths = [max(2.6, 1.2 + 1.1 * len(p.values)) for p in panels]
    fig = new_figure(sum(widths), 3.6)
    axes = fig.subplots(1, len(panels), width_ratios=widths, squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        bars = [BarSeries(name, SERIES_COLORS[i % len(SERIES_COLORS)],
                          {g: v[name] for g, v in panel.values.items() if name in v})
                for i, name in enumerate(series)]
        draw_bars(ax, list(panel.values), bars, panel.fmt)
        ax.set_title(panel.title, fontsize=10)
        ax.set_ylabel(panel.ylabel)
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1:]:  # series a first panel lacks
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    return finish(fig, handles, labels, title, path, ncols=max(len(labels), 1))


def finish(fig, handles, labels, title: str, path: str, ncols: int, fontsize=None) -> np.ndarray:
    """Legend below the panels, the title above, then the figure as an image (written to ``path``
    when given)."""
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False, fontsize=fontsize)
    if title:
        fig.suptitle(title, fontsize=11)
    image = render(fig)
    if path:
        save_png(image, path)
    return image
