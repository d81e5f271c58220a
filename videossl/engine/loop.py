"""The one training loop: pretraining, linear probe, finetune and supervised training.

:meth:`Trainer.run_step` is data -> method -> loss dict -> backward -> step,
and nothing else (detectron2's ``SimpleTrainer`` shape)::

    lr <- schedule(epoch_exact); method.on_step_start(progress)
    out <- method.train_step(batch, backward, forward)     # under autocast
    hooks.after_backward(out)                              # the loss guard
    unscale (AMP) -> clip gradients -> method.before_optimizer_step(progress) -> step

Everything around a step (checkpoints, logs, periodic evaluation,
preemption, the loss guard, skipped-video accounting) is a hook
(:mod:`videossl.engine.hooks`) with its own state; the trainer's
:meth:`Trainer.state_dict` holds the model, optimizer, scaler, schedule,
epoch/iteration, every rank's RNG and per-rank method state, and every
hook's state, so a resumed run continues exactly.  Nothing here reads the
config: :func:`build_trainer` turns it into plain objects and a frozen
:class:`~videossl.engine.settings.TrainSettings`.
"""

import contextlib
import dataclasses
import time
from functools import partial
from typing import Callable, Dict, List, Optional

import torch
from torch.nn.parallel import DistributedDataParallel

from ..errors import InputError
from ..methods import Method, Progress, build_method
from ..utils import distributed as du
from ..utils.logging import get_logger
from ..utils.rng import get_rng_state, seed_everything, set_rng_state
from .device import get_device, to_device
from .hooks import Checkpointer, DataHealth, Hook, LossGuard, PeriodicEval, PreciseBN, Preemption, TrainLogger
from .hooks.precise_bn import check_precise_bn_supported
from .lr_schedule import LRSchedule, build_lr_schedule
from .optim import build_optimizer_from_cfg, set_lr
from .settings import TrainSettings, build_train_settings

logger = get_logger("trainer")


class TrainData:
    """The training set, how to make its loader for an epoch, and how a batch reaches the method
    (a plain object passed into the loop).

    Args:
        dataset: the training dataset.
        make_loader: ``(dataset, epoch, start_iter) -> loader`` (this rank's share,
            the first ``start_iter`` batches skipped).  A loader with persistent
            workers is made once and pointed at each later epoch
            (:func:`videossl.data.loader.restart_epoch`).
        prepare: ``batch -> batch`` on the device before the method sees it
            (on-device augmentation, :class:`~videossl.data.transforms.on_device.BatchAugmenter`).
    """

    def __init__(self, dataset, make_loader: Callable, prepare: Optional[Callable] = None):
        self.dataset = dataset
        self.make_loader = make_loader
        self.prepare = prepare
        self._loader = None

    def loader(self, epoch: int, start_iter: int):
        if self._loader is not None and getattr(self._loader, "persistent_workers", False):
            from ..data.loader import restart_epoch

            return restart_epoch(self._loader, epoch, start_iter)
        self._loader = self.make_loader(self.dataset, epoch, start_iter)
        return self._loader

    def to_device(self, batch: Dict, device: torch.device) -> Dict:
        """``batch`` on ``device``, prepared for the method."""
        batch = to_device(batch, device)
        return batch if self.prepare is None else self.prepare(batch)


