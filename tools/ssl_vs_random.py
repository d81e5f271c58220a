#!/usr/bin/env python3
"""SSL-pretrained vs randomly initialised backbone on the built-in synthetic set.

For every seed and every method (MoCo, BYOL, SimCLR, SwAV) this runs, one job
after the other (CPU friendly)::

    pretrain   tools/run_net.py --cfg configs/synthetic/contrastive_ssl/<M>_R10.yaml
    linear     tools/run_net.py --cfg configs/synthetic/contrastive_ssl/linear_R10.yaml \
                   TRAIN.CHECKPOINT_FILE_PATH <pretrain checkpoint>        (top-1, multi-view test)
    retrieval  ... linear_R10.yaml TRAIN.ENABLE False TEST.EVALUATOR retrieval \
                   TRAIN.CHECKPOINT_FILE_PATH <pretrain checkpoint>        (R@1, CoCLR protocol)

and, once per seed, the same linear and retrieval jobs on a randomly
initialised backbone (no checkpoint).  It prints a table method x {random,
pretrained} x {linear top-1, R@1}, mean ± std over seeds, and writes
``<out>/table.md`` (and its bar chart ``<out>/table.png``), ``<out>/summary.json``
and ``<out>/commands.txt`` (every command, exactly as run).  Jobs whose result file exists are not rerun, so an
interrupted sweep resumes.

    python tools/ssl_vs_random.py --seeds 0 --out output/ssl_vs_random
    python tools/ssl_vs_random.py --seeds 0 1 2 --methods moco byol simclr swav
    python tools/ssl_vs_random.py --seeds 0 --opts SOLVER.MAX_EPOCH 10   # applied to pretraining
    bash scripts/fight_ssl_vs_random.sh     # real videos: --data-opts point every job at a Kinetics-style CSV
"""

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.sweep import JobRunner, add_override_args, mean_std  # noqa: E402

CFG_DIR = os.path.join("configs", "synthetic", "contrastive_ssl")
LINEAR_CFG = os.path.join(CFG_DIR, "linear_R10.yaml")


def method_configs(cfg_dir: str = CFG_DIR) -> dict:
    """``{SSL.METHOD: config file name}`` of the pretraining configs in ``cfg_dir`` (a new config joins by itself)."""
    import yaml

    found = {}
    for name in sorted(os.listdir(os.path.join(ROOT, cfg_dir))):
        if name.endswith(".yaml"):
            with open(os.path.join(ROOT, cfg_dir, name)) as f:
                doc = yaml.safe_load(f) or {}
            method = (doc.get("SSL") or {}).get("METHOD")
            if doc.get("TASK") == "pretrain" and method:
                found[method] = name
    return found


METHOD_CFG = method_configs()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="+", default=list(METHOD_CFG), choices=list(METHOD_CFG))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--out", default="output/ssl_vs_random")
    add_override_args(p, [("--opts", "the pretraining jobs"), ("--eval-opts", "linear/retrieval jobs")],
                      "every job (another dataset: TRAIN.DATASET kinetics TEST.DATASET kinetics "
                      "DATA.PATH_TO_DATA_DIR ...)")
    p.add_argument("--python", default=sys.executable)
    return p.parse_args(argv)


