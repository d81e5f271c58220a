"""A method defined outside the package (here) registers itself and runs pretrain -> linear -> retrieval.

Nothing else changes: no import list, no config key, no trainer branch.
The method is SimSiam (Chen & He, 2021): symmetric negative cosine between
one view's prediction and the other view's stop-gradient projection.
"""

import json

import torch
import torch.nn.functional as F

from conftest import tiny_cfg_opts
from videossl.config import load_config
from videossl.methods import METHOD_CLASSES, METHOD_REGISTRY, Method, register_method
from videossl.models import HeadSpec, build_model


class SimSiam(Method):
    """``L = -(cos(p0, sg(z1)) + cos(p1, sg(z0))) / 2`` over the first two views."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, batch):
        (z0, p0), (z1, p1) = (self.backbone(v) for v in batch["views"][:2])
        loss = -(F.cosine_similarity(p0, z1.detach()).mean() + F.cosine_similarity(p1, z0.detach()).mean()) / 2
        return {"loss": loss}

    def features(self, batch):
        return self.backbone.forward_features(batch["views"][0])


if "test_simsiam" not in METHOD_REGISTRY:

    @register_method("test_simsiam")
    def build(cfg) -> SimSiam:
        return SimSiam(build_model(cfg, HeadSpec(num_classes=16, num_mlp_layers=2, mlp_dim=32,
                                                 predictor_depths=(2,))))


def _opts(out, **extra):
    return tiny_cfg_opts(**{
        "TRAIN.DATASET": "synthetic", "TEST.DATASET": "synthetic", "SYNTHETIC.NUM_CLASSES": 4,
        "SYNTHETIC.TRAIN_PER_CLASS": 4, "SYNTHETIC.TEST_PER_CLASS": 2, "SYNTHETIC.NUM_FRAMES": 16,
        "SYNTHETIC.SIZE": 32, "SOLVER.MAX_EPOCH": 1, "SOLVER.BASE_LR": 0.05, "TEST.NUM_ENSEMBLE_VIEWS": 1,
        "TEST.NUM_SPATIAL_CROPS": 1, "OUTPUT_DIR": str(out), **extra})


def test_external_method_pretrains_then_linear_probe_then_retrieval(tmp_path):
    from videossl.engine.run import run_task

    assert METHOD_CLASSES["test_simsiam"] is SimSiam  # the class came from the builder's annotation
    out = tmp_path / "run"
    run_task(load_config([], _opts(out, **{"TASK": "pretrain", "SSL.METHOD": "test_simsiam",
                                           "DATA.TRAIN_CROP_NUM_TEMPORAL": 2, "TEST.ENABLE": False})))
    ssl = torch.load(out / "checkpoints" / "ssl_checkpoint_epoch_00001.pyth", weights_only=False)
    assert "SSL:\n  METHOD: test_simsiam" in ssl["cfg"] or "METHOD: test_simsiam" in ssl["cfg"]

    # linear probe chains from the SSL checkpoint in the same OUTPUT_DIR; the detached backbone keeps its weights
    linear = run_task(load_config([], _opts(out, **{"TASK": "linear", "MODEL.NUM_CLASSES": 4})))
    probe = torch.load(out / "checkpoints" / "ssl_eval_checkpoint_epoch_00001.pyth", weights_only=False)
    conv = "s1.pathway0_stem.conv.weight"
    assert torch.equal(probe["model_state"][f"net.{conv}"], ssl["model_state"][f"backbone.{conv}"])
    assert 0.0 <= linear["top1_acc"] <= 100.0 and linear["task"] == "linear"

    # retrieval of the pretrained method's own features (TRAIN off: its last checkpoint is tested)
    result = run_task(load_config([], _opts(out, **{"TASK": "pretrain", "SSL.METHOD": "test_simsiam",
                                                    "TRAIN.ENABLE": False, "TEST.EVALUATOR": "retrieval"})))
    saved = json.loads((out / "results_pretrain_retrieval.json").read_text())
    assert saved == result and result["method"] == "test_simsiam"
    assert result["num_gallery"] == 16 and result["num_queries"] == 8
    assert result["R@1"] * 8 / 100 == round(result["R@1"] * 8 / 100)  # a whole number of 8 queries hit
