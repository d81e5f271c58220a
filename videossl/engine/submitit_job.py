"""A videossl job as a submitit callable: one task per GPU, the ranks joined through ``env://``.

:class:`SubmititJob` is what ``tools/submit.py`` submits.  On SLURM's
time-limit or preemption signal (submitit's SIGUSR2), the trainer's
preemption hook checkpoints after the current step on every rank; the job
then hands over to submitit's own checkpoint-and-requeue path (it raises the
signal again, now that submitit's handler is back), whose :meth:`checkpoint`
resubmits the same job; ``TRAIN.AUTO_RESUME`` continues exactly.
"""

import os
import signal
from typing import List, Optional

from ..errors import DataError


class SubmititJob:
    """``tools/run_net.py --cfg <cfg_files> <opts>`` as one submitit task per process.

    Args:
        cfg_files: config files, merged in order.
        opts: ``KEY VALUE`` overrides (after the files).
        nodes: machines (``NUM_SHARDS``); gpus_per_node: processes per machine (``NUM_GPUS``).
        port: rendezvous port on the first node.
    """

    def __init__(self, cfg_files: List[str], opts: List[str], nodes: int, gpus_per_node: int, port: int = 29517):
        self.cfg_files = list(cfg_files)
        self.opts = list(opts)
        self.nodes = nodes
        self.gpus_per_node = gpus_per_node
        self.port = port

    def _set_rank_environment(self, env) -> None:
        os.environ.update(RANK=str(env.global_rank), LOCAL_RANK=str(env.local_rank), WORLD_SIZE=str(env.num_tasks),
                          MASTER_ADDR=env.hostnames[0], MASTER_PORT=str(self.port))

    def __call__(self) -> Optional[str]:
        """Run the job in this task; returns ``OUTPUT_DIR`` when it finished."""
        import submitit

        from ..config import load_config
        from .hooks.preemption import PREEMPTED, received_signal
        from .launch import launch_job
        from .run import run_job

        env = submitit.JobEnvironment()
        self._set_rank_environment(env)
        opts = self.opts + ["NUM_GPUS", str(self.gpus_per_node), "NUM_SHARDS", str(self.nodes),
                            "SHARD_ID", str(env.node)]
        cfg = load_config(self.cfg_files, opts)
        code = run_job(cfg, "env://", launch_job)
        if code == 0:
            return cfg.OUTPUT_DIR
        usr_sig = submitit.JobEnvironment._usr_sig()
        if code == PREEMPTED and received_signal() == usr_sig:
            # Checkpoint written; submitit's handler is restored: it calls checkpoint() and requeues (rank 0).
            signal.raise_signal(usr_sig)
            return None  # other ranks: the requeue ends this task
        raise DataError(f"videossl job exited with status {code}; see {cfg.OUTPUT_DIR}/stdout.log")

    def checkpoint(self):
        """submitit's requeue hook: resubmit the same job (the trainer has already written its checkpoint)."""
        import submitit

        return submitit.helpers.DelayedSubmission(
            SubmititJob(self.cfg_files, self.opts, self.nodes, self.gpus_per_node, self.port))
