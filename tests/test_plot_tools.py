"""The picture tools: bar charts of the sweeps, training curves, the retrieval grid (pixels checked)."""

import json
import os
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from PIL import Image  # noqa: E402

from tools import mae_vs_random as mvr  # noqa: E402
from tools import plot_stats as ps  # noqa: E402
from tools import ssl_vs_random as svr  # noqa: E402
from tools import visualize_retrieval as vr  # noqa: E402
from tools.cli import run_main  # noqa: E402
from tools.plots import DPI, RUN_COLORS, SERIES_COLORS, BarPanel, bar_chart, hex_rgb  # noqa: E402
from videossl.errors import InputError  # noqa: E402


def _png(path):
    """The PNG at ``path`` as an ``H x W x 3`` uint8 array."""
    assert os.path.isfile(path), path
    return np.asarray(Image.open(path).convert("RGB"))


def _count(image, color, tol=12):
    """Pixels of ``image`` within ``tol`` of ``color`` (hex) in every channel."""
    diff = np.abs(image.astype(int) - np.array(hex_rgb(color)))
    return int((diff <= tol).all(axis=2).sum())


def _size(inches_w, inches_h):
    return round(inches_h * DPI), round(inches_w * DPI)


# ------------------------------------------------------------------------------------------ bar charts
def test_bar_chart_size_bars_and_png(tmp_path):
    panels = [BarPanel("top-1", {"moco": {"random": (25.0, 1.0), "pretrained": (45.0, 3.0)},
                                 "byol": {"random": (25.0, 1.0), "pretrained": (40.0, 2.0)}}),
              BarPanel("R@1", {"moco": {"random": (20.0, 0.5), "pretrained": (38.0, 1.0)}})]
    out = tmp_path / "bars.png"
    image = bar_chart(panels, ["random", "pretrained"], str(out), title="t")
    widths = [max(2.6, 1.2 + 1.1 * 2), max(2.6, 1.2 + 1.1 * 1)]
    assert image.shape == (*_size(sum(widths), 3.6), 3)
    np.testing.assert_array_equal(_png(out), image)
    for color in SERIES_COLORS[:2]:  # grey (random) and blue (pretrained) bars
        assert _count(image, color) > 1000
    # the tallest blue bar (45) is taller than the tallest grey one (25): compare column heights
    grey = (np.abs(image.astype(int) - hex_rgb(SERIES_COLORS[0])) <= 12).all(2).sum(0).max()
    blue = (np.abs(image.astype(int) - hex_rgb(SERIES_COLORS[1])) <= 12).all(2).sum(0).max()
    assert blue > 1.5 * grey


def test_ssl_vs_random_writes_table_png(tmp_path):
    results = {"random": {0: {"linear_top1": 25.0, "R@1": 22.0}, 1: {"linear_top1": 27.0, "R@1": 24.0}},
               "moco": {0: {"linear_top1": 45.0, "R@1": 40.0}, 1: {"linear_top1": 49.0, "R@1": 42.0}},
               "byol": {0: {"linear_top1": 35.0, "R@1": 30.0}}}
    table = svr._write(SimpleNamespace(out=str(tmp_path), methods=["moco", "byol"]), results)
    assert "| moco | pretrained | 47.0 ± 2.8 |" in table
    image = _png(tmp_path / "table.png")
    assert image.shape[:2] == _size(2 * max(2.6, 1.2 + 1.1 * 2), 3.6)
    assert _count(image, SERIES_COLORS[0]) > 1000 and _count(image, SERIES_COLORS[1]) > 1000


@pytest.mark.parametrize("with_loss", [True, False])
def test_mae_vs_random_writes_table_png(tmp_path, with_loss):
    records = {s: {"pretrain_loss": 0.3, "psnr_reconstruction": 25.0 + s, "psnr_mean_fill": 20.0,
                   "psnr_gain": 5.0 + s, "top1_random": 30.0 + s, "top1_mae": 55.0 + s, "top1_gain": 25.0}
               for s in (0, 1)}
    if with_loss:
        for r in records.values():
            r.update(test_loss=0.3, test_loss_zero_prediction=0.99)
    mvr.write_summary(str(tmp_path), records, "mae_st")
    image = _png(tmp_path / "table.png")
    panels = 3 if with_loss else 2  # the loss panel needs the test-clip losses
    assert image.shape[:2] == _size(panels * max(2.6, 1.2 + 1.1 * 2), 3.6)
    assert _count(image, SERIES_COLORS[0]) > 1000 and _count(image, SERIES_COLORS[1]) > 1000


