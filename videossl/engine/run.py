"""What ``tools/run_net.py`` runs once the config is loaded: the task, the test, and error reporting.

:func:`run_task` is one process's job: build the trainer, resume or
initialise, train (``TRAIN.ENABLE``), then test (``TEST.ENABLE``) with the
task's evaluator.  :func:`run_job` saves the config, launches the processes
and turns a :class:`~videossl.errors.VideosslError` (bad config, data,
checkpoint, a NaN loss) into one line; any other exception is a bug and
keeps its traceback.
"""

import json
import os
import sys
from typing import Dict

from torch.multiprocessing.spawn import ProcessExitedException

from ..errors import InputError, VideosslError
from ..utils import checkpoint as cu
from ..utils import distributed as du
from ..utils.logging import get_logger, setup_logging
from .evaluators import build_evaluator
from .hooks.preemption import INTERRUPTED, Preempted, exit_on_stop_signals
from .loop import Trainer, build_train_data, build_trainer
from .tasks import get_task
from . import weights

logger = get_logger("run")


def log_model_info(cfg, method) -> None:
    """Parameter count and fvcore GFLOPs (multiply-adds) of the encoder at the train input size."""
    from ..models.model_info import flops_gmac

    n_params = sum(p.numel() for p in method.parameters())
    n_train = sum(p.numel() for p in method.parameters() if p.requires_grad)
    msg = (f"model: {type(method).__name__} ({cfg.SSL.METHOD}, {cfg.MODEL.ARCH}), "
           f"params {n_params:,} ({n_train:,} trainable)")
    net = method.get_submodule(method.checkpoint_layout().backbone.rstrip("."))
    size = cfg.DATA.TRAIN_CROP_SIZE
    shape = (1, cfg.DATA.INPUT_CHANNEL_NUM[0], cfg.DATA.NUM_FRAMES, size, size)
    try:
        msg += f", backbone {flops_gmac(net, shape, features_only=True):.3f} GFLOPs (multiply-adds) per clip"
    except Exception as err:  # noqa: BLE001 - FLOP counting is informational only
        msg += f", FLOPs not counted ({type(err).__name__})"
    logger.info(msg)


def resume_or_initialise(cfg, trainer: Trainer) -> None:
    """Resume from the task's last checkpoint in OUTPUT_DIR (``TRAIN.AUTO_RESUME``), else initialise."""
    s = trainer.settings
    candidates = cu.list_checkpoints(s.output_dir, s.checkpoint_prefix) if s.auto_resume else []
    for path in reversed(candidates):  # the newest readable one
        try:
            ckpt = weights.read_training_checkpoint(path)
        except InputError as err:
            logger.warning("cannot resume from %s (%s); trying the previous checkpoint", path, err)
            continue
        trainer.load_state_dict(ckpt, path)
        return
    if candidates:
        raise InputError(f"none of the {len(candidates)} checkpoints in {cu.checkpoint_dir(s.output_dir)} can "
                         "be read; move them away to start afresh (TRAIN.AUTO_RESUME)")
    _initialise(cfg, trainer, weights.init_checkpoints(cfg, s.task))


def _initialise(cfg, trainer: Trainer, checkpoints) -> None:
    """:func:`weights.initialise` with the TRAIN.CHECKPOINT_* loading options."""
    weights.initialise(trainer.method, checkpoints, trainer.settings.task,
                       clear_patterns=cfg.TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN, inflate=cfg.TRAIN.CHECKPOINT_INFLATE,
                       source="caffe2" if cfg.TRAIN.CHECKPOINT_TYPE == "caffe2" else None)


def load_for_test(cfg, trainer: Trainer) -> None:
    """TEST.CHECKPOINT_FILE_PATH, else the task's last checkpoint in OUTPUT_DIR, else TRAIN's (PySlowFast order)."""
    s = trainer.settings
    path = cfg.TEST.CHECKPOINT_FILE_PATH or cu.last_checkpoint(s.output_dir, s.checkpoint_prefix)
    if weights.load_for_test(trainer.method, path, caffe2=cfg.TEST.CHECKPOINT_TYPE == "caffe2"):
        return
    checkpoints = weights.init_checkpoints(cfg, s.task)
    if not checkpoints:
        logger.warning("no checkpoint to test: testing a randomly initialised model")
        return
    _initialise(cfg, trainer, checkpoints)


