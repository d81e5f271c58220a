"""configs/masked_ssl: every YAML loads and builds; PySlowFast's masked_ssl spelling loads as MAE."""

import glob
import os
import subprocess

import pytest
import torch

from videossl.config import load_config
from videossl.config.defaults import get_cfg
from videossl.methods import build_method

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "masked_ssl", "**", "*.yaml"), recursive=True))
SLOWFAST = "/work/.mirror/facebookresearch+SlowFast/repo"


@pytest.mark.parametrize("path", CONFIGS, ids=[os.path.relpath(p, ROOT) for p in CONFIGS])
def test_config_loads_and_builds(path):
    cfg = load_config([path])
    assert cfg.SSL.METHOD in ("mae", "supervised")
    assert cfg.MODEL.ARCH in ("vit", "mvit", "maskmvit")
    with torch.device("meta"):
        method = build_method(cfg)
    assert sum(p.numel() for p in method.parameters()) > 0


@pytest.mark.parametrize("pretrain, finetune", [("mae_st_vit_tiny_PT", "vit_tiny_FT"),
                                               ("videomae_vit_tiny_PT", "videomae_vit_tiny_FT"),
                                               ("mae_st_vit_tiny_PT", "videomae_vit_tiny_PT")])
def test_synthetic_recipes_pretrain_and_finetune_on_the_same_videos(pretrain, finetune):
    """The MAE-vs-random comparison needs one dataset: the SYNTHETIC nodes (hence the cache digest) agree."""
    from videossl.data.synthetic import settings_from_cfg

    a, b = (load_config([os.path.join(ROOT, "configs", "masked_ssl", "synthetic", n + ".yaml")])
            for n in (pretrain, finetune))
    assert a.SYNTHETIC == b.SYNTHETIC
    assert settings_from_cfg(a).digest() == settings_from_cfg(b).digest()
    assert a.SYNTHETIC.OBJECT_GLOW > 0  # the shipped videos: every patch has structure (README)


PYSLOWFAST_STYLE = """
TASK: ssl
MVIT:
  PATCH_KERNEL: (2, 16, 16)
  PATCH_STRIDE: (2, 16, 16)
  PATCH_PADDING: (0, 0, 0)
  SEP_POS_EMBED: True
  EMBED_DIM: 64
  NUM_HEADS: 2
  DEPTH: 2
MASK:
  ENABLE: True
  MAE_ON: True
  MAE_RND_MASK: True
  PRETRAIN_DEPTH: [1]
  HEAD_TYPE: "separate_xformer"
  DECODER_DEPTH: 1
  DECODER_EMBED_DIM: 64
AUG:
  ENABLE: True
  COLOR_JITTER: None
  MASK_RATIO: 0.9
SOLVER:
  BASE_LR: 1e-4
  BETAS: (0.9, 0.95)
  LAYER_DECAY: 0.75
  LAYER_DECAY: 1.0
MODEL:
  ARCH: maskmvit
  MODEL_NAME: MaskMViT
DATA:
  NUM_FRAMES: 4
  TRAIN_CROP_SIZE: 32
  INPUT_CHANNEL_NUM: [3]
NUM_GPUS: 1
"""


def test_pyslowfast_masked_ssl_spelling_loads(tmp_path):
    """PySlowFast YAML values are literal-evaluated (tuples, None, 1e-4); the last duplicate key wins."""
    path = tmp_path / "psf_mae.yaml"
    path.write_text(PYSLOWFAST_STYLE)
    cfg = load_config([str(path)])
    assert cfg.SSL.METHOD == "mae" and cfg.TASK == "pretrain"
    assert list(cfg.MVIT.PATCH_KERNEL) == [2, 16, 16] and cfg.AUG.COLOR_JITTER is None
    assert cfg.SOLVER.BASE_LR == pytest.approx(1e-4) and tuple(cfg.SOLVER.BETAS) == (0.9, 0.95)
    assert cfg.SOLVER.LAYER_DECAY == 1.0
    method = build_method(cfg)
    assert method.mask_generator.mask_type == "random" and method.mask_generator.ratio == 0.9


def _pyslowfast_cfg(name):
    text = subprocess.run(["git", "-C", SLOWFAST, "show", f"HEAD:configs/masked_ssl/{name}.yaml"],
                          capture_output=True, text=True, check=True).stdout
    cfg = get_cfg()
    cfg.merge_from_other_cfg(cfg.load_cfg(text))  # yacs semantics (literal eval, last duplicate wins)
    return cfg


# Keys where our mirror deliberately differs from PySlowFast's file.
DELIBERATE = {"TASK", "DATA.DECODING_BACKEND", "TRAIN.BATCH_SIZE", "TEST.NUM_ENSEMBLE_VIEWS",
              "TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN", "SSL.METHOD"}


@pytest.mark.skipif(not os.path.isdir(SLOWFAST), reason="PySlowFast snapshot not available")
@pytest.mark.parametrize("size", ["B", "L", "H"])
@pytest.mark.parametrize("kind", ["MAE_PT", "FT"])
def test_mirrors_hold_pyslowfast_effective_values(size, kind):
    name = f"k400_VIT_{size}_16x4_{kind}"
    theirs = _pyslowfast_cfg(name)
    ours = load_config([os.path.join(ROOT, "configs", "masked_ssl", f"{name}.yaml")])

    def flat(node, prefix=""):
        for k, v in node.items():
            if hasattr(v, "items"):
                yield from flat(v, prefix + k + ".")
            else:
                yield prefix + k, v

    mine = dict(flat(ours))
    diffs = []
    for key, value in flat(theirs):
        if key in DELIBERATE or (size == "B" and kind == "FT" and key == "TRAIN.BATCH_SIZE"):
            continue
        a = tuple(value) if isinstance(value, (list, tuple)) else value
        b = tuple(mine[key]) if isinstance(mine[key], (list, tuple)) else mine[key]
        if a != b:
            diffs.append((key, a, b))
    assert diffs == []