# ----------------------------------------------------------------------------------------- plot_stats
def _line(**stats):
    return "[12/01 10:00:00 logging.py:51] json_stats: " + json.dumps(stats, sort_keys=True) + "\n"


def _fake_log(path, loss0=2.0, with_linear=True):
    lines = ["[12/01 10:00:00 run.py:40] model: MoCo\n"]
    for e in range(1, 5):
        for it in (5, 10):
            lines.append(_line(_type="train_iter", epoch=f"{e}/4", iter=f"{it}/10", loss=loss0 / (e + it / 10),
                               lr=0.1 * e, time_diff=0.1))
        lines.append(_line(_type="train_epoch", epoch=f"{e}/4", samples=80))
        if e % 2 == 0 and e < 4:
            lines.append(_line(_type="knn_epoch", epoch=f"{e}/4", top1_acc=30.0 + 5 * e, top5_acc=80.0, k=20, T=0.07))
    lines.append("[12/01 10:05:00 run.py:101] test results (out/results_pretrain_knn.json): "
                 + json.dumps({"task": "pretrain", "evaluator": "knn", "protocol": "kNN", "top1_acc": 52.0,
                               "top5_acc": 90.0, "k": 20}) + "\n")
    lines.append("not a stats line\n")
    if with_linear:  # a linear probe in the same OUTPUT_DIR: a second phase
        for e in (1, 2):
            lines.append(_line(_type="train_iter", epoch=f"{e}/2", iter="10/10", loss=1.0 / e, lr=0.01))
        lines.append("[12/01 10:09:00 run.py:101] test results (out/results_linear_topk.json): "
                     + json.dumps({"task": "linear", "evaluator": "topk", "top1_acc": 61.0, "chance_acc": 12.5,
                                   "num_videos": 64}) + "\n")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.writelines(lines)
    return path


def test_parse_log_phases_fractional_epochs_and_tests(tmp_path):
    log = _fake_log(str(tmp_path / "run" / "stdout.log"))
    phases = ps.parse_log(log)
    assert [p.epochs for p in phases] == [4, 2]
    pre, lin = phases
    assert sorted(pre.train_iter["loss"]) == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
    assert pre.evals == {"knn: top1_acc": {2.0: 40.0}, "knn: top5_acc": {2.0: 80.0}}  # k, T are no metrics
    assert pre.tests == {"knn: top1_acc": 52.0, "knn: top5_acc": 90.0}
    assert lin.tests == {"topk: top1_acc": 61.0} and lin.tasks == ["linear"]  # chance_acc, num_videos left out
    curves = ps.run_curves(phases, "moco", 0)
    labels = {c.label for c in curves}
    assert labels == {"moco (pretrain, 4 ep)", "moco (linear, 2 ep)"}
    final = [c for c in curves if c.final]
    assert {(c.panel, c.x[0]) for c in final} == {("knn: top1_acc", 4.0), ("knn: top5_acc", 4.0),
                                                  ("topk: top1_acc", 2.0)}


def test_resumed_iterations_keep_the_later_value(tmp_path):
    log = tmp_path / "stdout.log"
    log.write_text(_line(_type="train_iter", epoch="1/2", iter="10/10", loss=5.0)
                   + _line(_type="train_iter", epoch="2/2", iter="5/10", loss=4.0)
                   + _line(_type="train_iter", epoch="2/2", iter="5/10", loss=3.0)  # resumed: repeated
                   + _line(_type="train_iter", epoch="2/2", iter="10/10", loss="nan"))
    (phase,) = ps.parse_log(str(log))
    loss = phase.train_iter["loss"]
    assert loss[1.0] == 5.0 and loss[1.5] == 3.0 and np.isnan(loss[2.0])


