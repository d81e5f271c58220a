"""The one trainer: pretraining, linear probe, finetune and supervised training.

It knows nothing about specific methods; it calls the contract of
:mod:`videossl.methods.base`.  Per iteration::

    lr <- schedule(epoch_exact); method.on_step_start(progress)
    loss <- method(batch)  (or method.train_step(batch, backward) for clip-by-clip methods)
    non-finite loss -> stop, keeping the last good checkpoint
    unscale (AMP) -> clip gradients -> method.before_optimizer_step(progress) -> step

State (model, optimizer, scaler, epoch/iteration, every rank's RNG and
per-rank method state, config) is checkpointed atomically every
``TRAIN.CHECKPOINT_PERIOD`` epochs and every ``TRAIN.CHECKPOINT_ITER_PERIOD``
iterations; ``TRAIN.AUTO_RESUME`` continues from the last one exactly.
"""

import contextlib
import os
import resource
import signal
import sys
import threading
import time
from typing import Dict, Optional

import torch
from torch.nn.parallel import DistributedDataParallel

from ..config import compute_scale
from ..methods import Progress, build_method
from ..utils import checkpoint as cu
from ..utils import distributed as du
from ..utils.logging import get_logger, log_json_stats
from ..utils.rng import get_rng_state, seed_everything, set_rng_state
from .device import get_device, to_device
from .lr_schedule import build_lr_schedule
from .optim import build_optimizer_from_cfg, set_lr
from .pretrained import init_from_pretrained

logger = get_logger("trainer")

TASK_PREFIX = {"pretrain": "ssl", "linear": "ssl_eval", "finetune": "finetune", "supervised": ""}


class NonFiniteLossError(FloatingPointError):
    """Raised when the loss is NaN/inf (or explodes); the last good checkpoint is kept."""


class Preempted(SystemExit):
    """Raised after a checkpoint was written because SIGTERM/SIGUSR1 arrived (SLURM preemption)."""


class _PreemptionFlag:
    """Set by SIGTERM / SIGUSR1; checked (and agreed over ranks) after each iteration."""

    def __init__(self):
        self.requested = False
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGUSR1):
                signal.signal(sig, self._handler)

    def _handler(self, signum, frame):
        self.requested = True

    def agreed(self, device) -> bool:
        flag = torch.tensor([1.0 if self.requested else 0.0])
        if du.get_world_size() > 1:
            flag = flag.to(device)
            torch.distributed.all_reduce(flag)
        return bool(flag.item() > 0)


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _allreduce_grads(module: torch.nn.Module) -> None:
    """Average gradients over ranks (for methods that backpropagate outside DDP)."""
    if du.get_world_size() == 1:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= du.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


