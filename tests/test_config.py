import os

import pytest

from videossl.config import ConfigError, compute_scale, load_config


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_files_merge_in_order_then_overrides(tmp_path):
    a = _write(tmp_path, "a.yaml", "SOLVER:\n  BASE_LR: 0.5\n  MAX_EPOCH: 7\nTRAIN:\n  BATCH_SIZE: 16\n")
    b = _write(tmp_path, "b.yaml", "SOLVER:\n  BASE_LR: 0.25\n")
    cfg = load_config([a, b], ["TRAIN.BATCH_SIZE", "8"])
    assert cfg.SOLVER.BASE_LR == 0.25  # b wins over a
    assert cfg.SOLVER.MAX_EPOCH == 7  # a's value survives
    assert cfg.TRAIN.BATCH_SIZE == 8  # override wins over files
    assert cfg.is_frozen()


def test_yaml_strings_are_literal_evaluated_like_yacs(tmp_path):
    path = _write(tmp_path, "wd.yaml", "SOLVER:\n  WEIGHT_DECAY: 1e-6\nTRAIN:\n  CHECKPOINT_CLEAR_NAME_PATTERN: ('backbone.',)\n")
    cfg = load_config([path])
    assert cfg.SOLVER.WEIGHT_DECAY == 1e-6
    assert tuple(cfg.TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN) == ("backbone.",)


def test_duplicate_yaml_key_last_wins(tmp_path):
    a = _write(tmp_path, "dup.yaml", "SOLVER:\n  BASE_LR: 0.1\n  BASE_LR: 1.2\n")
    assert load_config([a]).SOLVER.BASE_LR == 1.2


def test_unknown_key_names_key_and_suggests(tmp_path):
    with pytest.raises(ConfigError, match=r"SOLVER\.BASE_LRR.*did you mean SOLVER\.BASE_LR"):
        load_config([], ["SOLVER.BASE_LRR", "0.1"])
    path = _write(tmp_path, "bad.yaml", "TRAIN:\n  BATCH_SIZEE: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*TRAIN\.BATCH_SIZEE.*TRAIN\.BATCH_SIZE"):
        load_config([path])


def test_type_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"SOLVER\.BASE_LR expects float"):
        load_config([], ["SOLVER.BASE_LR", "fast"])
    with pytest.raises(ConfigError, match=r"TRAIN\.ENABLE expects bool"):
        load_config([], ["TRAIN.ENABLE", "3"])
    # An int where a float is expected is converted, not refused.
    assert load_config([], ["SOLVER.BASE_LR", "1"]).SOLVER.BASE_LR == 1.0


def test_inconsistent_combinations_fail_at_start():
    with pytest.raises(ConfigError, match="TRAIN.BATCH_SIZE"):
        load_config([], ["NUM_GPUS", "3", "TRAIN.BATCH_SIZE", "8"])
    with pytest.raises(ConfigError, match="SHARD_ID"):
        load_config([], ["SHARD_ID", "2", "NUM_SHARDS", "2"])
    with pytest.raises(ConfigError, match="SOLVER.STEPS"):
        load_config([], ["SOLVER.LR_POLICY", "steps_with_relative_lrs"])


def test_pyslowfast_spellings_map_to_canonical_keys():
    cfg = load_config([], ["TASK", "ssl", "MODEL.MODEL_NAME", "ContrastiveModel", "CONTRASTIVE.TYPE", "byol"])
    assert (cfg.TASK, cfg.SSL.METHOD) == ("pretrain", "byol")
    cfg = load_config([], ["TASK", "ssl_eval_k400", "MODEL.DETACH_FINAL_FC", "True"])
    assert (cfg.TASK, cfg.SSL.METHOD) == ("linear", "supervised")
    assert load_config([], ["TASK", "ssl_eval"]).TASK == "finetune"
    assert load_config([], ["DATA.DECODING_BACKEND", "torchvision"]).DATA.DECODING_BACKEND == "pyav"
    with pytest.raises(ConfigError, match="contradicts"):
        load_config([], ["SSL.METHOD", "simclr", "MODEL.MODEL_NAME", "ContrastiveModel",
                         "CONTRASTIVE.TYPE", "moco"])


def test_unimplemented_pyslowfast_keys_only_at_default():
    load_config([], ["SLOWFAST.ALPHA", "8"])  # the default: accepted
    with pytest.raises(ConfigError, match=r"SLOWFAST\.ALPHA=4"):
        load_config([], ["SLOWFAST.ALPHA", "4"])


def test_lr_scaling_is_computed_not_written_back():
    cfg = load_config([], ["SOLVER.BASE_LR_SCALE_NUM_SHARDS", "True", "NUM_SHARDS", "4",
                           "SOLVER.BASE_LR", "0.1", "TRAIN.BATCH_SIZE", "64", "NUM_GPUS", "8"])
    scale = compute_scale(cfg, world_size=32)
    assert cfg.SOLVER.BASE_LR == 0.1
    assert scale.base_lr == pytest.approx(0.4)
    assert scale.per_process_batch == 8 and scale.global_batch == 256


def test_run_net_rejects_unknown_key_with_one_line(tmp_path, capsys):
    from tools.run_net import main

    rc = main(["SOLVER.MAX_EPOCHS", "3", "OUTPUT_DIR", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "SOLVER.MAX_EPOCH" in err
    assert not os.path.exists(tmp_path / "config.yaml")
