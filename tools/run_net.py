#!/usr/bin/env python3
"""Run a videossl job: ``python tools/run_net.py --cfg A.yaml [--cfg B.yaml] KEY VALUE ...``.

Files are merged in order, then overrides (positional ``KEY VALUE`` pairs, or
after PySlowFast's ``--opts``).  The job trains when ``TRAIN.ENABLE`` and
tests when ``TEST.ENABLE``; ``TASK`` picks pretraining / linear / finetune.
Multi-process: ``NUM_GPUS N`` spawns N processes (gloo on a CPU machine);
multi-node: the same command on every node with ``--shard_id i --num_shards
N --init_method tcp://host:port``, or launch with torchrun.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from videossl.config import ConfigError, load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cfg", dest="cfg_files", action="append", default=[],
                        help="config file; repeat to merge several (later files win)")
    parser.add_argument("--shard_id", type=int, default=None, help="this machine's index (multi-node)")
    parser.add_argument("--num_shards", type=int, default=None, help="number of machines")
    parser.add_argument("--init_method", default="tcp://localhost:9999",
                        help="rendezvous for spawned processes, e.g. tcp://host:port")
    parser.add_argument("--opts", nargs=argparse.REMAINDER, default=[],
                        help="KEY VALUE overrides (PySlowFast spelling; positional pairs work too)")
    parser.add_argument("overrides", nargs="*", help="KEY VALUE overrides")
    args, extra = parser.parse_known_args(argv)
    # PySlowFast's --cfg takes several files at once: "--cfg a.yaml b.yaml".
    files, opts = [], []
    for tok in args.overrides + extra:
        if tok.endswith((".yaml", ".yml")) and not opts:
            files.append(tok)
        else:
            opts.append(tok)
    args.cfg_files += files
    args.opts = opts + args.opts
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(args.cfg_files, args.opts, args.shard_id, args.num_shards)
    except (ConfigError, FileNotFoundError) as err:
        print(f"videossl: config error: {err}", file=sys.stderr)
        return 2
    from videossl.engine.launch import launch_job
    from videossl.engine.run import run_job

    return run_job(cfg, args.init_method, launch_job)


if __name__ == "__main__":
    sys.exit(main())