def run_test(cfg, method, device) -> Dict:
    """Run the task's evaluator for ``TEST.EVALUATOR``; write ``OUTPUT_DIR/results_<task>_<evaluator>.json``."""
    task = get_task(cfg.TASK)
    name = task.evaluator(cfg.TEST.EVALUATOR)
    evaluator = build_evaluator(cfg, name)
    result = evaluator(method, device)
    result = {"task": task.name, "evaluator": name, "protocol": evaluator.protocol,
              "linear_protocol": cfg.LINEAR.PROTOCOL if task.probe else None,
              "method": cfg.SSL.METHOD, "arch": cfg.MODEL.ARCH, **result}
    if du.is_main_process():
        os.makedirs(cfg.OUTPUT_DIR, exist_ok=True)
        path = os.path.join(cfg.OUTPUT_DIR, f"results_{task.name}_{name}.json")
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
        logger.info("test results (%s): %s", path, json.dumps(result))
    return result


def run_task(cfg) -> Dict:
    """One process's job: train (if TRAIN.ENABLE) then test (if TEST.ENABLE); returns the test result."""
    setup_logging(cfg.OUTPUT_DIR)
    trainer = build_trainer(cfg)
    if cfg.LOG_MODEL_INFO:
        log_model_info(cfg, trainer.method)
    if cfg.TRAIN.ENABLE:
        resume_or_initialise(cfg, trainer)
        trainer.train(build_train_data(cfg, trainer.settings))
    elif cfg.TEST.ENABLE:
        load_for_test(cfg, trainer)
    if cfg.TEST.ENABLE:
        return run_test(cfg, trainer.method, trainer.device)
    return {}


def save_config(cfg) -> str:
    """Write the frozen, merged config to ``OUTPUT_DIR/config.yaml``."""
    os.makedirs(cfg.OUTPUT_DIR, exist_ok=True)
    path = os.path.join(cfg.OUTPUT_DIR, "config.yaml")
    with open(path, "w") as f:
        f.write(cfg.dump())
    return path


def one_line(err: BaseException) -> str:
    """The user-facing line of an error (a DataLoader worker's error arrives with its traceback)."""
    lines = [ln for ln in str(err).strip().splitlines() if ln.strip()]
    if not lines:
        return type(err).__name__
    if len(lines) > 1 and "Traceback" in str(err):
        return lines[-1].split(": ", 1)[-1]
    return " ".join(ln.strip() for ln in lines)


def _job(cfg):
    try:
        with exit_on_stop_signals():
            run_task(cfg)
    except (VideosslError, FileNotFoundError) as err:
        # One clear line for the errors users cause (bad data, bad checkpoint, NaN loss); bugs keep tracebacks.
        if du.is_main_process():
            print(f"videossl: error: {one_line(err)}", file=sys.stderr)
        raise SystemExit(1) from None


def run_job(cfg, init_method: str, launch_job) -> int:
    try:
        save_config(cfg)
    except OSError as err:
        print(f"videossl: error: OUTPUT_DIR={cfg.OUTPUT_DIR!r} is not writable ({err.strerror or err})",
              file=sys.stderr)
        return 1
    try:
        launch_job(cfg, _job, init_method)
    except Preempted as exc:  # a stop signal: checkpoint written inside the loop, nothing to save outside it
        print(f"videossl: stopped by a signal, exit {exc.code}: rerun the same command to resume", file=sys.stderr)
        return int(exc.code)
    except SystemExit as exc:
        return int(exc.code or 0)
    except KeyboardInterrupt:  # Ctrl-C before the processes start
        print("videossl: interrupted", file=sys.stderr)
        return INTERRUPTED
    except ProcessExitedException as exc:  # a spawned rank failed (rank 0 printed its line); killed by signal N: 128+N
        code = int(exc.exit_code or 1)
        return code if code > 0 else 128 - code
    except VideosslError as err:
        print(f"videossl: error: {one_line(err)}", file=sys.stderr)
        return 1
    return 0