def test_plot_stats_png_size_and_run_colours(tmp_path):
    a = _fake_log(str(tmp_path / "a" / "stdout.log"))
    _fake_log(str(tmp_path / "b" / "stdout.log"), loss0=3.0, with_linear=False)
    out = tmp_path / "stats.png"
    assert ps.main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out), "--title", "two runs"]) == 0
    image = _png(out)
    # curve panels: loss, lr, knn top1, knn top5 (2 rows of 3) + the final-test row; legend: 3 (run, phase) entries
    assert image.shape[:2] == _size(*ps.figure_size(4, True, 3, True))
    for color in RUN_COLORS[:2]:  # run a blue, run b orange
        assert _count(image, color, tol=20) > 300
    # the same figure from the parsed curves, without a title, is one title strip shorter
    curves = ps.run_curves(ps.parse_log(a), "a", 0)
    image2 = ps.draw_stats(curves)
    assert image2.shape[:2] == _size(*ps.figure_size(4, True, 2))
    assert _count(image2, RUN_COLORS[1], tol=20) == 0


def test_plot_stats_metrics_option_and_labels(tmp_path):
    _fake_log(str(tmp_path / "a" / "stdout.log"), with_linear=False)
    out = tmp_path / "stats.png"
    assert ps.main([str(tmp_path / "a" / "stdout.log"), "--labels", "A", "--metrics", "top1_acc",
                    "--out", str(out)]) == 0
    assert _png(out).shape[:2] == _size(*ps.figure_size(3, True, 1))  # loss, lr, knn top1


