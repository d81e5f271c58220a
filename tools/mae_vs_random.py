#!/usr/bin/env python3
"""MAE-pretrained vs randomly initialised tiny ViT on the built-in synthetic set.

For every seed this runs, one job after the other (CPU friendly)::

    pretrain   tools/run_net.py --cfg configs/masked_ssl/synthetic/<recipe>_vit_tiny_PT.yaml
                   (final loss: mean of the logged masked-patch losses of the last epoch)
    visualise  tools/visualize_mae.py --cfg <PT cfg> --checkpoint <last ckpt> --video <test videos>
                   (PSNR on masked patches: reconstruction vs mean-fill; the masked-patch
                   loss on these test clips vs the loss of predicting zeros)
    finetune   tools/run_net.py --cfg configs/masked_ssl/synthetic/<FT cfg> \
                   TRAIN.CHECKPOINT_FILE_PATH <last ckpt>               (test top-1, multi-view)
    random     the same finetune without a checkpoint                   (same recipe, random init)

It prints a table (mean ± std over seeds) and writes ``<out>/table.md`` (and
its bar chart ``<out>/table.png``), ``<out>/summary.json`` and
``<out>/commands.txt`` (every command, exactly as run).  Jobs whose result
file exists are not rerun, so an interrupted sweep resumes.

    python tools/mae_vs_random.py --seeds 0 1 2 --out output/mae_vs_random
    python tools/mae_vs_random.py --recipe videomae --seeds 0 --out output/videomae_vs_random
    python tools/mae_vs_random.py --seeds 0 --opts SOLVER.MAX_EPOCH 10 --ft-opts SOLVER.MAX_EPOCH 5
"""

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.sweep import JobRunner, add_override_args, mean_std  # noqa: E402

CFG_DIR = os.path.join("configs", "masked_ssl", "synthetic")
RECIPES = {  # recipe -> (pretrain config, finetune config)
    "mae_st": ("mae_st_vit_tiny_PT.yaml", "vit_tiny_FT.yaml"),
    "videomae": ("videomae_vit_tiny_PT.yaml", "videomae_vit_tiny_FT.yaml"),
}
PT_RESULT = "results_pretrain_loss.json"
FT_RESULT = "results_finetune_topk.json"
VIS_RESULT = "psnr.json"
# (key in the per-seed record, table label, format)
COLUMNS = [
    ("pretrain_loss", "pretrain final loss (training clips, last epoch)", "{:.3f} ± {:.3f}"),
    ("test_loss", "masked-patch loss on the test clips", "{:.3f} ± {:.3f}"),
    ("test_loss_zero_prediction", "same patches, predicting zeros", "{:.3f} ± {:.3f}"),
    ("psnr_reconstruction", "PSNR masked patches: reconstruction (dB)", "{:.2f} ± {:.2f}"),
    ("psnr_mean_fill", "PSNR masked patches: mean-fill (dB)", "{:.2f} ± {:.2f}"),
    ("psnr_gain", "PSNR gain over mean-fill (dB)", "{:+.2f} ± {:.2f}"),
    ("psnr_gain_patch_mean", "PSNR gain over patch-mean fill (dB)", "{:+.2f} ± {:.2f}"),
    ("top1_random", "finetune top-1, random init (%)", "{:.1f} ± {:.1f}"),
    ("top1_mae", "finetune top-1, MAE init (%)", "{:.1f} ± {:.1f}"),
    ("top1_gain", "gain of MAE init (points)", "{:+.1f} ± {:.1f}"),
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipe", default="mae_st", choices=list(RECIPES))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--out", default="output/mae_vs_random")
    add_override_args(p, [("--opts", "the pretraining jobs"), ("--ft-opts", "both finetune jobs")],
                      "every job, visualisation included (e.g. SYNTHETIC.* keys)")
    p.add_argument("--vis-videos", type=int, default=8,
                   help="test videos (one per class, round robin) whose masked-patch PSNR is averaged")
    p.add_argument("--python", default=sys.executable)
    return p.parse_args(argv)


