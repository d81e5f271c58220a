#!/usr/bin/env python3
"""Write (and optionally submit) a SLURM batch script for a videossl job.

    python tools/submit_slurm.py --cfg configs/X.yaml --nodes 2 --gpus 8 --partition p \\
        --time 72:00:00 [--submit] KEY VALUE ...

One task per node runs ``tools/run_net.py`` with PySlowFast's multi-node flags
(``--shard_id $SLURM_NODEID --num_shards $SLURM_NNODES --init_method
tcp://<first node>:<port>``) and ``NUM_GPUS`` processes per node.  SLURM sends
SIGUSR1 two minutes before the time limit (or on preemption); the trainer
then writes a checkpoint and exits, the script requeues the job, and
``TRAIN.AUTO_RESUME`` continues exactly where it stopped.
"""

import argparse
import os
import shlex
import subprocess
import sys

TEMPLATE = """#!/bin/bash
#SBATCH --job-name={name}
#SBATCH --nodes={nodes}
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node={gpus}
#SBATCH --cpus-per-task={cpus}
#SBATCH --time={time}
#SBATCH --signal=USR1@120
#SBATCH --requeue
#SBATCH --output={out}/slurm-%j.out
{partition}
MASTER=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
requeue() {{ echo "videossl: signal received, requeueing $SLURM_JOB_ID"; scontrol requeue "$SLURM_JOB_ID"; }}
trap 'kill -USR1 $SRUN_PID 2>/dev/null; wait $SRUN_PID; requeue' USR1
srun --kill-on-bad-exit=1 bash -c '{python} {run_net} {cfgs} --shard_id $SLURM_NODEID \\
    --num_shards $SLURM_NNODES --init_method tcp://'"$MASTER"':{port} \\
    NUM_GPUS {gpus} OUTPUT_DIR {out} {opts}' &
SRUN_PID=$!
wait $SRUN_PID
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cfg", action="append", required=True)
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--gpus", type=int, default=8, help="GPUs (processes) per node")
    p.add_argument("--cpus", type=int, default=80, help="CPUs per node (data loading)")
    p.add_argument("--time", default="72:00:00")
    p.add_argument("--partition", default="")
    p.add_argument("--port", type=int, default=29517)
    p.add_argument("--output_dir", default="output/slurm")
    p.add_argument("--name", default="videossl")
    p.add_argument("--submit", action="store_true", help="run sbatch on the written script")
    p.add_argument("opts", nargs="*", help="KEY VALUE overrides")
    args = p.parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.abspath(args.output_dir)
    os.makedirs(out, exist_ok=True)
    script = TEMPLATE.format(
        name=args.name, nodes=args.nodes, gpus=args.gpus, cpus=args.cpus, time=args.time, out=out,
        partition=f"#SBATCH --partition={args.partition}" if args.partition else "",
        python=shlex.quote(sys.executable), run_net=shlex.quote(os.path.join(root, "tools", "run_net.py")),
        cfgs=" ".join(f"--cfg {shlex.quote(os.path.abspath(c))}" for c in args.cfg),
        port=args.port, opts=" ".join(shlex.quote(o) for o in args.opts),
    )
    path = os.path.join(out, "job.sbatch")
    with open(path, "w") as f:
        f.write(script)
    print(path)
    if args.submit:
        return subprocess.call(["sbatch", path])
    return 0


if __name__ == "__main__":
    sys.exit(main())