class Runner:
    def __init__(self, args):
        self.args = args
        self.jobs = JobRunner(args.out, "ssl_vs_random", args.python, args.data_opts)

    def run(self, cfg, out_dir, opts, result_file):
        """Run one job unless ``out_dir/result_file`` exists; return that JSON (or None)."""
        return self.jobs.run_net(cfg, out_dir, opts, result_file)

    def evaluate(self, tag_dir, seed, ckpt):
        init = ["TRAIN.CHECKPOINT_FILE_PATH", ckpt] if ckpt else []
        common = ["RNG_SEED", str(seed)] + init + list(self.args.eval_opts)
        lin = self.run(LINEAR_CFG, os.path.join(tag_dir, "linear"), common + ["TEST.EVALUATOR", "topk"],
                       "results_linear_topk.json")
        ret = self.run(LINEAR_CFG, os.path.join(tag_dir, "retrieval"),
                       common + ["TRAIN.ENABLE", "False", "TEST.EVALUATOR", "retrieval"],
                       "results_linear_retrieval.json")
        return {"linear_top1": lin["top1_acc"], "R@1": ret["R@1"]}

    def pretrain(self, method, seed):
        from videossl.utils.checkpoint import last_checkpoint

        out_dir = os.path.join(self.args.out, method, f"seed{seed}", "pretrain")
        ckpt = last_checkpoint(out_dir, "ssl")
        if ckpt is None or not os.path.isfile(os.path.join(out_dir, "done")):
            self.run(os.path.join(CFG_DIR, METHOD_CFG[method]), out_dir,
                     ["RNG_SEED", str(seed), "TEST.ENABLE", "False"] + list(self.args.opts), None)
            ckpt = last_checkpoint(out_dir, "ssl")
            if ckpt is None:
                raise SystemExit(f"pretraining wrote no checkpoint in {out_dir}")
            open(os.path.join(out_dir, "done"), "w").close()
        return ckpt


def main(argv=None) -> int:
    args = parse_args(argv)
    runner = Runner(args)
    results = {"random": {}, **{m: {} for m in args.methods}}
    for seed in args.seeds:
        results["random"][seed] = runner.evaluate(os.path.join(args.out, "random", f"seed{seed}"), seed, None)
        for method in args.methods:
            ckpt = runner.pretrain(method, seed)
            results[method][seed] = runner.evaluate(
                os.path.join(args.out, method, f"seed{seed}"), seed, ckpt)
            _write(args, results)
    table = _write(args, results)
    print(table)
    return 0


def _write(args, results):
    rows = ["| method | init | linear top-1 (%) | R@1 (%) | seeds |", "|---|---|---|---|---|"]
    summary = {}

    def fmt(vals):
        mean, std = mean_std(vals)
        return f"{mean:.1f} ± {std:.1f}", (mean, std)

    rand = results["random"]
    for method in args.methods:
        done = sorted(s for s in results[method] if s in rand)
        if not done:
            continue
        summary[method] = {}
        for init, src in (("random", rand), ("pretrained", results[method])):
            lin_s, lin = fmt([src[s]["linear_top1"] for s in done])
            r1_s, r1 = fmt([src[s]["R@1"] for s in done])
            rows.append(f"| {method} | {init} | {lin_s} | {r1_s} | {len(done)} |")
            summary[method][init] = {"linear_top1": lin, "R@1": r1, "seeds": done,
                                     "per_seed": {s: src[s] for s in done}}
        gain_lin = summary[method]["pretrained"]["linear_top1"][0] - summary[method]["random"]["linear_top1"][0]
        gain_r1 = summary[method]["pretrained"]["R@1"][0] - summary[method]["random"]["R@1"][0]
        summary[method]["gain"] = {"linear_top1": gain_lin, "R@1": gain_r1}
        rows.append(f"| {method} | gain | {gain_lin:+.1f} | {gain_r1:+.1f} | |")
    table = "\n".join(rows)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    write_chart(args.out, summary)
    return table


def write_chart(out: str, summary: dict):
    """``<out>/table.png``: linear top-1 and R@1 bars, random vs pretrained per method, ± std over seeds.

    Returns the path, or None when there is nothing to draw or matplotlib is
    not installed (the table is the result; the picture is a view of it).
    """
    if not summary:
        return None
    try:
        from tools.plots import BarPanel, bar_chart, over_seeds
    except ImportError as err:
        print(f"ssl_vs_random: no table.png ({err})")
        return None
    panels = [BarPanel(title, {m: {init: tuple(summary[m][init][key]) for init in ("random", "pretrained")}
                               for m in summary})
              for key, title in (("linear_top1", "linear top-1 (%)"), ("R@1", "R@1 (%)"))]
    counts = {len(summary[m]["pretrained"]["seeds"]) for m in summary}
    path = os.path.join(out, "table.png")
    bar_chart(panels, ["random", "pretrained"], path,
              title=f"SSL-pretrained vs random init ({over_seeds(counts.pop() if len(counts) == 1 else None)})")
    return path


if __name__ == "__main__":
    sys.exit(main())