class Trainer:
    """Steps a method; hooks do the rest.

    Args:
        method: the method (on ``device``).
        optimizer, schedule, scaler: the optimisation (the scaler is a disabled
            ``GradScaler`` unless float16 autocast on CUDA).
        settings: the frozen run settings.
        device: this process's device.
        hooks: called in list order; one :class:`~videossl.engine.hooks.Checkpointer`
            among them is ``self.checkpointer``.
        cfg_dump: the config (YAML text) stored in checkpoints.
    """

    def __init__(self, method: Method, optimizer: torch.optim.Optimizer, schedule: LRSchedule,
                 scaler: torch.amp.GradScaler, settings: TrainSettings, device: torch.device,
                 hooks: List[Hook], cfg_dump: str = ""):
        self.method = method
        self.model = method
        if settings.world_size > 1:
            # broadcast_buffers=False keeps per-rank buffers (MoCo queues) per rank.
            self.model = DistributedDataParallel(
                method, device_ids=[device.index] if device.type == "cuda" else None,
                broadcast_buffers=False, find_unused_parameters=True,
            )
        self.optimizer, self.schedule, self.scaler = optimizer, schedule, scaler
        self.settings, self.device, self.hooks, self.cfg_dump = settings, device, list(hooks), cfg_dump
        checkpointers = [h for h in self.hooks if isinstance(h, Checkpointer)]
        self.checkpointer: Optional[Checkpointer] = checkpointers[0] if checkpointers else None
        # Where training stands (hooks read these).
        self.start_epoch, self.start_iter, self.global_iter = 0, 0, 0
        self.epoch, self.iter, self.iters_this_epoch = 0, 0, 0
        self.progress: Optional[Progress] = None
        self.batch: Dict = {}
        self.stats: Dict[str, float] = {}
        self.data_time = 0.0
        self.last_checkpoint: Optional[str] = None
        self.tensorboard = None  # set by the logging hook
        self.data: Optional[TrainData] = None  # the training data of the running train()

    # ------------------------------------------------------------------ hooks
    def _call(self, point: str, *args) -> None:
        for h in self.hooks:
            getattr(h, point)(self, *args)

    # ------------------------------------------------------------------ step
    def _autocast(self):
        if not self.settings.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.settings.amp_dtype)

    def _backward(self, loss: torch.Tensor) -> None:
        self.scaler.scale(loss).backward()

    def run_step(self, batch: Dict, progress: Progress) -> Dict[str, float]:
        """One optimisation step on ``batch`` (already on the device); returns the logged stats."""
        s = self.settings
        self.progress = progress
        lr = self.schedule.lr_at(progress.epoch_exact)
        set_lr(self.optimizer, lr)
        self.method.on_step_start(progress)
        with self._autocast():
            out = self.method.train_step(batch, self._backward, self.model)
        self._call("after_backward", out)
        self.scaler.unscale_(self.optimizer)
        if s.clip_grad_val:
            torch.nn.utils.clip_grad_value_(self.method.parameters(), s.clip_grad_val)
        if s.clip_grad_l2norm:
            torch.nn.utils.clip_grad_norm_(self.method.parameters(), s.clip_grad_l2norm)
        if self.method.before_optimizer_step(progress):
            self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        stats = {k: float(v.detach()) if torch.is_tensor(v) else v for k, v in out.items()}
        stats["lr"] = lr
        return stats

    # ------------------------------------------------------------------ loop
    def train(self, data: TrainData) -> None:
        """Train from ``(start_epoch, start_iter)`` to ``settings.max_epoch``."""
        s = self.settings
        self.data = data
        self.method.train()
        self._call("before_train")
        try:
            for epoch in range(self.start_epoch, s.max_epoch):
                start_iter = self.start_iter if epoch == self.start_epoch else 0
                loader = data.loader(epoch, start_iter)
                total = s.iters_per_epoch(len(loader) + start_iter)
                if total == 0:
                    raise InputError(
                        f"the train split has {len(data.dataset)} videos, fewer than one global batch "
                        f"({s.global_batch}); lower TRAIN.BATCH_SIZE")
                self.epoch, self.iter, self.iters_this_epoch = epoch, start_iter, total
                self._call("before_epoch")
                data_start = time.perf_counter()
                for it, batch in enumerate(loader, start=start_iter):
                    if it >= total:
                        break
                    self.data_time = time.perf_counter() - data_start
                    self.iter, self.batch = it, batch
                    self._call("before_step")
                    progress = Progress(epoch, it, self.global_iter, total, s.max_epoch)
                    self.stats = self.run_step(data.to_device(batch, self.device), progress)
                    self.global_iter += 1
                    self._call("after_step")
                    data_start = time.perf_counter()
                self._call("after_epoch")
        finally:
            self._call("after_train")

    # ------------------------------------------------------------------ state
    def state_dict(self, epoch: int, next_iter: int) -> Dict:
        """Checkpoint dict resuming at ``(epoch, next_iter)``; every rank contributes its RNG + rank state."""
        rank_state = {"rng": get_rng_state(), "method": self.method.rank_state_dict()}
        rank_states = du.all_gather_object(rank_state)
        completed = epoch if next_iter == 0 else epoch - 1
        return {
            "epoch": completed,  # PySlowFast: index of the last completed epoch
            "resume_epoch": epoch,
            "resume_iter": next_iter,
            "global_iter": self.global_iter,
            "model_state": self.method.state_dict(),
            "optimizer_state": self.optimizer.state_dict(),
            "scaler_state": self.scaler.state_dict(),
            "scheduler_state": dataclasses.asdict(self.schedule),
            "hooks": {h.name: h.state_dict() for h in self.hooks},
            "rank_states": rank_states,
            "cfg": self.cfg_dump,
        }

    def load_state_dict(self, ckpt: Dict, path: str = "") -> None:
        """Resume everything from a training checkpoint dict (see :func:`videossl.engine.weights.read_training_checkpoint`)."""
        self.method.load_state_dict(ckpt["model_state"])
        self.optimizer.load_state_dict(ckpt["optimizer_state"])
        self.scaler.load_state_dict(ckpt["scaler_state"])
        self.start_epoch, self.start_iter = ckpt["resume_epoch"], ckpt["resume_iter"]
        self.global_iter = ckpt["global_iter"]
        saved = ckpt.get("scheduler_state")
        if isinstance(saved, dict) and "policy" in saved and saved != dataclasses.asdict(self.schedule):
            logger.warning("the LR schedule differs from the checkpoint's (%s vs now %s): the resumed run "
                           "follows the current config", saved, dataclasses.asdict(self.schedule))
        hook_states = ckpt.get("hooks", {})
        for h in self.hooks:
            if h.name in hook_states:
                h.load_state_dict(hook_states[h.name])
        states = ckpt["rank_states"]
        rank, world = du.get_rank(), du.get_world_size()
        if len(states) != world:
            logger.warning("checkpoint has %d rank states, this run has %d ranks: rank-local "
                           "state (RNG, queues) is taken from rank %% %d", len(states), world, len(states))
        mine = states[rank % len(states)]
        set_rng_state(mine["rng"])
        self.method.load_rank_state_dict(mine["method"])
        self.last_checkpoint = path or None
        logger.info("resumed from %s at epoch %d iteration %d", path, self.start_epoch, self.start_iter)


