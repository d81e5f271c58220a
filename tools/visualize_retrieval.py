#!/usr/bin/env python3
"""Nearest-neighbour retrieval as a picture: each query video next to its top-k gallery videos.

    python tools/visualize_retrieval.py --cfg configs/synthetic/contrastive_ssl/linear_R10.yaml \
        --checkpoints random output/moco/checkpoints/ssl_checkpoint_epoch_00080.pyth \
        --out retrieval.png [--num-queries 8 --topk 5 --seed 0 --labels "random init" MoCo] [KEY VALUE ...]

The protocol is the retrieval evaluator's (``TEST.EVALUATOR retrieval``,
:mod:`videossl.engine.evaluators.retrieval`): gallery = the train split,
queries = the test split, both in test mode (``TEST.NUM_ENSEMBLE_VIEWS``
uniform clips, one centre crop), a video's feature is the mean of its
L2-normalised clip features, each set is mean-centred and L2-normalised, and
neighbours are ranked by cosine similarity.  Like the evaluator, no gallery
video is excluded (a query may find a clip of its own source video).

A checkpoint loads as ``TRAIN.CHECKPOINT_FILE_PATH`` does in ``run_net.py``
(for a ``linear`` / ``finetune`` config, the backbone only): a path, a
model-zoo name or a URL; ``random`` (or ``none``) is a random init seeded
with ``RNG_SEED``.  With several checkpoints the panels stand side by side,
for the same queries (``--seed`` picks them).

Each row: the query's middle frame (middle clip, un-normalised with
``DATA.MEAN`` / ``DATA.STD``), then each panel's top-k neighbours with their
class and similarity, framed green when the class is the query's and red
otherwise.  Panel titles give R@1 / R@k over all queries.
"""

import argparse
import os
import random
import re
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402
from videossl.errors import InputError  # noqa: E402

MATCH_COLOR, MISMATCH_COLOR, QUERY_COLOR = "#2ca02c", "#d62728", "#1f77b4"
RANDOM = ("random", "none")
# Layout in inches: image height, caption above each image, gaps, panel header, footer, margin.
CELL, CAPTION, GAP, ROW_GAP, PANEL_GAP, HEADER, FOOTER, MARGIN = 1.25, 0.36, 0.06, 0.06, 0.3, 0.5, 0.36, 0.12


@dataclass
class RetrievalPanel:
    """One checkpoint's neighbours for Q queries: ``frames[q][j]`` (``H x W x 3`` uint8 or [0, 1] floats),
    and Q x K ``labels``, ``sims`` and ``match`` (neighbour's class == query's class); ``title`` (bold)
    and ``subtitle`` go above the panel."""

    title: str
    frames: Sequence[Sequence[np.ndarray]]
    labels: np.ndarray
    sims: np.ndarray
    match: np.ndarray
    subtitle: str = ""


