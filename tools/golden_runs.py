#!/usr/bin/env python3
"""Golden runs: prove that a restructuring leaves training bit-identical.

Runs a short fixed schedule (2 epochs x 12 iterations) of every shipped
synthetic config and records, per run, every iteration's logged values
(loss and the method's other stats, at full float precision), the final
weights' SHA-256 (all of ``model_state``, and per tensor) and the test
result.  Evaluation runs chain from the pretraining runs' final checkpoints
(linear from MoCo, retrieval of MoCo's backbone, the two ViT finetunes from
MAE-ST and VideoMAE), so weight loading is covered too.

    python tools/golden_runs.py --out golden/before.json            # record
    python tools/golden_runs.py --compare golden/before.json golden/after.json

Runs are deterministic on one machine (same hardware, same library
versions), so compare records made on the same machine.  ``--compare``
prints one table row per run and exits 1 if anything differs; with
``--rtol`` it also reports the largest relative loss difference.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# A short schedule every config gets: 2 epochs of 12 iterations, an iteration's stats each logged,
# a checkpoint every epoch, no workers (the data is seeded per sample, so workers change nothing but time).
SHORT = ["SOLVER.MAX_EPOCH", "2", "TRAIN.ITERS_PER_EPOCH", "12", "SOLVER.WARMUP_EPOCHS", "1.0",
         "LOG_PERIOD", "1", "TRAIN.CHECKPOINT_PERIOD", "1", "DATA_LOADER.NUM_WORKERS", "0",
         "TRAIN.AUTO_RESUME", "False", "TENSORBOARD.ENABLE", "False", "LOG_MODEL_INFO", "False"]

# name -> (config, extra overrides, run whose final checkpoint initialises this one, key for that path)
RUNS = {
    "supervised": ("configs/synthetic/supervised_R10.yaml", [], None, None),
    "moco": ("configs/synthetic/contrastive_ssl/MoCo_R10.yaml", [], None, None),
    # MoCo-v2's colour augmentation on coloured videos (the shipped synthetic recipe turns it off):
    # jitter, grey, blur, so the colour kernels are covered too
    "moco_colour": ("configs/synthetic/contrastive_ssl/MoCo_R10.yaml",
                    ["DATA.SSL_COLOR_JITTER", "True", "SYNTHETIC.COLOUR_VARIATION", "1.0"], None, None),
    "byol": ("configs/synthetic/contrastive_ssl/BYOL_R10.yaml", [], None, None),
    "simclr": ("configs/synthetic/contrastive_ssl/SimCLR_R10.yaml", [], None, None),
    "swav": ("configs/synthetic/contrastive_ssl/SwAV_R10.yaml", [], None, None),
    "linear": ("configs/synthetic/contrastive_ssl/linear_R10.yaml", [], "moco", "TRAIN.CHECKPOINT_FILE_PATH"),
    "retrieval": ("configs/synthetic/contrastive_ssl/linear_R10.yaml",
                  ["TRAIN.ENABLE", "False", "TEST.EVALUATOR", "retrieval"], "moco",
                  "TRAIN.CHECKPOINT_FILE_PATH"),
    "mae_st": ("configs/masked_ssl/synthetic/mae_st_vit_tiny_PT.yaml", [], None, None),
    "videomae": ("configs/masked_ssl/synthetic/videomae_vit_tiny_PT.yaml", [], None, None),
    "finetune_mae_st": ("configs/masked_ssl/synthetic/vit_tiny_FT.yaml", [], "mae_st",
                        "TRAIN.CHECKPOINT_FILE_PATH"),
    "finetune_videomae": ("configs/masked_ssl/synthetic/videomae_vit_tiny_FT.yaml", [], "videomae",
                          "TRAIN.CHECKPOINT_FILE_PATH"),
}


def _last_checkpoint(out_dir: str) -> Optional[str]:
    ckpt_dir = os.path.join(out_dir, "checkpoints")
    if not os.path.isdir(ckpt_dir):
        return None
    files = sorted(f for f in os.listdir(ckpt_dir) if f.endswith(".pyth"))
    return os.path.join(ckpt_dir, files[-1]) if files else None


def weights_digest(path: str) -> Dict:
    """SHA-256 of a checkpoint's ``model_state`` (keys sorted) and a short digest per tensor."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=False)["model_state"]
    total = hashlib.sha256()
    per_tensor = {}
    for key in sorted(state):
        t = state[key].detach().contiguous().cpu()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        h = hashlib.sha256(key.encode() + str(t.dtype).encode() + str(tuple(t.shape)).encode() + raw)
        per_tensor[key] = h.hexdigest()[:16]
        total.update(h.digest())
    return {"sha256": total.hexdigest(), "tensors": per_tensor}


def _iterations(log_path: str) -> List[Dict]:
    """The ``train_iter`` json_stats of a run (timings and memory removed)."""
    from videossl.utils.logging import read_json_stats

    rows = read_json_stats(log_path, "train_iter")
    for stats in rows:
        for k in ("time_diff", "dt_data", "eta", "mem"):
            stats.pop(k, None)
    return rows


