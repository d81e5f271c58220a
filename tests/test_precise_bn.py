"""Precise BN (BN.USE_PRECISE_STATS): the checkpoint's BN statistics are the population statistics of the
first NUM_BATCHES_PRECISE training batches, computed here independently from the BN layer's inputs."""

import itertools

import pytest
import torch

from conftest import tiny_cfg_opts
from videossl.config import load_config


def _cfg(tmp_path, **extra):
    return load_config([], tiny_cfg_opts(**{
        "TASK": "supervised", "TRAIN.DATASET": "synthetic", "TEST.ENABLE": False, "SYNTHETIC.NUM_CLASSES": 4,
        "SYNTHETIC.TRAIN_PER_CLASS": 3, "SYNTHETIC.TEST_PER_CLASS": 1, "SYNTHETIC.NUM_FRAMES": 16,
        "SYNTHETIC.SIZE": 32, "SOLVER.MAX_EPOCH": 1, "BN.USE_PRECISE_STATS": True, "BN.NUM_BATCHES_PRECISE": 2,
        "OUTPUT_DIR": str(tmp_path), **extra}))


def test_precise_bn_statistics_are_the_population_statistics_of_training_batches(tmp_path):
    from videossl.engine.loop import build_train_data, build_trainer
    from videossl.engine.run import run_task

    cfg = _cfg(tmp_path)
    run_task(cfg)
    state = torch.load(tmp_path / "checkpoints" / "checkpoint_epoch_00001.pyth", weights_only=False)["model_state"]

    trainer = build_trainer(cfg)
    trainer.method.load_state_dict(state)
    trainer.method.train()
    bn = trainer.method.net.s1.pathway0_stem.bn
    inputs = []
    bn.register_forward_pre_hook(lambda m, i: inputs.append(i[0].detach().clone()))
    data = build_train_data(cfg, trainer.settings)
    with torch.no_grad():
        for batch in itertools.islice(data.loader(0, 0), 2):
            trainer.method.net(batch["views"][0])
    x = torch.cat(inputs).transpose(0, 1).reshape(bn.num_features, -1).double()
    torch.testing.assert_close(state["net.s1.pathway0_stem.bn.running_mean"].double(), x.mean(1),
                               rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(state["net.s1.pathway0_stem.bn.running_var"].double(), x.var(1, unbiased=False),
                               rtol=1e-4, atol=1e-6)


def test_precise_bn_with_videossl_sync_bn_is_refused(tmp_path):
    from videossl.engine.loop import build_trainer

    with pytest.raises(ValueError, match="BN.USE_PRECISE_STATS is not supported with BN.NORM_TYPE sync_batchnorm"):
        build_trainer(_cfg(tmp_path, **{"BN.NORM_TYPE": "sync_batchnorm"}))
