#!/usr/bin/env python3
"""Reconstruction grid of a masked-autoencoder checkpoint, with PSNR on the masked patches.

    python tools/visualize_mae.py --cfg configs/masked_ssl/synthetic/mae_st_vit_tiny_PT.yaml \
        --checkpoint out/ckpt.pyth --video some.mp4 [more.mp4 ...] --out grid.png \
        [--seed 0 --ratio 0.9 --json-out stats.json] [KEY VALUE ...]

Takes one clip from the middle of each ``--video`` (``DATA.NUM_FRAMES`` at
``DATA.SAMPLING_RATE``; short side resized to ``DATA.TRAIN_CROP_SIZE``, centre
crop), masks it with the config's masking (seeded: ``--seed`` + video index), and
writes a PNG of the first video with three rows -- original, masked input (hidden patches grey), reconstruction
(visible patches kept, hidden ones predicted) -- and one column per target
frame (with ``MASK.TIME_STRIDE_LOSS`` the first frame of each tubelet).

With per-patch normalised targets (``MASK.NORM_PRED_PIXEL``) predictions are
mapped back to pixels with each patch's own mean and std, as MAE-ST/VideoMAE
visualisations do.  The loss on the masked patches (the training loss: mean squared
error against the training targets) is printed next to the loss of predicting
zeros, which with normalised targets is about the share of masked patches that
are not flat.
PSNR (pixels in [0, 1], masked patches only) is printed
(mean over the videos) for the reconstruction and two baselines: ``mean-fill`` (each hidden patch
filled with the mean colour of the visible pixels: no knowledge of the hidden
patches) and ``patch-mean-fill`` (each hidden patch filled with its own true
mean in the target's normalisation -- the prediction "0" of a
normalised-target model, i.e. the baseline that gets the same per-patch
statistics as the reconstruction: one grey level per patch for MAE-ST's joint
normalisation, the mean colour for VideoMAE's per-channel one).  The checkpoint may be a videossl / PySlowFast ``.pyth`` or a
VideoMAE ``.pth`` (keys are mapped).
"""

import argparse
import json
import math
import os
import sys
from typing import Dict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402
from videossl.config import load_config  # noqa: E402
from videossl.methods import build_method  # noqa: E402
from videossl.methods.mae import MAE, patchify, target_patch, unpatchify  # noqa: E402
from videossl.models.vit_convert import load_vit_checkpoint  # noqa: E402