def run_one(name: str, work: str, paths: Dict[str, str], python: str) -> Dict:
    cfg, extra, init_from, init_key = RUNS[name]
    out_dir = os.path.join(work, name)
    shutil.rmtree(out_dir, ignore_errors=True)
    opts = SHORT + ["OUTPUT_DIR", out_dir] + list(extra)
    if init_from:
        if init_from not in paths:
            raise SystemExit(f"run {name!r} needs {init_from!r}'s checkpoint: run {init_from} first")
        opts += [init_key, paths[init_from]]
    cmd = [python, os.path.join(ROOT, "tools", "run_net.py"), "--cfg", os.path.join(ROOT, cfg)] + opts
    env = dict(os.environ, VIDEOSSL_JSON_FULL_PRECISION="1")
    start = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"golden run {name!r} failed (exit {proc.returncode}): {' '.join(cmd)}")
    record = {"config": cfg, "overrides": opts[len(SHORT):], "seconds": round(time.time() - start, 1),
              "iterations": _iterations(os.path.join(out_dir, "stdout.log"))}
    ckpt = _last_checkpoint(out_dir)
    if ckpt:
        paths[name] = ckpt
        record["checkpoint"] = os.path.basename(ckpt)
        record["weights"] = weights_digest(ckpt)
    results = sorted(f for f in os.listdir(out_dir) if f.startswith("results_") and f.endswith(".json"))
    record["results"] = {}
    for f in results:
        with open(os.path.join(out_dir, f)) as fh:
            record["results"][f] = json.load(fh)
    return record


def record(out: str, work: str, names: Sequence[str]) -> None:
    runs, paths = {}, {}
    for name in names:
        runs[name] = run_one(name, work, paths, sys.executable)
        r = runs[name]
        last = r["iterations"][-1]["loss"] if r["iterations"] else None
        print(f"{name:18s} {len(r['iterations']):3d} iterations, last loss {last}, "
              f"weights {r.get('weights', {}).get('sha256', '-')[:16]}, {r['seconds']:.0f}s", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    import torch

    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "python": sys.version.split()[0], "runs": runs}, f, indent=1)
    print(f"wrote {out}")


def _max_rel(a: List[Dict], b: List[Dict]) -> float:
    worst = 0.0
    for ra, rb in zip(a, b):
        for k, va in ra.items():
            vb = rb.get(k)
            if isinstance(va, float) and isinstance(vb, float) and va != vb:
                worst = max(worst, abs(va - vb) / max(abs(va), 1e-12))
    return worst


def compare(path_a: str, path_b: str) -> int:
    """Print a table of run-by-run differences; 0 if every run is bit-identical."""
    with open(path_a) as f:
        a = json.load(f)["runs"]
    with open(path_b) as f:
        b = json.load(f)["runs"]
    names = list(a) + [n for n in b if n not in a]
    rows = [("run", "iterations", "losses/stats", "final weights", "test result", "max rel. diff")]
    bad = 0
    for name in names:
        if name not in a or name not in b:
            rows.append((name, "only in " + (path_a if name in a else path_b), "", "", "", ""))
            bad += 1
            continue
        ra, rb = a[name], b[name]
        ia, ib = ra["iterations"], rb["iterations"]
        n = f"{len(ia)}" if len(ia) == len(ib) else f"{len(ia)} vs {len(ib)}"
        same_iters = ia == ib
        wa, wb = ra.get("weights", {}), rb.get("weights", {})
        same_w = wa.get("sha256") == wb.get("sha256")
        if not same_w and wa and wb:
            diff = [k for k in set(wa["tensors"]) | set(wb["tensors"])
                    if wa["tensors"].get(k) != wb["tensors"].get(k)]
            w_text = f"DIFFER ({len(diff)} tensors, e.g. {sorted(diff)[:2]})"
        else:
            w_text = "identical" if same_w else "DIFFER"
        same_r = _strip(ra["results"]) == _strip(rb["results"])
        bad += (not same_iters) + (not same_w) + (not same_r)
        rows.append((name, n, "identical" if same_iters else "DIFFER", w_text,
                     "identical" if same_r else "DIFFER", f"{_max_rel(ia, ib):.2e}"))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("all runs bit-identical" if not bad else f"{bad} difference(s)")
    return 1 if bad else 0


def _strip(results: Dict) -> Dict:
    """Results without fields that name the run's paths."""
    return {f: {k: v for k, v in r.items() if k not in ("output_dir",)} for f, r in results.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="record file to write (JSON)")
    parser.add_argument("--work", default=os.path.join(ROOT, "output", "golden"),
                        help="folder for the runs' OUTPUT_DIRs (cleared per run)")
    parser.add_argument("--runs", nargs="*", default=list(RUNS), choices=list(RUNS),
                        help="runs to record (default: all; a chained run needs its source run)")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two records")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if not args.out:
        parser.error("give --out FILE to record, or --compare A B")
    record(args.out, args.work, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