class Trainer:
    """Builds everything for one process from a frozen config and runs the task."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.device = get_device(cfg)
        self.rank = du.get_rank()
        self.world_size = du.get_world_size()
        self.scale = compute_scale(cfg, self.world_size)
        seed_everything(cfg.RNG_SEED + self.rank)
        self.method = build_method(cfg).to(self.device)
        self.model = self.method
        if self.world_size > 1:
            # broadcast_buffers=False keeps per-rank buffers (MoCo queues) per rank.
            self.model = DistributedDataParallel(
                self.method, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                broadcast_buffers=False, find_unused_parameters=True,
            )
        self.schedule = build_lr_schedule(cfg, self.scale)
        self.optimizer = build_optimizer_from_cfg(cfg, self.method, self.scale.base_lr)
        self.amp = cfg.TRAIN.MIXED_PRECISION
        self.amp_dtype = torch.bfloat16 if cfg.TRAIN.MIXED_PRECISION_DTYPE == "bfloat16" else torch.float16
        if self.amp and self.amp_dtype == torch.float16 and self.device.type == "cpu":
            # CPU float16 autocast falls back to slow kernels (a Slow R50 step runs ~50x slower
            # than fp32); a GPU config (PySlowFast's MoCo YAML) brought to a CPU runs in fp32.
            logger.warning("TRAIN.MIXED_PRECISION with float16 on CPU: running in float32 "
                           "(set TRAIN.MIXED_PRECISION_DTYPE bfloat16 for CPU autocast)")
            self.amp = False
        use_scaler = self.amp and self.amp_dtype == torch.float16 and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_scaler)
        self.prefix = TASK_PREFIX[cfg.TASK]
        self.start_epoch, self.start_iter, self.global_iter = 0, 0, 0
        self.last_checkpoint: Optional[str] = None
        self.preemption = _PreemptionFlag()
        self.tb = None
        if cfg.TENSORBOARD.ENABLE and du.is_main_process():
            from torch.utils.tensorboard import SummaryWriter

            log_dir = cfg.TENSORBOARD.LOG_DIR or os.path.join(cfg.OUTPUT_DIR, f"runs-{cfg.TASK}")
            self.tb = SummaryWriter(log_dir)

    # ------------------------------------------------------------------ state
    def _autocast(self):
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def state_dict(self, epoch: int, next_iter: int) -> Dict:
        """Checkpoint dict; every rank contributes its RNG + per-rank method state."""
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
            "scheduler_state": {"schedule": repr(self.schedule)},
            "rank_states": rank_states,
            "cfg": self.cfg.dump(),
        }

    def save(self, epoch: int, next_iter: int) -> Optional[str]:
        """Write a checkpoint to resume at (epoch, next_iter); rank 0 writes, all ranks join."""
        state = self.state_dict(epoch, next_iter)
        name_epoch, name_iter = (epoch, next_iter) if next_iter else (epoch, 0)
        path = os.path.join(cu.checkpoint_dir(self.cfg.OUTPUT_DIR), cu.checkpoint_name(self.prefix, name_epoch, name_iter))
        if du.is_main_process():
            cu.save_atomic(state, path)
            # Keep only the newest mid-epoch checkpoint; epoch checkpoints are kept.
            for old in os.listdir(cu.checkpoint_dir(self.cfg.OUTPUT_DIR)):
                full = os.path.join(cu.checkpoint_dir(self.cfg.OUTPUT_DIR), old)
                if "_iter_" in old and full != path and old.startswith(os.path.basename(path).split("_epoch_")[0]):
                    os.remove(full)
        du.barrier()
        self.last_checkpoint = path
        return path

    def load(self, path: str) -> None:
        """Resume everything from one of our own checkpoints."""
        ckpt = cu.load_file(path)
        if "resume_epoch" not in ckpt:
            raise ValueError(f"{path} is not a videossl training checkpoint (no resume state)")
        self.method.load_state_dict(ckpt["model_state"])
        self.optimizer.load_state_dict(ckpt["optimizer_state"])
        self.scaler.load_state_dict(ckpt["scaler_state"])
        self.start_epoch, self.start_iter = ckpt["resume_epoch"], ckpt["resume_iter"]
        self.global_iter = ckpt["global_iter"]
        states = ckpt["rank_states"]
        if len(states) != self.world_size:
            logger.warning("checkpoint has %d rank states, this run has %d ranks: rank-local "
                           "state (RNG, queues) is taken from rank %% %d", len(states),
                           self.world_size, len(states))
        mine = states[self.rank % len(states)]
        set_rng_state(mine["rng"])
        self.method.load_rank_state_dict(mine["method"])
        self.last_checkpoint = path
        logger.info("resumed from %s at epoch %d iteration %d", path, self.start_epoch, self.start_iter)

    def resume_or_init(self) -> None:
        path = cu.last_checkpoint(self.cfg.OUTPUT_DIR, self.prefix) if self.cfg.TRAIN.AUTO_RESUME else None
        if path:
            self.load(path)
            return
        init_from_pretrained(self.cfg, self.method)

    # ------------------------------------------------------------------ loop
    def _backward(self, loss: torch.Tensor) -> None:
        self._check_finite(loss)
        self.scaler.scale(loss).backward()

    def _check_finite(self, loss: torch.Tensor) -> None:
        bad = torch.tensor([0.0 if torch.isfinite(loss.detach()).all() else 1.0])
        if du.get_world_size() > 1:
            bad = bad.to(self.device)
            torch.distributed.all_reduce(bad)
        if bad.item() > 0:
            raise NonFiniteLossError(
                f"loss is {loss.detach().float().item()} at epoch {self._progress.epoch + 1} "
                f"iteration {self._progress.iter_in_epoch + 1}: training stopped. "
                f"Last good checkpoint: {self.last_checkpoint or 'none written yet'}"
            )

    def _step(self, batch: Dict, progress: Progress) -> Dict[str, float]:
        cfg = self.cfg
        self._progress = progress
        lr = self.schedule.lr_at(progress.epoch_exact)
        set_lr(self.optimizer, lr)
        self.method.on_step_start(progress)
        with self._autocast():
            if self.method.train_step is not None:
                out = self.method.train_step(batch, self._backward)
                _allreduce_grads(self.method)
            else:
                out = self.model(batch)
                self._backward(out["loss"])
        loss_value = float(out["loss"].detach())
        factor = cfg.TRAIN.KILL_LOSS_EXPLOSION_FACTOR
        if factor > 0 and getattr(self, "_prev_loss", None) is not None and loss_value > factor * self._prev_loss:
            raise NonFiniteLossError(
                f"loss exploded ({loss_value:.4g} > {factor} x {self._prev_loss:.4g}) at epoch "
                f"{progress.epoch + 1} iteration {progress.iter_in_epoch + 1} "
                f"(TRAIN.KILL_LOSS_EXPLOSION_FACTOR). Last good checkpoint: {self.last_checkpoint}"
            )
        self._prev_loss = loss_value
        self.scaler.unscale_(self.optimizer)
        if cfg.SOLVER.CLIP_GRAD_VAL:
            torch.nn.utils.clip_grad_value_(self.method.parameters(), cfg.SOLVER.CLIP_GRAD_VAL)
        if cfg.SOLVER.CLIP_GRAD_L2NORM:
            torch.nn.utils.clip_grad_norm_(self.method.parameters(), cfg.SOLVER.CLIP_GRAD_L2NORM)
        if self.method.before_optimizer_step(progress):
            self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        stats = {k: float(v.detach()) if torch.is_tensor(v) else v for k, v in out.items()}
        stats["lr"] = lr
        return stats

    def _iters_per_epoch(self, loader_len: int) -> int:
        cap = self.cfg.TRAIN.ITERS_PER_EPOCH
        return min(loader_len, cap) if cap > 0 else loader_len

    def train(self) -> None:
        from ..data import build_dataset, build_loader

        cfg = self.cfg
        train_set = build_dataset(cfg, "train")
        logger.info(
            "train: %d videos, %d process(es), batch %d per process, global batch %d, base LR %.5g "
            "(SOLVER.BASE_LR %.5g%s)", len(train_set), self.world_size, self.scale.per_process_batch,
            self.scale.global_batch, self.scale.base_lr, cfg.SOLVER.BASE_LR,
            f" x {cfg.NUM_SHARDS} shards" if cfg.SOLVER.BASE_LR_SCALE_NUM_SHARDS else "",
        )
        if self.scale.per_process_batch < 1:
            raise ValueError(f"TRAIN.BATCH_SIZE={cfg.TRAIN.BATCH_SIZE} gives no sample per process")
        self.method.train()
        for epoch in range(self.start_epoch, cfg.SOLVER.MAX_EPOCH):
            start_iter = self.start_iter if epoch == self.start_epoch else 0
            loader = build_loader(cfg, train_set, train=True, batch_size=self.scale.per_process_batch,
                                  epoch=epoch, start_iter=start_iter)
            total = self._iters_per_epoch(len(loader) + start_iter)
            if total == 0:
                raise ValueError(
                    f"the train split has {len(train_set)} videos, fewer than one global batch "
                    f"({self.scale.global_batch}); lower TRAIN.BATCH_SIZE"
                )
            self._run_epoch(epoch, loader, start_iter, total)
            if (epoch + 1) % cfg.TRAIN.CHECKPOINT_PERIOD == 0 or epoch + 1 == cfg.SOLVER.MAX_EPOCH:
                self.save(epoch + 1, 0)
            if cfg.TRAIN.EVAL_PERIOD > 0 and (epoch + 1) % cfg.TRAIN.EVAL_PERIOD == 0 \
                    and epoch + 1 < cfg.SOLVER.MAX_EPOCH and cfg.TASK == "pretrain" and cfg.CONTRASTIVE.KNN_ON:
                self._monitor(epoch)
        if self.tb:
            self.tb.flush()

    def _monitor(self, epoch: int) -> None:
        from .evaluate import EVALUATORS

        result = EVALUATORS["knn"](self.cfg, self.method, self.device)
        log_json_stats({"_type": "knn_epoch", "epoch": f"{epoch + 1}/{self.cfg.SOLVER.MAX_EPOCH}", **result})
        if self.tb:
            self.tb.add_scalar("knn/top1_acc", result["top1_acc"], epoch + 1)

    def _run_epoch(self, epoch: int, loader, start_iter: int, total: int) -> None:
        """One epoch from ``start_iter``; logs json_stats and the skipped-video count."""
        cfg = self.cfg
        failed = 0
        seen = 0
        data_start = time.perf_counter()
        bar = None
        if du.is_main_process() and sys.stdout.isatty():
            from tqdm import tqdm

            bar = tqdm(total=total, initial=start_iter, desc=f"epoch {epoch + 1}/{cfg.SOLVER.MAX_EPOCH}",
                       leave=False, dynamic_ncols=True)
        for it, batch in enumerate(loader, start=start_iter):
            if it >= total:
                break
            data_time = time.perf_counter() - data_start
            iter_start = time.perf_counter()
            failed += int(batch.get("num_failed", torch.zeros(1)).sum())
            seen += batch["label"].shape[0]
            batch = to_device(batch, self.device)
            progress = Progress(epoch, it, self.global_iter, total, cfg.SOLVER.MAX_EPOCH)
            stats = self._step(batch, progress)
            self.global_iter += 1
            iter_time = time.perf_counter() - iter_start
            if (it + 1) % cfg.LOG_PERIOD == 0 or it + 1 == total:
                eta = (total - it - 1 + (cfg.SOLVER.MAX_EPOCH - epoch - 1) * total) * (iter_time + data_time)
                log_json_stats({
                    "_type": "train_iter", "epoch": f"{epoch + 1}/{cfg.SOLVER.MAX_EPOCH}",
                    "iter": f"{it + 1}/{total}", "time_diff": iter_time, "dt_data": data_time,
                    "eta": time.strftime("%H:%M:%S", time.gmtime(eta)),
                    "mem": _peak_memory_mb(self.device), **stats,
                })
            if self.tb:
                for k, v in stats.items():
                    if isinstance(v, (int, float)):
                        self.tb.add_scalar(f"train/{k}", v, self.global_iter)
            if bar:
                bar.set_postfix(loss=f"{stats['loss']:.4f}", lr=f"{stats['lr']:.3g}")
                bar.update(1)
            period = cfg.TRAIN.CHECKPOINT_ITER_PERIOD
            if self.preemption.agreed(self.device):
                path = self.save(epoch, it + 1) if it + 1 < total else self.save(epoch + 1, 0)
                logger.info("preemption signal: checkpoint %s written, exiting for requeue", path)
                raise Preempted(143)
            if period > 0 and (it + 1) % period == 0 and it + 1 < total:
                self.save(epoch, it + 1)
            data_start = time.perf_counter()
        if bar:
            bar.close()
        totals = torch.tensor([failed, seen], dtype=torch.float64)
        if self.world_size > 1:
            totals = totals.to(self.device)
            torch.distributed.all_reduce(totals)
        failed, seen = int(totals[0]), int(totals[1])
        log_json_stats({"_type": "train_epoch", "epoch": f"{epoch + 1}/{cfg.SOLVER.MAX_EPOCH}",
                        "skipped_videos": failed, "samples": seen,
                        "mem": _peak_memory_mb(self.device)})
        if seen and failed / (failed + seen) > cfg.DATA_LOADER.MAX_FAILED_FRACTION:
            raise RuntimeError(
                f"{failed} videos failed to decode in epoch {epoch + 1} against {seen} that worked "
                f"(more than DATA_LOADER.MAX_FAILED_FRACTION={cfg.DATA_LOADER.MAX_FAILED_FRACTION}); "
                "check the dataset with tools/check_dataset.py"
            )


def log_model_info(cfg, method, device) -> None:
    """Parameter count and fvcore GFLOPs (multiply-adds) of the backbone at the train input size."""
    n_params = sum(p.numel() for p in method.parameters())
    n_train = sum(p.numel() for p in method.parameters() if p.requires_grad)
    msg = f"model: {type(method).__name__} ({cfg.SSL.METHOD}, {cfg.MODEL.ARCH}), params {n_params:,} ({n_train:,} trainable)"
    net = getattr(method, "pretrain_target", None) or getattr(method, "backbone", None)
    if net is not None and hasattr(net, "forward_features"):
        try:
            from fvcore.nn import FlopCountAnalysis

            size = cfg.DATA.TRAIN_CROP_SIZE
            x = torch.zeros(1, cfg.DATA.INPUT_CHANNEL_NUM[0], cfg.DATA.NUM_FRAMES, size, size, device=device)
            was = net.training
            net.eval()
            flops = FlopCountAnalysis(_Features(net), x)
            flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            msg += f", backbone {flops.total() / 1e9:.3f} GFLOPs (multiply-adds) per clip"
            net.train(was)
        except Exception as err:  # noqa: BLE001 - FLOP counting is informational only
            msg += f", FLOPs not counted ({type(err).__name__})"
    logger.info(msg)


class _Features(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.forward_features(x)


def run_task(cfg) -> Dict:
    """Entry point for one process: train (if TRAIN.ENABLE) then test (if TEST.ENABLE)."""
    from ..utils.logging import setup_logging
    from .evaluate import run_test

    setup_logging(cfg.OUTPUT_DIR)
    trainer = Trainer(cfg)
    if cfg.LOG_MODEL_INFO:
        log_model_info(cfg, trainer.method, trainer.device)
    results = {}
    if cfg.TRAIN.ENABLE:
        trainer.resume_or_init()
        trainer.train()
    elif cfg.TEST.ENABLE:
        _load_for_test(cfg, trainer)
    if cfg.TEST.ENABLE:
        results = run_test(cfg, trainer.method, trainer.device)
    return results


def _load_for_test(cfg, trainer: Trainer) -> None:
    """TEST.CHECKPOINT_FILE_PATH, else the last checkpoint in OUTPUT_DIR, else TRAIN's (PySlowFast order)."""
    path = cfg.TEST.CHECKPOINT_FILE_PATH or cu.last_checkpoint(cfg.OUTPUT_DIR, trainer.prefix)
    if path:
        caffe2 = cfg.TEST.CHECKPOINT_TYPE == "caffe2" or path.endswith(".pkl")
        ckpt = {} if caffe2 else cu.load_file(path)
        if "resume_epoch" in ckpt:
            trainer.method.load_state_dict(ckpt["model_state"])
            logger.info("testing weights of %s", path)
            return
        from ..models.convert import load_pretrained

        target = getattr(trainer.method, "pretrain_target", None) or trainer.method
        report = load_pretrained(target, path, source="caffe2" if caffe2 else None)
        logger.info("testing weights of %s\n%s", path, report.table())
        return
    if not init_from_pretrained(cfg, trainer.method):
        logger.warning("no checkpoint to test: testing a randomly initialised model")
