"""The task registry: what each ``TASK`` means, in one place.

A :class:`TaskSpec` says how a task's method is chosen, what a checkpoint
given by ``TRAIN.CHECKPOINT_FILE_PATH`` initialises, how its checkpoints are
named, where it chains its initialisation from, and which evaluators it
takes.  Config validation, PySlowFast compatibility, the trainer, the
weights loader and the evaluators read this registry; no other code compares
``TASK`` with a string.

This module is a leaf (no torch, no config): config code may import it.
"""

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from ..errors import InputError

#: What ``TRAIN.CHECKPOINT_FILE_PATH`` initialises.
INIT_FULL = "full"  # every key of the method that the checkpoint holds
INIT_BACKBONE = "backbone"  # backbone weights only; heads, momentum copies and queues are not taken


@dataclass(frozen=True)
class TaskSpec:
    """One ``TASK``.

    Attributes:
        name: the canonical ``TASK`` value.
        method: the method this task always uses (``"supervised"``), or None
            when ``SSL.METHOD`` chooses it (pretraining).
        init: what an initialisation checkpoint loads (:data:`INIT_FULL` or
            :data:`INIT_BACKBONE`).
        checkpoint_prefix: PySlowFast's file prefix (``ssl_checkpoint_epoch_*``).
        chain_from: prefix of checkpoints in the same ``OUTPUT_DIR`` that
            initialise this task when no path is given (PySlowFast's ``ssl_eval``), or None.
        evaluators: the ``TEST.EVALUATOR`` values this task accepts.
        evaluator_alias: evaluator actually run for a requested name (pretraining
            has no classifier, so ``topk`` means the kNN classifier).
        monitor: evaluator run every ``TRAIN.EVAL_PERIOD`` epochs (with
            ``CONTRASTIVE.KNN_ON``), or None.
        probe: the backbone is evaluated, not trained (the linear probe; with
            ``LINEAR.PROTOCOL coclr`` it is frozen in eval mode).
    """

    name: str
    method: Optional[str]
    init: str
    checkpoint_prefix: str
    chain_from: Optional[str] = None
    evaluators: Tuple[str, ...] = ("topk", "retrieval", "knn")
    evaluator_alias: Tuple[Tuple[str, str], ...] = ()
    monitor: Optional[str] = None
    probe: bool = False

    def evaluator(self, requested: str) -> str:
        """The evaluator run when ``TEST.EVALUATOR`` is ``requested``."""
        return dict(self.evaluator_alias).get(requested, requested)


TASKS: Dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add (or replace) a task; e.g. AVA's ``detection``."""
    TASKS[spec.name] = spec
    return spec


def get_task(name: str) -> TaskSpec:
    """The spec of ``TASK`` ``name``; ValueError naming the known tasks otherwise."""
    if name not in TASKS:
        raise InputError(f"TASK={name!r} is not a task; use one of {tuple(TASKS)} "
                         "(or PySlowFast's 'ssl' / 'ssl_eval*')")
    return TASKS[name]


register_task(TaskSpec("supervised", method="supervised", init=INIT_FULL, checkpoint_prefix=""))
register_task(TaskSpec("pretrain", method=None, init=INIT_FULL, checkpoint_prefix="ssl",
                       evaluator_alias=(("topk", "knn"),), monitor="knn"))
register_task(TaskSpec("linear", method="supervised", init=INIT_BACKBONE, checkpoint_prefix="ssl_eval",
                       chain_from="ssl", probe=True))
register_task(TaskSpec("finetune", method="supervised", init=INIT_BACKBONE, checkpoint_prefix="finetune",
                       chain_from="ssl"))
register_task(TaskSpec("detection", method="detection", init=INIT_BACKBONE, checkpoint_prefix="detection",
                       chain_from="ssl", evaluators=("topk", "ava_map"), evaluator_alias=(("topk", "ava_map"),)))
