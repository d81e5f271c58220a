"""Config keys owned by the eval area (videossl-only keys; PySlowFast keys live in defaults.py)."""

from fvcore.common.config import CfgNode


def add_keys(cfg: CfgNode) -> None:
    """Add this area's keys to `cfg` in place."""
    cfg.LINEAR = CfgNode()
    # Linear-probe protocol: "pyslowfast" (DETACH_FINAL_FC, BN stats update)
    # or "coclr" (frozen eval-mode backbone, L2-norm -> BN1d -> FC).
    cfg.LINEAR.PROTOCOL = "pyslowfast"
    # Initialisation by role (CoCLR/ViCC's --pretrain A B): entries "ROLE=PATH", e.g.
    # ["query=rgb.pth.tar", "sampler=flow.pth.tar"]; the roles are the method's (Method.init_targets).
    # TRAIN.CHECKPOINT_FILE_PATH is the role "model" of single-encoder methods.
    cfg.TRAIN.INIT_FROM = []
    # Learning-rate multiplier of every parameter outside the classifier head (CoCLR finetunes its
    # backbone at LR / 10: 0.1); 1.0 = one LR for all.
    cfg.SOLVER.BACKBONE_LR_RATIO = 1.0
    cfg.RETRIEVAL = CfgNode()
    cfg.RETRIEVAL.TOPK = [1, 5, 10, 20, 50]