def test_plot_stats_errors_name_the_culprit(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert run_main("plot_stats", ps.main, [str(missing), "--out", str(tmp_path / "x.png")]) == 2
    assert f"log not found: {missing}" in capsys.readouterr().err
    (tmp_path / "empty_run").mkdir()
    assert run_main("plot_stats", ps.main, [str(tmp_path / "empty_run"), "--out", str(tmp_path / "x.png")]) == 2
    assert "no stdout.log in run directory" in capsys.readouterr().err
    plain = tmp_path / "plain.log"
    plain.write_text("hello\n")
    assert run_main("plot_stats", ps.main, [str(plain), "--out", str(tmp_path / "x.png")]) == 2
    assert f"{plain}: no json_stats lines" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


# ------------------------------------------------------------------------------------- retrieval grid
def _border_color(image, box, side):
    """The pixel 2 px inside ``box``'s ``side`` edge, at the middle of that edge."""
    x0, y0, x1, y1 = box
    if side == "left":
        return image[(y0 + y1) // 2, x0 + 2]
    return image[y0 + 2, (x0 + x1) // 2]


def _is(pixel, color, tol=40):
    return bool((np.abs(pixel.astype(int) - np.array(hex_rgb(color))) <= tol).all())


def test_retrieval_grid_borders_follow_the_matches(tmp_path):
    rng = np.random.RandomState(0)
    q, k = 3, 4
    query_frames = [rng.randint(60, 200, (32, 32, 3)).astype(np.uint8) for _ in range(q)]
    match_a = np.array([[1, 0, 0, 1], [0, 0, 0, 0], [1, 1, 1, 0]], bool)
    match_b = ~match_a
    panels = [vr.RetrievalPanel(name, [[rng.rand(32, 32, 3) for _ in range(k)] for _ in range(q)],
                                np.where(m, 1, 2), np.linspace(0.9, 0.1, q * k).reshape(q, k), m, "R@1 50.0%")
              for name, m in (("random init", match_a), ("pretrained", match_b))]
    out = tmp_path / "grid.png"
    image, boxes = vr.draw_retrieval_grid(query_frames, [1, 1, 1], panels, str(out), class_names=["a", "b", "c"])
    assert image.shape[:2] == _size(*vr.grid_size(q, k, 2))
    np.testing.assert_array_equal(_png(out), image)
    for row in range(q):
        for side in ("left", "top"):
            assert _is(_border_color(image, boxes["query"][row], side), vr.QUERY_COLOR)
        for p, panel in enumerate(panels):
            for j in range(k):
                want = vr.MATCH_COLOR if panel.match[row][j] else vr.MISMATCH_COLOR
                for side in ("left", "top"):
                    assert _is(_border_color(image, boxes["panels"][p][row][j], side), want), (p, row, j, side)
    # cells of one row share their top edge; panels do not overlap
    assert len({b[1] for b in boxes["panels"][0][0] + boxes["panels"][1][0]}) == 1
    assert boxes["panels"][0][0][-1][2] < boxes["panels"][1][0][0][0]


def test_retrieval_grid_rejects_ragged_panels():
    frame = np.zeros((8, 8, 3), np.uint8)
    panel = vr.RetrievalPanel("x", [[frame, frame]], np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 3), bool))
    with pytest.raises(InputError, match="panel 'x'"):
        vr.draw_retrieval_grid([frame], [0], [panel])


def test_display_frame_undoes_the_normalisation():
    mean, std = (0.45, 0.4, 0.5), (0.225, 0.2, 0.25)
    rgb = torch.rand(3, 5, 6, 7)
    clip = (rgb - torch.tensor(mean).view(3, 1, 1, 1)) / torch.tensor(std).view(3, 1, 1, 1)
    frame = vr.display_frame(clip, mean, std)
    assert frame.shape == (6, 7, 3) and frame.dtype == np.uint8
    np.testing.assert_allclose(frame, (rgb[:, 2].permute(1, 2, 0).numpy() * 255), atol=1)


def test_neighbours_agree_with_the_evaluator_recall():
    from videossl.engine.retrieval import nearest_neighbours, retrieval_recall

    gen = torch.Generator().manual_seed(0)
    g, q = torch.randn(20, 5, generator=gen) + 2, torch.randn(9, 5, generator=gen)
    gl, ql = torch.randint(0, 3, (20,), generator=gen), torch.randint(0, 3, (9,), generator=gen)
    sims, idx = nearest_neighbours(g, q, 3, chunk_size=4)
    assert sims.shape == idx.shape == (9, 3) and (sims[:, :-1] >= sims[:, 1:]).all()
    hit1 = (gl[idx[:, 0]] == ql).double().mean().item() * 100
    assert retrieval_recall(g, gl, q, ql, (1,))["R@1"] == pytest.approx(hit1)


def test_checkpoint_list_stops_at_config_keys():
    assert vr.split_overrides(["random", "out/a.pyth", "DATA.NUM_FRAMES", "4"]) == \
        (["random", "out/a.pyth"], ["DATA.NUM_FRAMES", "4"])
    assert vr.split_overrides(["random"]) == (["random"], [])


def _tiny_opts():
    from conftest import tiny_cfg_opts

    return tiny_cfg_opts(**{"SYNTHETIC.NUM_CLASSES": 4, "SYNTHETIC.TRAIN_PER_CLASS": 2,
                            "SYNTHETIC.TEST_PER_CLASS": 1})


def test_visualize_retrieval_end_to_end(tmp_path, capsys):
    """Random init next to a (random) MoCo pretraining checkpoint loaded into the linear config's backbone."""
    from videossl.config import load_config
    from videossl.methods import build_method

    opts = _tiny_opts()
    moco_cfg = load_config([os.path.join(ROOT, "configs/synthetic/contrastive_ssl/MoCo_R10.yaml")],
                           opts + ["MODEL.NUM_CLASSES", "16", "CONTRASTIVE.DIM", "16", "CONTRASTIVE.QUEUE_LEN", "8",
                                   "CONTRASTIVE.MLP_DIM", "16"])
    torch.manual_seed(1)
    ckpt = tmp_path / "moco.pyth"
    torch.save({"model_state": build_method(moco_cfg).state_dict(), "epoch": 1}, ckpt)
    out = tmp_path / "retrieval.png"
    cfg = os.path.join(ROOT, "configs/synthetic/contrastive_ssl/linear_R10.yaml")
    assert vr.main(["--cfg", cfg, "--checkpoints", "random", str(ckpt), "--num-queries", "3", "--topk", "2",
                    "--out", str(out), *opts]) == 0
    printed = capsys.readouterr().out
    assert "random init: R@1" in printed and "moco.pyth: R@1" in printed and "over 4 queries" in printed
    image = _png(out)
    assert image.shape[:2] == _size(*vr.grid_size(3, 2, 2))
    assert _count(image, vr.QUERY_COLOR) > 500
    assert _count(image, vr.MATCH_COLOR) + _count(image, vr.MISMATCH_COLOR) > 4 * 500  # 12 framed neighbours

    assert run_main("visualize_retrieval", vr.main, ["--cfg", cfg, "--checkpoints", str(tmp_path / "nope.pyth"),
                                                     "--out", str(tmp_path / "x.png"), *opts]) == 2
    assert f"checkpoint not found: {tmp_path / 'nope.pyth'}" in capsys.readouterr().err