def last_epoch_loss(log_path: str) -> dict:
    """Mean of the ``train_iter`` losses logged in the last epoch of a ``stdout.log``."""
    from videossl.utils.logging import read_json_stats

    rows = [s for s in read_json_stats(log_path, "train_iter") if "loss" in s]
    if not rows:
        raise ValueError(f"{log_path}: no train_iter losses logged")
    last = rows[-1]["epoch"]
    losses = [r["loss"] for r in rows if r["epoch"] == last]
    return {"loss": sum(losses) / len(losses), "epoch": last, "num_logged": len(losses),
            "last_iter_loss": rows[-1]["loss"]}


class Runner:
    def __init__(self, args):
        self.args = args
        self.pt_cfg, self.ft_cfg = (os.path.join(CFG_DIR, c) for c in RECIPES[args.recipe])
        self.jobs = JobRunner(args.out, "mae_vs_random", args.python, args.data_opts)
        self.pt_opts = list(args.data_opts) + list(args.opts)  # for the jobs JobRunner does not start
        self._call = self.jobs.call

    def run(self, cfg, out_dir, opts, result_file):
        """Run one training job unless ``out_dir/result_file`` exists; return that JSON."""
        return self.jobs.run_net(cfg, out_dir, opts, result_file)

    def pretrain(self, seed):
        from videossl.utils.checkpoint import last_checkpoint

        out_dir = os.path.join(self.args.out, f"seed{seed}", "pretrain")
        result = os.path.join(out_dir, PT_RESULT)
        if not os.path.isfile(result):
            self._call([self.args.python, "tools/run_net.py", "--cfg", self.pt_cfg, "OUTPUT_DIR", out_dir,
                        "RNG_SEED", str(seed)] + self.pt_opts)
            ckpt = last_checkpoint(out_dir, "ssl")
            if ckpt is None:
                raise SystemExit(f"pretraining wrote no checkpoint in {out_dir}")
            with open(result, "w") as f:
                json.dump({**last_epoch_loss(os.path.join(out_dir, "stdout.log")), "checkpoint": ckpt}, f, indent=2)
        with open(result) as f:
            return json.load(f)

    def visualise(self, seed, ckpt):
        out_dir = os.path.join(self.args.out, f"seed{seed}", "pretrain")
        result = os.path.join(out_dir, VIS_RESULT)
        if not os.path.isfile(result):
            videos = test_videos(self.pt_cfg, self.pt_opts, self.args.vis_videos)
            self._call([self.args.python, "tools/visualize_mae.py", "--cfg", self.pt_cfg, "--checkpoint", ckpt,
                        "--video"] + videos + ["--out", os.path.join(out_dir, "reconstruction.png"),
                                               "--seed", str(seed), "--json-out", result] + self.pt_opts)
        with open(result) as f:
            return json.load(f)

    def seed_record(self, seed):
        pt = self.pretrain(seed)
        vis = self.visualise(seed, pt["checkpoint"])
        common = ["RNG_SEED", str(seed)] + list(self.args.ft_opts)
        base = os.path.join(self.args.out, f"seed{seed}")
        mae = self.run(self.ft_cfg, os.path.join(base, "finetune_mae"),
                       common + ["TRAIN.CHECKPOINT_FILE_PATH", pt["checkpoint"]], FT_RESULT)
        rnd = self.run(self.ft_cfg, os.path.join(base, "finetune_random"), common, FT_RESULT)
        record = {
            "pretrain_loss": pt["loss"],
            "psnr_reconstruction": vis["psnr_reconstruction"], "psnr_mean_fill": vis["psnr_mean_fill"],
            "psnr_gain": vis["psnr_reconstruction"] - vis["psnr_mean_fill"],
            "psnr_gain_patch_mean": vis["psnr_reconstruction"] - vis["psnr_patch_mean_fill"],
            "top1_random": rnd["top1_acc"], "top1_mae": mae["top1_acc"],
            "top1_gain": mae["top1_acc"] - rnd["top1_acc"],
        }
        if "loss" in vis:  # visualisations written before these were measured lack them
            record["test_loss"], record["test_loss_zero_prediction"] = vis["loss"], vis["loss_zero_prediction"]
        return record