def read_clip(path: str, num_frames: int, rate: int, size: int) -> torch.Tensor:
    """Centre clip of ``path`` as a float ``3 x T x size x size`` tensor in [0, 1] (PyAV decode)."""
    import av
    import torch.nn.functional as F

    from videossl.errors import InputError

    if not os.path.isfile(path):
        raise FileNotFoundError(f"video not found: {path}")
    try:
        with av.open(path) as container:
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    except av.FFmpegError as err:
        raise InputError(f"{path}: cannot decode ({err})") from None
    if not frames:
        raise InputError(f"{path}: no video frames")
    span = (num_frames - 1) * rate + 1
    start = max((len(frames) - span) // 2, 0)
    idx = [min(start + i * rate, len(frames) - 1) for i in range(num_frames)]
    clip = torch.from_numpy(np.stack([frames[i] for i in idx])).permute(3, 0, 1, 2).float() / 255.0
    c, t, h, w = clip.shape
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    clip = F.interpolate(clip.permute(1, 0, 2, 3), size=(nh, nw), mode="bilinear", align_corners=False)
    top, left = (nh - size) // 2, (nw - size) // 2
    return clip[:, :, top:top + size, left:left + size].permute(1, 0, 2, 3).clamp(0, 1).contiguous()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of values in [0, 1]."""
    mse = torch.mean((a.double() - b.double()) ** 2).item()
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)


def reconstruct_pixels(mae: MAE, clip01: torch.Tensor, mean, std, seed: int = 0) -> Dict[str, torch.Tensor]:
    """Original / masked / reconstruction videos in [0, 1] pixels, plus per-pixel masks and PSNRs.

    ``clip01``: ``3 x T x H x W`` in [0, 1]; returns tensors ``3 x T' x H x W``
    over the target frames (T' = T / tubelet length with TIME_STRIDE_LOSS).
    """
    m = torch.tensor(mean).view(3, 1, 1, 1)
    s = torch.tensor(std).view(3, 1, 1, 1)
    video = ((clip01 - m) / s).unsqueeze(0)
    out = mae.reconstruct(video, generator=torch.Generator().manual_seed(seed))
    pred, mask, grid = out["pred"][0], out["mask"][0], out["grid"]
    target = out["target"][0]  # the training targets (normalised per patch with NORM_PRED_PIXEL)
    u, p, q = mae.patch_stride
    frames = video[:, :, ::u] if mae.time_stride_loss else video
    patch = target_patch(mae.patch_stride, mae.time_stride_loss)
    if mae.per_channel:  # VideoMAE: targets live in [0, 1] pixels, stats per channel
        pix = patchify(frames * s.unsqueeze(0) + m.unsqueeze(0), patch)[0].view(mask.shape[0], -1, 3)
        if mae.norm_pix:
            mu, sd = pix.mean(1, keepdim=True), pix.var(1, keepdim=True).sqrt() + 1e-6
            rec = pred.view_as(pix) * sd + mu
        else:
            rec = pred.view_as(pix)
        rec01, true01 = rec.reshape(mask.shape[0], -1), pix.reshape(mask.shape[0], -1)
        patch_mean01 = pix.mean(1, keepdim=True).expand_as(pix).reshape(mask.shape[0], -1)
    else:  # MAE-ST: targets in normalised-input space, stats over the whole patch
        tgt = patchify(frames, patch)[0]
        if mae.norm_pix:
            mu, var = tgt.mean(1, keepdim=True), tgt.var(1, keepdim=True)
            rec = pred * (var + 1e-6).sqrt() + mu
        else:
            rec = pred

        def to01(x):
            return unpatchify(x.unsqueeze(0), grid, patch)[0] * s + m

        rec01, true01 = patchify(to01(rec).unsqueeze(0), patch)[0], patchify(to01(tgt).unsqueeze(0), patch)[0]
        flat = tgt.mean(1, keepdim=True).expand_as(tgt)  # the joint patch mean (a grey level per patch)
        patch_mean01 = patchify(to01(flat).unsqueeze(0), patch)[0]
    rec01 = rec01.clamp(0, 1)
    vis_mean = true01[~mask].view(-1, 3).mean(0) if (~mask).any() else true01.view(-1, 3).mean(0)
    mean_fill = vis_mean.repeat(true01.shape[1] // 3).expand_as(true01)
    full = torch.where(mask[:, None], rec01, true01)
    masked_in = torch.where(mask[:, None], torch.full_like(true01, 0.5), true01)

    def video_of(x):
        return unpatchify(x.unsqueeze(0), grid, patch)[0]

    return {
        "original": video_of(true01), "masked": video_of(masked_in), "reconstruction": video_of(full),
        "psnr_reconstruction": psnr(rec01[mask], true01[mask]),
        "psnr_mean_fill": psnr(mean_fill[mask], true01[mask]),
        "psnr_patch_mean_fill": psnr(patch_mean01[mask], true01[mask]),
        "loss": torch.mean((pred[mask].double() - target[mask].double()) ** 2).item(),
        "loss_zero_prediction": torch.mean(target[mask].double() ** 2).item(),
        "mask_ratio": mask.float().mean().item(),
    }


def save_grid(rows, path: str, max_frames: int = 8, scale: int = 0) -> None:
    """Rows of ``3 x T x H x W`` videos in [0, 1] -> one PNG (rows x frames), 2 px gaps."""
    from PIL import Image

    t = min(rows[0].shape[1], max_frames)
    h, w = rows[0].shape[2:]
    scale = scale or max(1, 128 // max(h, w))
    gap = 2
    canvas = np.full((len(rows) * (h * scale + gap) - gap, t * (w * scale + gap) - gap, 3), 255, np.uint8)
    for r, video in enumerate(rows):
        for f in range(t):
            img = (video[:, f].permute(1, 2, 0).clamp(0, 1).numpy() * 255).round().astype(np.uint8)
            img = img.repeat(scale, 0).repeat(scale, 1)
            y, x = r * (h * scale + gap), f * (w * scale + gap)
            canvas[y:y + h * scale, x:x + w * scale] = img
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(canvas).save(path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cfg", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--video", required=True, nargs="+",
                   help="one or more videos: the grid shows the first, PSNRs are the mean over all")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0, help="mask seed")
    p.add_argument("--ratio", type=float, default=None, help="override AUG.MASK_RATIO")
    p.add_argument("--json-out", default=None, help="also write the printed statistics to this JSON file")
    p.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides")
    args = p.parse_args(argv)
    opts = list(args.opts)
    if opts[:1] == ["--opts"]:
        opts = opts[1:]
    if args.ratio is not None:
        opts += ["AUG.MASK_RATIO", str(args.ratio)]
    cfg = load_config([args.cfg], opts)
    mae = build_method(cfg)
    if not isinstance(mae, MAE):
        raise SystemExit(f"{args.cfg}: SSL.METHOD is {cfg.SSL.METHOD!r}, not mae")
    report = load_vit_checkpoint(mae, args.checkpoint)
    if report.missing:
        print(f"warning: {len(report.missing)} parameters not in the checkpoint: {report.missing[:5]}")
    mae.eval()
    per_video = []
    for i, video in enumerate(args.video):
        clip = read_clip(video, cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE, cfg.DATA.TRAIN_CROP_SIZE)
        res = reconstruct_pixels(mae, clip, cfg.DATA.MEAN, cfg.DATA.STD, args.seed + i)
        if i == 0:
            save_grid([res["original"], res["masked"], res["reconstruction"]], args.out)
        per_video.append({k: v for k, v in res.items() if not torch.is_tensor(v)})
    stats = {k: round(sum(r[k] for r in per_video) / len(per_video), 3) for k in per_video[0]}
    stats["gain_over_mean_fill_db"] = round(stats["psnr_reconstruction"] - stats["psnr_mean_fill"], 3)
    stats["gain_over_patch_mean_fill_db"] = round(stats["psnr_reconstruction"] - stats["psnr_patch_mean_fill"], 3)
    stats["num_videos"] = len(per_video)
    print(f"PSNR on masked patches (mean over {len(per_video)} video(s)): reconstruction "
          f"{stats['psnr_reconstruction']:.2f} dB, mean-fill {stats['psnr_mean_fill']:.2f} dB "
          f"({stats['gain_over_mean_fill_db']:+.2f} dB), patch-mean-fill {stats['psnr_patch_mean_fill']:.2f} dB")
    print(f"masked-patch loss {stats['loss']:.3f}, predicting zeros {stats['loss_zero_prediction']:.3f}")
    if args.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
        with open(args.json_out, "w") as f:
            json.dump(stats, f, indent=2)
    print(f"wrote {args.out}")
    print(json.dumps(stats))
    return stats


if __name__ == "__main__":
    sys.exit(run_main("visualize_mae", main))