# ---------------------------------------------------------------------------------------------- drawing
def _to_uint8(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        frame = (np.clip(frame, 0.0, 1.0) * 255).round().astype(np.uint8)
    return frame


def framed(frame: np.ndarray, color: str) -> np.ndarray:
    """``frame`` (``H x W x 3``) with a border of ``max(2, 6%)`` of its size in ``color`` painted over its edge."""
    from tools.plots import hex_rgb

    out = _to_uint8(frame).copy()
    b = max(2, round(0.06 * max(out.shape[:2])))
    rgb = np.array(hex_rgb(color), np.uint8)
    out[:b], out[-b:], out[:, :b], out[:, -b:] = rgb, rgb, rgb, rgb
    return out


def _short(text: str, n: int = 20) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def class_name(label: int, class_names: Optional[Sequence[str]] = None) -> str:
    """``class_names[label]`` when given (and long enough), else ``"class <label>"``."""
    if class_names is not None and 0 <= int(label) < len(class_names):
        return class_names[int(label)]
    return f"class {int(label)}"


def grid_size(num_queries: int, topk: int, num_panels: int, aspect: float = 1.0) -> Tuple[float, float]:
    """``(width, height)`` in inches of :func:`draw_retrieval_grid`'s figure; ``aspect`` = frame width / height."""
    cw = CELL * aspect
    width = 2 * MARGIN + cw + num_panels * (PANEL_GAP + topk * cw + (topk - 1) * GAP)
    height = HEADER + num_queries * (CAPTION + CELL) + (num_queries - 1) * ROW_GAP + FOOTER
    return width, height


def draw_retrieval_grid(query_frames: Sequence[np.ndarray], query_labels: Sequence[int],
                        panels: Sequence[RetrievalPanel], path: Optional[str] = None,
                        class_names: Optional[Sequence[str]] = None,
                        query_names: Optional[Sequence[str]] = None) -> Tuple[np.ndarray, Dict]:
    """Draw the retrieval grid (no model involved); returns ``(image, boxes)`` and writes a PNG when ``path``.

    Row q: ``query_frames[q]`` (``QUERY_COLOR`` frame, captioned with
    ``query_names[q]`` and its class), then for each panel its K neighbours,
    captioned ``rank. class ✓/✗`` and ``sim``, framed ``MATCH_COLOR`` where
    ``panel.match[q][j]`` else ``MISMATCH_COLOR``.  Panels carry their
    ``title`` and ``subtitle`` above.  Every frame fills a cell of the first
    query frame's aspect ratio (figure size: :func:`grid_size`).

    ``image`` is ``H x W x 3`` uint8 (the PNG's pixels); ``boxes`` gives each
    image cell as ``(x0, y0, x1, y1)`` pixels (x right, y down, end
    exclusive): ``boxes["query"][q]`` and ``boxes["panels"][p][q][j]``.
    """
    from tools.plots import new_figure, render, save_png

    q_count = len(query_frames)
    if q_count == 0 or not panels:
        raise InputError("draw_retrieval_grid needs at least one query and one panel")
    topk = len(panels[0].frames[0])
    for p in panels:
        shapes_ok = np.shape(p.labels) == np.shape(p.sims) == np.shape(p.match) == (q_count, topk)
        if len(p.frames) != q_count or any(len(row) != topk for row in p.frames) or not shapes_ok:
            raise InputError(f"panel {p.title!r}: expected {q_count} x {topk} neighbours, frames, labels and matches")
    h, w = np.shape(query_frames[0])[:2]
    aspect = w / h
    cw = CELL * aspect
    width, height = grid_size(q_count, topk, len(panels), aspect)
    fig = new_figure(width, height, layout=None)

    def cell(x_in: float, top_in: float, frame: np.ndarray, color: str, caption: str):
        ax = fig.add_axes((x_in / width, 1 - (top_in + CELL) / height, cw / width, CELL / height))
        ax.imshow(framed(frame, color), interpolation="antialiased", aspect="auto")
        ax.set_axis_off()
        ax.text(0.5, 1.02, caption, transform=ax.transAxes, ha="center", va="bottom", fontsize=7.5,
                linespacing=1.1)
        return ax

    axes = {"query": [], "panels": [[] for _ in panels]}
    x_panel = [MARGIN + cw + PANEL_GAP + i * (topk * cw + (topk - 1) * GAP + PANEL_GAP) for i in range(len(panels))]
    for q in range(q_count):
        top = HEADER + q * (CAPTION + CELL + ROW_GAP) + CAPTION
        name = _short(query_names[q]) if query_names is not None else f"query {q + 1}"
        axes["query"].append(cell(MARGIN, top, query_frames[q], QUERY_COLOR,
                                  f"{name}\n{_short(class_name(query_labels[q], class_names))}"))
        for p, panel in enumerate(panels):
            row = []
            for j in range(topk):
                ok = bool(panel.match[q][j])
                name = _short(class_name(panel.labels[q][j], class_names), 16)
                caption = f"{j + 1}. {name} {'✓' if ok else '✗'}\nsim {float(panel.sims[q][j]):.3f}"
                row.append(cell(x_panel[p] + j * (cw + GAP), top, panel.frames[q][j],
                                MATCH_COLOR if ok else MISMATCH_COLOR, caption))
            axes["panels"][p].append(row)
    title_y, subtitle_y = 1 - (HEADER - 0.24) / height, 1 - (HEADER - 0.06) / height
    fig.text((MARGIN + cw / 2) / width, subtitle_y, "query", ha="center", va="bottom", fontsize=10, weight="bold")
    block = topk * cw + (topk - 1) * GAP
    for p, panel in enumerate(panels):
        x = (x_panel[p] + block / 2) / width
        fig.text(x, title_y if panel.subtitle else subtitle_y, panel.title, ha="center", va="bottom", fontsize=10,
                 weight="bold")
        if panel.subtitle:
            fig.text(x, subtitle_y, panel.subtitle, ha="center", va="bottom", fontsize=8.5)
    fig.text(0.5, (FOOTER / 2) / height, "frames: blue = query, green = the query's class ✓, red = another "
             "class ✗;  sim = cosine similarity", ha="center", va="center", fontsize=8, color="#333333", wrap=True)
    image = render(fig)
    height_px = image.shape[0]

    def box(ax):
        e = ax.get_window_extent()
        return (int(round(e.x0)), height_px - int(round(e.y1)), int(round(e.x1)), height_px - int(round(e.y0)))

    boxes = {"query": [box(a) for a in axes["query"]],
             "panels": [[[box(a) for a in row] for row in rows] for rows in axes["panels"]]}
    if path:
        save_png(image, path)
    return image, boxes


# ------------------------------------------------------------------------------------ data and features
def display_frame(clip: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """The middle frame of a normalised ``C x T x H x W`` clip as ``H x W x 3`` uint8 RGB.

    Un-normalised with ``mean`` / ``std``; a clip without 3 channels
    (optical flow) is shown as the grey mean of its channels.
    """
    frame = clip[:, clip.shape[1] // 2].float().cpu()
    c = frame.shape[0]
    if c == len(mean) == len(std):
        frame = frame * torch.tensor(std, dtype=frame.dtype).view(-1, 1, 1) + torch.tensor(mean).view(-1, 1, 1)
    if c != 3:
        lo, hi = frame.min(), frame.max()
        frame = ((frame.mean(0, keepdim=True) - lo) / (hi - lo + 1e-8)).expand(3, -1, -1)
    return (frame.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def video_frame(dataset, video: int, mean, std) -> np.ndarray:
    """:func:`display_frame` of ``video``'s middle test view (middle clip, middle crop) of a test-mode dataset."""
    views = dataset.test_views
    crops = dataset.test_crops
    sample = dataset[video * views * crops + (views // 2) * crops + crops // 2]
    return display_frame(sample["views"][0], mean, std)


def is_random(checkpoint: Optional[str]) -> bool:
    return not checkpoint or checkpoint.lower() in RANDOM


def build_model(cfg, checkpoint: Optional[str]):
    """The config's method on CPU, weights from ``checkpoint`` as ``TRAIN.CHECKPOINT_FILE_PATH`` would load them
    (the task decides: backbone only for linear / finetune), or a random init seeded with ``RNG_SEED``.

    Raises FileNotFoundError naming a checkpoint that is no file, zoo name or URL.
    """
    from videossl.engine import weights
    from videossl.engine.tasks import get_task
    from videossl.methods import DEFAULT_ROLE, build_method

    torch.manual_seed(cfg.RNG_SEED)
    method = build_method(cfg)
    if not is_random(checkpoint):
        weights.initialise(method, {DEFAULT_ROLE: weights.resolve_path(checkpoint)}, get_task(cfg.TASK),
                           clear_patterns=cfg.TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN,
                           inflate=cfg.TRAIN.CHECKPOINT_INFLATE,
                           source="caffe2" if cfg.TRAIN.CHECKPOINT_TYPE == "caffe2" else None)
    return method


def retrieval_features(cfg, method, gallery, queries) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(gallery feats, gallery labels, query feats, query labels)``, the retrieval evaluator's features."""
    from videossl.engine.device import get_device
    from videossl.engine.evaluators.base import eval_loader
    from videossl.engine.evaluators.retrieval import per_video_features

    device = get_device(cfg)
    method = method.to(device)
    g_feats, g_labels = per_video_features(method, gallery, lambda ds: eval_loader(cfg, ds), device)
    q_feats, q_labels = per_video_features(method, queries, lambda ds: eval_loader(cfg, ds), device)
    return g_feats.cpu(), g_labels.cpu(), q_feats.cpu(), q_labels.cpu()


def choose_queries(num_videos: int, n: int, seed: int) -> List[int]:
    """``min(n, num_videos)`` distinct query indices drawn with ``seed``, in increasing order."""
    return sorted(random.Random(seed).sample(range(num_videos), min(n, num_videos)))


def checkpoint_title(checkpoint: Optional[str]) -> str:
    return "random init" if is_random(checkpoint) else os.path.basename(checkpoint.rstrip("/"))


def split_overrides(checkpoints: Sequence[str]) -> Tuple[List[str], List[str]]:
    """``--checkpoints A B KEY VALUE ...`` -> ``([A, B], [KEY, VALUE, ...])``: the list ends at the first
    config key (``SECTION.KEY`` in capitals)."""
    for i, item in enumerate(checkpoints):
        if re.fullmatch(r"[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+", item):
            return list(checkpoints[:i]), list(checkpoints[i:])
    return list(checkpoints), []


def add_checkpoint_args(parser: argparse.ArgumentParser, checkpoints_help: str, labels_help: str) -> None:
    """``--cfg`` (repeatable), ``--checkpoints`` and ``--labels``: what the checkpoint-comparing tools share."""
    parser.add_argument("--cfg", required=True, action="append", help="config file (repeat to merge several)")
    parser.add_argument("--checkpoints", "--checkpoint", nargs="+", default=["random"],
                        help=f"{checkpoints_help} (path, zoo name or URL; 'random' = random init)")
    parser.add_argument("--labels", nargs="+", default=None, help=labels_help)


def checkpoints_and_opts(args) -> Tuple[List[str], List[str]]:
    """``(checkpoints, config overrides)`` of a picture tool's ``--checkpoints``, ``--labels`` and trailing
    ``KEY VALUE`` arguments; InputError when no checkpoint is given or the labels do not match them."""
    checkpoints, extra = split_overrides(args.checkpoints)
    opts = extra + list(args.opts)
    if opts[:1] == ["--opts"]:
        opts = opts[1:]
    if not checkpoints:
        raise InputError("--checkpoints needs at least one checkpoint (or 'random')")
    if args.labels is not None and len(args.labels) != len(checkpoints):
        raise InputError(f"--labels gives {len(args.labels)} names for {len(checkpoints)} checkpoints")
    return checkpoints, opts


def require_checkpoints(checkpoints: Sequence[str]) -> None:
    """Fail before any feature pass when a checkpoint is no file, zoo name or URL (FileNotFoundError names it)."""
    from videossl.engine.weights import resolve_path

    for ckpt in checkpoints:
        if not is_random(ckpt):
            resolve_path(ckpt)


def read_class_names(path: str) -> List[str]:
    """One class name per line (line i names class i)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"class-names file not found: {path}")
    with open(path) as f:
        return [line.strip() for line in f]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_checkpoint_args(p, "one panel per checkpoint", "panel titles, one per checkpoint")
    p.add_argument("--num-queries", type=int, default=8)
    p.add_argument("--topk", type=int, default=5)
    p.add_argument("--seed", type=int, default=0, help="seed of the query choice")
    p.add_argument("--class-names", default=None, help="text file, one class name per line")
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE config overrides")
    args = p.parse_args(argv)
    checkpoints, opts = checkpoints_and_opts(args)
    if args.num_queries < 1 or args.topk < 1:
        raise InputError("--num-queries and --topk must be at least 1")
    class_names = read_class_names(args.class_names) if args.class_names else None

    from videossl.config import load_config
    from videossl.engine.evaluators.retrieval import gallery_and_queries
    from videossl.engine.retrieval import nearest_neighbours, retrieval_recall
    from videossl.utils.logging import setup_logging

    setup_logging()
    cfg = load_config(args.cfg, opts)
    require_checkpoints(checkpoints)
    gallery, queries = gallery_and_queries(cfg)
    chosen = choose_queries(queries.num_videos, args.num_queries, args.seed)
    mean, std = cfg.DATA.MEAN, cfg.DATA.STD
    frames: Dict[int, np.ndarray] = {}

    def gallery_frame(v: int) -> np.ndarray:
        if v not in frames:
            frames[v] = video_frame(gallery, v, mean, std)
        return frames[v]

    panels = []
    for i, ckpt in enumerate(checkpoints):
        g_feats, g_labels, q_feats, q_labels = retrieval_features(cfg, build_model(cfg, ckpt), gallery, queries)
        k = min(args.topk, len(g_labels))
        sims, idx = nearest_neighbours(g_feats, q_feats, k)
        recall = retrieval_recall(g_feats, g_labels, q_feats, q_labels, sorted({1, k}))
        idx, sims = idx[chosen].numpy(), sims[chosen].numpy()
        labels = g_labels.numpy()[idx]
        match = labels == q_labels.numpy()[chosen][:, None]
        title = args.labels[i] if args.labels else checkpoint_title(ckpt)
        stats = ", ".join(f"R@{kk} {recall[f'R@{kk}']:.1f}%" for kk in sorted({1, k}))
        panels.append(RetrievalPanel(title, [[gallery_frame(int(v)) for v in row] for row in idx], labels, sims,
                                     match, f"{stats} ({len(q_labels)} queries)"))
        print(f"{title}: {stats} over {len(q_labels)} queries; shown queries: "
              f"{int(match[:, 0].sum())}/{len(chosen)} with a same-class top-1 neighbour")
    query_frames = [video_frame(queries, v, mean, std) for v in chosen]
    query_labels = [int(queries.labels[v]) for v in chosen]
    query_names = [os.path.splitext(os.path.basename(queries.paths[v]))[0] for v in chosen]
    draw_retrieval_grid(query_frames, query_labels, panels, args.out, class_names, query_names)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main("visualize_retrieval", main))
