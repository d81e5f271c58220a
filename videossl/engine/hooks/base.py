"""The hook interface of the training loop (detectron2's ``HookBase`` shape).

The loop (:class:`videossl.engine.loop.Trainer`) only steps; everything around
a step is a hook.  Call order per run::

    before_train
    for each epoch:   before_epoch
        for each step:    before_step -> run_step (after_backward inside) -> after_step
                      after_epoch
    after_train

Hooks run in list order at every call point.  Each hook keeps its own state
and exposes it through :meth:`Hook.state_dict` / :meth:`Hook.load_state_dict`,
saved in every checkpoint under ``"hooks"`` by the hook's :attr:`name`, so a
resumed run continues exactly.  What a hook may read on the trainer:
``settings`` (:class:`~videossl.engine.settings.TrainSettings`), ``method``,
``device``, ``epoch``, ``iter`` (the step's 0-based index in the epoch),
``iters_this_epoch``, ``global_iter`` (steps done), ``batch`` (the current
batch, before it moves to the device), ``stats`` (the last step's logged
values), ``data_time``, ``data`` (the :class:`~videossl.engine.loop.TrainData`),
``last_checkpoint`` and ``checkpointer``.
"""

from typing import Dict


class Hook:
    """No-op at every call point; subclasses override what they need."""

    #: Key of this hook's state in a checkpoint.
    name = "hook"

    def before_train(self, trainer) -> None:
        pass

    def before_epoch(self, trainer) -> None:
        pass

    def before_step(self, trainer) -> None:
        pass

    def after_backward(self, trainer, out: Dict) -> None:
        """Inside ``run_step``: after backward, before unscaling and the optimizer step."""

    def after_step(self, trainer) -> None:
        pass

    def after_epoch(self, trainer) -> None:
        pass

    def after_train(self, trainer) -> None:
        pass

    def state_dict(self) -> Dict:
        return {}

    def load_state_dict(self, state: Dict) -> None:
        pass
