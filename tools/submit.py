#!/usr/bin/env python3
"""Submit a videossl job to SLURM through submitit: one task per GPU, requeued on time limit or preemption.

    python tools/submit.py --cfg configs/X.yaml --nodes 2 --gpus-per-node 8 --partition P --time 4320 \\
        [--account A] [--cpus-per-task 10] [--folder output/submitit] OUTPUT_DIR /shared/out/X KEY VALUE ...

Each task joins the job's process group through ``env://`` (rank, world size
and the first node's address come from SLURM).  submitit asks SLURM for
SIGUSR2 ``--signal-delay`` seconds before the time limit; the trainer then
checkpoints after the current step, submitit requeues the job, and
``TRAIN.AUTO_RESUME`` continues exactly (see docs/reliability.md).
``--cluster local`` runs the same tasks on this machine (submitit's local
executor, one process per "GPU"); ``--cluster debug`` runs in this process.
Clusters without submitit: ``slurm/videossl.sbatch``.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cfg", dest="cfg_files", action="append", required=True, help="config file (repeatable)")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--gpus-per-node", type=int, default=8, help="GPUs per node = tasks (processes) per node")
    p.add_argument("--cpus-per-task", type=int, default=10, help="CPUs per process (data loading)")
    p.add_argument("--mem-gb", type=int, default=0, help="memory per node (0 = the partition's default)")
    p.add_argument("--partition", default="")
    p.add_argument("--account", default="")
    p.add_argument("--time", type=int, default=72 * 60, help="time limit per allocation, minutes")
    p.add_argument("--signal-delay", type=int, default=120, help="seconds before the limit to checkpoint")
    p.add_argument("--name", default="videossl")
    p.add_argument("--port", type=int, default=29517, help="rendezvous port on the first node")
    p.add_argument("--folder", default="output/submitit", help="submitit's logs and pickles (%%j = job id)")
    p.add_argument("--cluster", choices=("slurm", "local", "debug"), default=None,
                   help="default: SLURM when sbatch is on PATH, else local")
    p.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides")
    return p.parse_args(argv)


def build_executor(args):
    """A submitit executor for ``args``: SLURM parameters, one task per GPU, the preemption signal delay."""
    import submitit

    executor = submitit.AutoExecutor(folder=args.folder, cluster=args.cluster)
    params = dict(name=args.name, nodes=args.nodes, tasks_per_node=args.gpus_per_node,
                  gpus_per_node=args.gpus_per_node, cpus_per_task=args.cpus_per_task, timeout_min=args.time,
                  slurm_signal_delay_s=args.signal_delay)
    if args.mem_gb:
        params["mem_gb"] = args.mem_gb
    if args.partition:
        params["slurm_partition"] = args.partition
    if args.account:
        params["slurm_account"] = args.account
    executor.update_parameters(**params)
    return executor


def main(argv=None):
    from videossl.config import load_config
    from videossl.engine.submitit_job import SubmititJob

    args = parse_args(argv)
    cfg_files = [os.path.abspath(f) for f in args.cfg_files]
    load_config(cfg_files, list(args.opts))  # a bad config fails here, not in the queue
    job = SubmititJob(cfg_files, list(args.opts), args.nodes, args.gpus_per_node, args.port)
    submitted = build_executor(args).submit(job)
    print(f"submitted job {submitted.job_id}: logs in {args.folder}")
    return submitted


if __name__ == "__main__":
    sys.exit(run_main("submit", main))
