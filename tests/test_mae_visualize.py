"""tools/visualize_mae.py: pixel-space reconstruction, PSNR on masked patches, the PNG grid."""

import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers.vit_configs import VIDEOMAE_OPTS, mae_opts  # noqa: E402
from tools.visualize_mae import main, psnr, reconstruct_pixels  # noqa: E402
from videossl.config import load_config  # noqa: E402
from videossl.methods import build_method  # noqa: E402

MEAN, STD = (0.45, 0.45, 0.45), (0.225, 0.225, 0.225)


@pytest.mark.parametrize("style", ["mae_st", "videomae"])
def test_perfect_prediction_reconstructs_the_clip(style, monkeypatch):
    torch.manual_seed(0)
    mae = build_method(load_config(opts=mae_opts(**(VIDEOMAE_OPTS if style == "videomae" else {})))).eval()
    clip = torch.rand(3, 4, 32, 32)
    original = mae.reconstruct

    def oracle(video, mask=None, generator=None):
        out = original(video, mask, generator)
        out["pred"] = out["target"]  # a model that predicts the normalised target exactly
        return out

    monkeypatch.setattr(mae, "reconstruct", oracle)
    res = reconstruct_pixels(mae, clip, MEAN, STD, seed=0)
    frames = clip[:, ::2] if style == "mae_st" else clip  # time-stride targets: first frame per tubelet
    torch.testing.assert_close(res["original"], frames, atol=1e-5, rtol=0)
    torch.testing.assert_close(res["reconstruction"], frames, atol=1e-4, rtol=0)
    assert res["psnr_reconstruction"] > 60
    assert res["psnr_mean_fill"] < res["psnr_patch_mean_fill"] < res["psnr_reconstruction"]
    assert res["mask_ratio"] == pytest.approx(0.75)
    assert res["loss"] < 1e-10 and res["loss_zero_prediction"] > 0.9  # random pixels: no patch is flat
    masked = res["masked"]
    assert (masked == 0.5).float().mean() > 0.7  # hidden patches are grey


def test_zero_prediction_loss_is_the_share_of_masked_patches_that_are_not_flat():
    """MAE-ST targets: a patch of noise normalises to mean square (P-1)/P (unbiased var), a flat one to 0."""
    torch.manual_seed(0)
    mae = build_method(load_config(opts=mae_opts())).eval()
    clip = torch.full((3, 4, 32, 32), 0.3)
    clip[..., :16] = torch.rand(3, 4, 32, 16)  # the left two patch columns are noise, the right two flat
    res = reconstruct_pixels(mae, clip, MEAN, STD, seed=3)
    hidden = (res["masked"] == 0.5).all(0).view(2, 4, 8, 4, 8).all(4).all(2)  # T' x 4 x 4 patches
    assert hidden.float().mean() == pytest.approx(0.75)
    left = torch.zeros(2, 4, 4, dtype=torch.bool)
    left[..., :2] = True
    expected = (hidden & left).sum().item() / hidden.sum().item() * (191 / 192)  # P = 8 x 8 x 3 values
    assert res["loss_zero_prediction"] == pytest.approx(expected, abs=1e-3)
    assert 0.2 < expected < 0.8


def test_psnr():
    a = torch.zeros(10)
    assert psnr(a, a + 0.1) == pytest.approx(20.0)
    assert psnr(a, a) == float("inf")


def test_cli_writes_grid_and_reports_psnr(tmp_path):
    from videossl.data.video_writer import write_video

    rng = np.random.RandomState(0)
    frames = [np.full((40, 48, 3), 40 * i % 255, np.uint8) + rng.randint(0, 20, (40, 48, 3), dtype=np.uint8)
              for i in range(12)]
    video = tmp_path / "clip.mp4"
    write_video(str(video), frames, fps=10)
    cfg_path = tmp_path / "tiny.yaml"
    opts = mae_opts()
    cfg_path.write_text("TASK: pretrain\n")  # the rest comes as KEY VALUE overrides
    torch.manual_seed(0)
    mae = build_method(load_config(opts=opts))
    ckpt = tmp_path / "ckpt.pyth"
    torch.save({"model_state": mae.state_dict(), "epoch": 0}, ckpt)
    out = tmp_path / "grid.png"
    stats = main(["--cfg", str(cfg_path), "--checkpoint", str(ckpt), "--video", str(video),
                  "--out", str(out), "--seed", "1", *opts, "DATA.SAMPLING_RATE", "2"])
    from PIL import Image

    img = Image.open(out)
    assert img.size == (2 * 128 + 2, 3 * 128 + 2 * 2)  # 3 rows x 2 target frames, 32 px shown at 4x
    assert {"psnr_reconstruction", "psnr_mean_fill", "psnr_patch_mean_fill", "gain_over_mean_fill_db",
            "loss", "loss_zero_prediction"} <= set(stats)
    assert stats["mask_ratio"] == pytest.approx(0.75)
