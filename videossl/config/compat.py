"""Map PySlowFast spellings onto videossl's canonical keys.

This is the only place that knows PySlowFast's alternative spellings:

* ``TASK``: ``ssl`` -> ``pretrain``; ``ssl_eval*`` -> ``detection`` when
  ``DETECTION.ENABLE`` (``ssl_eval_ava``), ``linear`` when
  ``MODEL.DETACH_FINAL_FC``, else ``finetune``; ``""`` -> ``supervised``
  (or ``pretrain`` when an SSL method is chosen).
* ``SSL.METHOD``: ``MODEL.MODEL_NAME: ContrastiveModel`` + ``CONTRASTIVE.TYPE``,
  or ``MASK.ENABLE`` + ``MASK.MAE_ON`` (-> ``mae``).
* ``DATA.DECODING_BACKEND: torchvision`` -> ``pyav`` (torchvision 0.29 has no
  video decoder; PyAV is what its backend wrapped).

Contradictory spellings (e.g. ``SSL.METHOD: byol`` with ``CONTRASTIVE.TYPE:
moco`` under ContrastiveModel) raise ``ValueError``.
"""

from ..engine.tasks import get_task
from ..errors import InputError

CONTRASTIVE_TYPES = ("moco", "byol", "simclr", "swav")


def _method_from_pyslowfast(cfg) -> str:
    if cfg.MODEL.MODEL_NAME == "ContrastiveModel":
        ctype = cfg.CONTRASTIVE.TYPE
        if ctype not in CONTRASTIVE_TYPES:
            raise InputError(
                f"CONTRASTIVE.TYPE={ctype!r} is not implemented in videossl; "
                f"choose one of {CONTRASTIVE_TYPES}"
            )
        return ctype
    if cfg.MASK.ENABLE and cfg.MASK.MAE_ON:
        return "mae"
    if cfg.MASK.ENABLE:
        raise InputError(
            "MASK.ENABLE without MASK.MAE_ON is PySlowFast's MaskFeat, which videossl "
            "does not implement; set MASK.MAE_ON True for MAE"
        )
    return ""


def apply_compat(cfg) -> None:
    """Rewrite PySlowFast spellings in the (unfrozen) ``cfg`` in place."""
    derived = _method_from_pyslowfast(cfg)
    method = cfg.SSL.METHOD
    if method and derived and method != derived:
        raise InputError(
            f"SSL.METHOD={method!r} contradicts the PySlowFast spelling, which "
            f"selects {derived!r} (MODEL.MODEL_NAME={cfg.MODEL.MODEL_NAME!r}, "
            f"CONTRASTIVE.TYPE={cfg.CONTRASTIVE.TYPE!r}, MASK.MAE_ON={cfg.MASK.MAE_ON})"
        )
    method = method or derived

    task = cfg.TASK
    if task == "ssl":
        task = "pretrain"
    elif task.startswith("ssl_eval") and cfg.DETECTION.ENABLE:
        task = "detection"  # ssl_eval_ava
    elif task.startswith("ssl_eval"):
        task = "linear" if cfg.MODEL.DETACH_FINAL_FC else "finetune"
    elif task == "":
        task = "pretrain" if method not in ("", "supervised") else "supervised"
    spec = get_task(task)
    if spec.method is not None:
        if method not in ("", spec.method):
            raise InputError(
                f"TASK={cfg.TASK!r} trains with the {spec.method} method but SSL.METHOD={method!r}; "
                "evaluation tasks use the supervised method on a pretrained backbone"
            )
        method = spec.method
    elif not method or method == "supervised":
        raise InputError(
            f"TASK={task!r} is pretraining but no SSL method is chosen: set SSL.METHOD "
            "(or PySlowFast's MODEL.MODEL_NAME ContrastiveModel + CONTRASTIVE.TYPE)"
        )
    if spec.probe and not cfg.MODEL.DETACH_FINAL_FC and cfg.LINEAR.PROTOCOL == "pyslowfast":
        # The pyslowfast linear protocol *is* DETACH_FINAL_FC.
        cfg.MODEL.DETACH_FINAL_FC = True
    cfg.TASK = task
    cfg.SSL.METHOD = method

    if cfg.DATA.DECODING_BACKEND == "torchvision":
        cfg.DATA.DECODING_BACKEND = "pyav"
