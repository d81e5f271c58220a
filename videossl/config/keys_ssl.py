"""Config keys owned by the ssl area (videossl-only keys; PySlowFast keys live in defaults.py).

PySlowFast's ``CONTRASTIVE.*`` keys keep their meaning (see defaults.py).  The
keys below are ours: every one defaults to PySlowFast's behaviour (or to a
constant PySlowFast hard-codes), so a PySlowFast config means the same here.

``SSL.MOCO_GLOBAL_QUEUE``
    False (PySlowFast): each process enqueues only its own keys into its own
    ``queue_x``.  True: keys are all-gathered (no gradient) and every process
    enqueues the global batch, so all queues are identical and a run with N
    processes equals one process on the same global batch (the official MoCo
    behaviour).
``SSL.SWAV_GLOBAL_SINKHORN``
    False (PySlowFast): Sinkhorn-Knopp runs on each process's own batch unless
    ``NUM_SHARDS > 1`` (PySlowFast's ``distributed_sinkhorn`` is used only with
    several machines).  True: always normalise over the global batch (sums
    all-reduced), which makes the codes independent of the number of processes.
``SSL.SWAV_NUM_PROTOTYPES``
    Rows of ``swav_prototypes`` (PySlowFast hard-codes 1000).
``SSL.SWAV_EPSILON`` / ``SSL.SWAV_SINKHORN_ITERS``
    Sinkhorn entropy ε and iterations (PySlowFast: 0.05 and 3).
``SSL.SWAV_QUEUE_START_EPOCH``
    Epoch from which the ``SWAV_QEUE_LEN`` queue is used (PySlowFast: 15).
``SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS``
    Prototype gradients are dropped while ``epoch_exact <=`` this (PySlowFast: 1).
``SSL.COCLR_STREAM``
    The stream the two-stream methods (``infonce`` / ``ubernce`` / ``coclr`` /
    ``vicc`` / ``vicc_cross``) train: "rgb" (``views``) or "flow" (``flow``,
    needs ``DATA.USE_FLOW``). CoCLR's sampler and ViCC's ``second`` are the other one.
``SSL.COCLR_TOPK``
    Positives CoCLR mines per query from the other stream's queue (CoCLR: 5).
``SSL.COCLR_DROP_SELF_P``
    Probability per step that CoCLR drops the self-positive from the numerator of
    rows that have another positive (CoCLR, since its commit 45f200e: 0.9).
``SSL.VICC_NO_GRAD_VIEW``
    ViCC encodes its second clip without gradient, with shuffle BN (True, ViCC's
    ``--sync_bn none`` scripts); False backpropagates through both clips.
``SSL.VICC_ALIGN_EPOCHS`` (0)
    videossl option, not ViCC's: during the first N whole epochs of a ViCC
    stage only the prototypes learn (encoder and projection gradients are
    dropped, BN statistics still update), fitting them to the embeddings of
    both streams before the cross stage moves the encoder.
    ViCC reuses SwAV's keys: ``SSL.SWAV_NUM_PROTOTYPES`` (300), ``SSL.SWAV_EPSILON``,
    ``SSL.SWAV_SINKHORN_ITERS``, ``CONTRASTIVE.SWAV_QEUE_LEN`` (1920, rounded down to a
    multiple of the global batch), ``SSL.SWAV_QUEUE_START_EPOCH`` and
    ``SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS`` (whole epochs for ViCC); its Sinkhorn is always global.
"""

from fvcore.common.config import CfgNode


def add_keys(cfg: CfgNode) -> None:
    """Add this area's keys to `cfg` in place (``cfg.SSL`` already exists with ``METHOD``)."""
    cfg.SSL.MOCO_GLOBAL_QUEUE = False
    cfg.SSL.SWAV_GLOBAL_SINKHORN = False
    cfg.SSL.SWAV_NUM_PROTOTYPES = 1000
    cfg.SSL.SWAV_EPSILON = 0.05
    cfg.SSL.SWAV_SINKHORN_ITERS = 3
    cfg.SSL.SWAV_QUEUE_START_EPOCH = 15.0
    cfg.SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS = 1.0
    cfg.SSL.COCLR_STREAM = "rgb"
    cfg.SSL.COCLR_TOPK = 5
    cfg.SSL.COCLR_DROP_SELF_P = 0.9
    cfg.SSL.VICC_NO_GRAD_VIEW = True
    cfg.SSL.VICC_ALIGN_EPOCHS = 0
