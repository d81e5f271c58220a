#!/usr/bin/env python3
"""What a backbone's features retrieve: class, or the source video a clip was cut from.

    python tools/feature_diagnosis.py --cfg configs/synthetic/contrastive_ssl/linear_R10.yaml \
        --checkpoints random output/moco/checkpoints/ssl_checkpoint_epoch_00080.pyth \
        --groups ../shared/data/fight-surveillance/labels.csv [--json-out stats.json] [KEY VALUE ...]

For each checkpoint (``random`` = a random init seeded with ``RNG_SEED``) the
features are the retrieval evaluator's (``TEST.EVALUATOR retrieval``: per
video, the mean of its L2-normalised test-view features).  It prints, in percent:

* ``R@1 test->train``: the evaluator's retrieval (queries = test split,
  gallery = train split);
* on the train split, each video's nearest other video
  (:func:`videossl.engine.retrieval.leave_one_out_statistics`): how often it
  has the same class, how often it comes from the same source video (and the
  rate for features blind to the source), and how often the nearest video of
  another source has the same class.

A pretraining that learns the scene (camera, background, people) of each
source rather than the action raises ``same_group`` well above random init
while ``same_class_other_group`` and ``R@1`` stay put: with a split by source
(as the fight clips' ``split.csv``) such features do not transfer.

``--groups``: a CSV with ``path`` and ``group`` columns (the fight clips'
``labels.csv``); a video's group is looked up by its path relative to the
CSV's videos without the extension (``fight/fi001``), matched against the end
of each dataset path.  Without it, each video's ``source_id`` is its group
(UCF101 / HMDB51: the ``gYY`` source).
"""

import argparse
import csv
import json
import os
import sys
from typing import Dict, List, Optional

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402
from tools.visualize_retrieval import (add_checkpoint_args, build_model, checkpoint_title,  # noqa: E402
                                       checkpoints_and_opts, require_checkpoints, retrieval_features)
from videossl.errors import InputError  # noqa: E402

COLUMNS = (("R@1", "R@1 test->train"), ("same_class", "train NN same class"),
           ("same_group", "train NN same source"), ("chance_same_group", "same source by chance"),
           ("same_class_other_group", "train NN of another source: same class"))


def read_groups(path: str) -> Dict[str, int]:
    """``{path without extension: group}`` from a CSV with ``path`` and ``group`` columns."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"groups file not found: {path}")
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"path", "group"} <= set(rows[0]):
        raise InputError(f"{path}: needs 'path' and 'group' columns")
    return {os.path.splitext(r["path"])[0]: int(r["group"]) for r in rows}


def groups_of(paths: List[str], table: Optional[Dict[str, int]], source_ids: List[int]) -> torch.Tensor:
    """Each dataset path's group: the ``table`` entry whose key ends its path (sans extension), or its source id."""
    if table is None:
        return torch.tensor(source_ids)
    out = []
    for p in paths:
        stem = os.path.splitext(p)[0].replace(os.sep, "/")
        hits = [g for key, g in table.items() if stem == key or stem.endswith("/" + key)]
        if len(hits) != 1:
            raise InputError(f"{p}: {'no' if not hits else 'several'} matching rows in the --groups file")
        out.append(hits[0])
    return torch.tensor(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_checkpoint_args(p, "checkpoints to compare", "a name per checkpoint")
    p.add_argument("--groups", default=None, help="CSV with path and group columns (default: source ids)")
    p.add_argument("--json-out", default=None)
    p.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE config overrides")
    args = p.parse_args(argv)
    checkpoints, opts = checkpoints_and_opts(args)

    from videossl.config import load_config
    from videossl.engine.evaluators.retrieval import gallery_and_queries
    from videossl.engine.retrieval import leave_one_out_statistics, retrieval_recall
    from videossl.utils.logging import setup_logging

    setup_logging()
    cfg = load_config(args.cfg, opts)
    require_checkpoints(checkpoints)
    table = read_groups(args.groups) if args.groups else None
    gallery, queries = gallery_and_queries(cfg)
    groups = groups_of(list(gallery.paths), table, [r.source_id for r in gallery.records])
    results = {}
    for i, ckpt in enumerate(checkpoints):
        g_feats, g_labels, q_feats, q_labels = retrieval_features(cfg, build_model(cfg, ckpt), gallery, queries)
        stats = leave_one_out_statistics(g_feats, g_labels, groups)
        stats.update(retrieval_recall(g_feats, g_labels, q_feats, q_labels, (1,)))
        results[args.labels[i] if args.labels else checkpoint_title(ckpt)] = {"checkpoint": ckpt, **stats}
    width = max(len(n) for n in results)
    print(f"{'':{width}s}  " + "  ".join(title for _, title in COLUMNS))
    for name, stats in results.items():
        print(f"{name:{width}s}  " + "  ".join(f"{stats[key]:{len(title)}.1f}" for key, title in COLUMNS))
    if args.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(run_main("feature_diagnosis", main))