def test_videos(cfg_path, opts, n):
    """``n`` test-split videos of the dataset that ``cfg_path`` + ``opts`` select (``TEST.DATASET``:
    the built-in synthetic set or any registered dataset, e.g. Kinetics-layout CSVs): classes round robin."""
    from videossl.config import load_config
    from videossl.data.build import DATASETS

    cfg = load_config([os.path.join(ROOT, cfg_path)], list(opts))
    records = DATASETS[cfg.TEST.DATASET.lower()](cfg, "test").records
    by_class = {}
    for rec in records:
        by_class.setdefault(int(rec.label), []).append(rec.path)
    picked, i = [], 0
    while len(picked) < min(n, len(records)):
        for c in sorted(by_class):
            if i < len(by_class[c]) and len(picked) < n:
                picked.append(by_class[c][i])
        i += 1
    return picked


def write_summary(out, records, recipe="mae_st"):
    """``records``: seed -> per-seed record.  Writes table.md / summary.json; returns the table."""
    seeds = sorted(records)
    rows = [f"| {recipe}: metric | mean ± std | per seed ({', '.join(str(s) for s in seeds)}) |",
            "|---|---|---|"]
    summary = {"recipe": recipe, "seeds": seeds, "per_seed": {str(s): records[s] for s in seeds}}
    for key, label, fmt in COLUMNS:
        vals = [records[s][key] for s in seeds if key in records[s]]
        if not vals:
            continue
        mean, std = mean_std(vals)
        summary[key] = {"mean": mean, "std": std, "n": len(vals)}
        per = ", ".join(f"{v:.3f}" if "loss" in key else f"{v:.1f}" if "top1" in key else f"{v:.2f}" for v in vals)
        rows.append(f"| {label} | {fmt.format(mean, std)} | {per} |")
    table = "\n".join(rows)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    write_chart(out, summary, recipe)
    return table


# (panel title, value format, [(bar label, summary key, series)]): baseline bars grey, MAE bars blue
CHART = [
    ("finetune top-1 (%)", "{:.1f}", [("random init", "top1_random", "baseline"), ("MAE init", "top1_mae", "MAE")]),
    ("masked-patch loss, test clips", "{:.3f}",
     [("predict zeros", "test_loss_zero_prediction", "baseline"), ("MAE", "test_loss", "MAE")]),
    ("PSNR masked patches (dB)", "{:.2f}",
     [("mean-fill", "psnr_mean_fill", "baseline"), ("reconstruction", "psnr_reconstruction", "MAE")]),
]


def write_chart(out, summary, recipe="mae_st"):
    """``<out>/table.png``: MAE vs its baseline (random init, predicting zeros, mean-fill), mean ± std.

    A panel whose keys ``summary`` lacks is left out.  Returns the path, or
    None when nothing can be drawn or matplotlib is not installed.
    """
    try:
        from tools.plots import BarPanel, bar_chart, over_seeds
    except ImportError as err:
        print(f"mae_vs_random: no table.png ({err})")
        return None
    panels = []
    for title, fmt, bars in CHART:
        if all(key in summary for _, key, _ in bars):
            panels.append(BarPanel(title, {label: {series: (summary[key]["mean"], summary[key]["std"])}
                                           for label, key, series in bars}, fmt=fmt))
    if not panels:
        return None
    path = os.path.join(out, "table.png")
    bar_chart(panels, ["baseline", "MAE"], path,
              title=f"{recipe}: MAE vs baselines ({over_seeds(len(summary['seeds']))})")
    return path


def main(argv=None) -> int:
    args = parse_args(argv)
    runner = Runner(args)
    records = {}
    for seed in args.seeds:
        records[seed] = runner.seed_record(seed)
        write_summary(args.out, records, args.recipe)
    print(write_summary(args.out, records, args.recipe))
    return 0


if __name__ == "__main__":
    sys.exit(main())