# ---------------------------------------------------------------------- builders
def build_hooks(cfg, settings: TrainSettings) -> List[Hook]:
    """The standard hooks, in call order: loss guard, logging, data health, preemption, precise BN
    (``BN.USE_PRECISE_STATS``), checkpoints, eval."""
    hooks: List[Hook] = [
        LossGuard(settings.loss_explosion_factor),
        TrainLogger(settings.log_period, settings.tensorboard_dir),
        DataHealth(settings.max_failed_fraction),
        Preemption(),
    ]
    if settings.precise_bn_batches > 0:
        hooks.append(PreciseBN(settings.precise_bn_batches, settings.checkpoint_period, settings.eval_period))
    hooks.append(Checkpointer(settings.output_dir, settings.checkpoint_prefix, settings.checkpoint_period,
                              settings.checkpoint_iter_period, settings.checkpoint_keep_last))
    monitor = settings.task.monitor
    if monitor and settings.eval_period > 0 and settings.knn_monitor:
        from .evaluators import build_evaluator

        hooks.append(PeriodicEval(partial(build_evaluator, cfg, monitor), settings.eval_period, monitor))
    return hooks


def build_trainer(cfg, hooks: Optional[List[Hook]] = None) -> Trainer:
    """The trainer of ``cfg`` for this process (seeded per rank; method, optimizer, schedule, hooks).

    ``hooks``: replace the standard ones (:func:`build_hooks`).
    """
    from ..config import compute_scale

    device = get_device(cfg)
    world = du.get_world_size()
    settings = build_train_settings(cfg, world, device)
    scale = compute_scale(cfg, world)
    seed_everything(cfg.RNG_SEED + du.get_rank())
    method = build_method(cfg).to(device)
    if settings.precise_bn_batches > 0:
        check_precise_bn_supported(method)
    schedule = build_lr_schedule(cfg, scale)
    optimizer = build_optimizer_from_cfg(cfg, method, scale.base_lr)
    use_scaler = settings.amp and settings.amp_dtype == torch.float16 and device.type == "cuda"
    scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)
    return Trainer(method, optimizer, schedule, scaler, settings, device,
                   build_hooks(cfg, settings) if hooks is None else hooks, cfg.dump())


def build_train_data(cfg, settings: TrainSettings) -> TrainData:
    """The training set of ``cfg`` and its per-epoch loader (``settings.per_process_batch`` per process)."""
    from ..data import build_dataset, build_loader

    if settings.per_process_batch < 1:
        raise InputError(f"TRAIN.BATCH_SIZE={cfg.TRAIN.BATCH_SIZE} gives no sample per process")
    from ..data.transforms.on_device import build_batch_augmenter

    augmenter = build_batch_augmenter(cfg)
    dataset = build_dataset(cfg, "train", **({"defer_augmentation": True} if augmenter else {}))
    if settings.task.method is not None:  # a classifier: every label must have an output
        bad = next((r for r in dataset.records
                    if getattr(r, "label", None) is not None and not 0 <= r.label < cfg.MODEL.NUM_CLASSES), None)
        if bad is not None:
            raise InputError(f"{bad.path} has label {bad.label}, outside MODEL.NUM_CLASSES={cfg.MODEL.NUM_CLASSES} "
                             f"(TRAIN.DATASET {cfg.TRAIN.DATASET}); set MODEL.NUM_CLASSES or fix the list")
    logger.info(
        "train: %d videos, %d process(es), batch %d per process, global batch %d, base LR %.5g "
        "(SOLVER.BASE_LR %.5g%s)", len(dataset), settings.world_size, settings.per_process_batch,
        settings.global_batch, settings.base_lr, cfg.SOLVER.BASE_LR, f" x {cfg.NUM_SHARDS} shards" if cfg.SOLVER.BASE_LR_SCALE_NUM_SHARDS else "",
    )

    def make_loader(ds, epoch: int, start_iter: int):
        return build_loader(cfg, ds, train=True, batch_size=settings.per_process_batch, epoch=epoch,
                            start_iter=start_iter)

    return TrainData(dataset, make_loader, augmenter)
