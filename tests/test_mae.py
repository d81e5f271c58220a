"""MAE (MAE-ST and VideoMAE): masking, targets, visible-only encoding, loss, checkpoint layouts."""

import copy
import os

import pytest
import torch

from helpers.vit_configs import VIDEOMAE_OPTS, mae_opts
from videossl.config import load_config
from videossl.methods import build_method
from videossl.methods.mae import MAE, patchify, reconstruction_targets, unpatchify
from videossl.methods.masking import MaskGenerator, generate_mask, mask_indices
from videossl.models.vit import vit_from_size
from videossl.models.vit_convert import (
    is_videomae, load_vit_checkpoint, mae_to_maskmvit, mae_to_videomae, mae_to_vit, vit_to_videomae,
)

KEYS_DIR = "/work/shared/references/pyslowfast_keys"
PT_PARAMS = {"B": 100_596_736, "L": 318_429_440, "H": 646_375_936}


# ----------------------------------------------------------------------------- masking
def test_random_mask_ratio_and_independence():
    g = torch.Generator().manual_seed(0)
    mask = generate_mask(6, (8, 14, 14), 0.9, "random", generator=g)
    assert mask.shape == (6, 1568) and mask.dtype == torch.bool
    assert ((~mask).sum(1) == int(1568 * (1 - 0.9))).all()  # 156 visible, MAE-ST's len_keep
    assert len({tuple(m.nonzero().flatten().tolist()) for m in mask}) == 6
    assert not all((m.view(8, 196) == m.view(8, 196)[0]).all() for m in mask)  # not tubes


def test_tube_mask_shares_one_spatial_mask_over_time():
    g = torch.Generator().manual_seed(0)
    mask = generate_mask(4, (8, 14, 14), 0.9, "tube", generator=g).view(4, 8, 196)
    assert (mask == mask[:, :1]).all()
    assert ((~mask[:, 0]).sum(1) == 196 - int(0.9 * 196)).all()  # 20 visible per slice, 160 in all
    assert not (mask[0] == mask[1]).all()


def test_frame_mask_ratio_per_slice():
    mask = generate_mask(3, (4, 4, 4), 0.75, "frame", generator=torch.Generator().manual_seed(1)).view(3, 4, 16)
    assert ((~mask).sum(-1) == 4).all()
    assert not (mask == mask[:, :1]).all()


def test_mask_indices_restore_grid_order():
    mask = generate_mask(3, (2, 3, 3), 0.5, "random", generator=torch.Generator().manual_seed(2))
    idx = mask_indices(mask)
    x = torch.arange(18.0).expand(3, 18).unsqueeze(-1)
    vis = torch.gather(x, 1, idx.ids_keep.unsqueeze(-1))
    hid = torch.gather(x, 1, idx.ids_masked.unsqueeze(-1))
    assert (~mask).gather(1, idx.ids_keep).all() and mask.gather(1, idx.ids_masked).all()
    assert (idx.ids_keep.diff(dim=1) > 0).all() and (idx.ids_masked.diff(dim=1) > 0).all()
    restored = torch.gather(torch.cat([vis, hid], 1), 1, idx.ids_restore.unsqueeze(-1))
    torch.testing.assert_close(restored, x)
    with pytest.raises(ValueError):
        mask_indices(torch.tensor([[True, False], [True, True]]))


# ----------------------------------------------------------------------------- targets
def _slow_targets(video, patch, time_stride, per_channel, mean=None, std=None):
    """Reference computation with explicit loops over patches."""
    b, c, tt, hh, ww = video.shape
    u, p, q = patch
    frames = list(range(0, tt, u)) if time_stride else list(range(tt))
    du = 1 if time_stride else u
    rows = []
    for i in range(b):
        toks = []
        for ti in range(tt // u):
            for hi in range(hh // p):
                for wi in range(ww // q):
                    vals = []  # (u, p, q, c) order
                    for uu in range(du):
                        f = frames[ti * du + uu] if not time_stride else frames[ti]
                        for pp in range(p):
                            for qq in range(q):
                                for cc in range(c):
                                    v = video[i, cc, f, hi * p + pp, wi * q + qq].item()
                                    if per_channel and mean is not None:
                                        v = v * std[cc] + mean[cc]
                                    vals.append(v)
                    t = torch.tensor(vals, dtype=torch.float64)
                    if per_channel:
                        t = t.view(-1, c)
                        t = (t - t.mean(0)) / (t.var(0, unbiased=True).sqrt() + 1e-6)
                        t = t.flatten()
                    else:
                        t = (t - t.mean()) / (t.var(unbiased=True) + 1e-6).sqrt()
                    toks.append(t)
        rows.append(torch.stack(toks))
    return torch.stack(rows).float()


def test_mae_st_targets_match_loop_reference():
    torch.manual_seed(0)
    video = torch.randn(2, 3, 4, 8, 8)
    fast = reconstruction_targets(video, (2, 4, 4), time_stride_loss=True, norm=True)
    assert fast.shape == (2, 2 * 2 * 2, 4 * 4 * 3)  # one frame per tubelet: p*q*C values
    torch.testing.assert_close(fast, _slow_targets(video, (2, 4, 4), True, False), rtol=1e-4, atol=1e-4)


def test_videomae_targets_match_loop_reference():
    torch.manual_seed(0)
    video = torch.randn(2, 3, 4, 8, 8)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    fast = reconstruction_targets(video, (2, 4, 4), time_stride_loss=False, norm=True, per_channel=True,
                                  mean=mean, std=std)
    assert fast.shape == (2, 8, 2 * 4 * 4 * 3)  # u*p*q*C values, channel-last
    ref = _slow_targets(video, (2, 4, 4), False, True, mean, std)
    torch.testing.assert_close(fast, ref, rtol=1e-4, atol=1e-4)


def test_patchify_roundtrip():
    video = torch.randn(2, 3, 4, 8, 12)
    x = patchify(video, (2, 4, 4))
    assert x.shape == (2, 2 * 2 * 3, 96)
    torch.testing.assert_close(unpatchify(x, (2, 2, 3), (2, 4, 4)), video)


# ----------------------------------------------------------------------------- method
def _build(**extra) -> MAE:
    torch.manual_seed(0)
    return build_method(load_config(opts=mae_opts(**extra)))


def _batch(n=2, clips=1):
    return {"views": [torch.randn(n, 3, 4, 32, 32) for _ in range(clips)], "label": torch.zeros(n, dtype=torch.long)}


@pytest.mark.parametrize("style", ["mae_st", "videomae"])
def test_encoder_sees_only_visible_tokens(style):
    mae = _build(**(VIDEOMAE_OPTS if style == "videomae" else {}))
    assert isinstance(mae, MAE)
    seen = []
    mae.backbone.blocks[0].register_forward_hook(lambda m, i, o: seen.append(i[0].shape))
    out = mae(_batch(n=2, clips=3))  # rho = 3 clips flattened into the batch
    n = 2 * 4 * 4  # 2x4x4 token grid
    visible = 2 * (16 - int(0.75 * 16)) if style == "videomae" else int(n * 0.25)  # tube: 4 per slice
    cls = 0 if style == "videomae" else 1
    assert seen == [torch.Size([6, cls + visible, 64])]
    assert out["loss"].ndim == 0 and torch.isfinite(out["loss"])
    out["loss"].backward()
    assert mae.mask_token.grad is not None and mae.backbone.patch_embed.proj.weight.grad is not None


def test_loss_is_mse_on_masked_patches_only():
    mae = _build().eval()
    batch = _batch(n=2)
    mask = generate_mask(2, (2, 4, 4), 0.75, "random", generator=torch.Generator().manual_seed(3))
    batch["mask"] = mask
    loss = mae(batch)["loss"]
    rec = mae.reconstruct(batch["views"][0], mask)
    assert rec["pred"].shape == rec["target"].shape == (2, 32, 8 * 8 * 3)  # 192 = 1x8x8x3 (time-stride target)
    manual = ((rec["pred"] - rec["target"]) ** 2).mean(-1)[mask].mean()
    torch.testing.assert_close(loss, manual)
    everywhere = ((rec["pred"] - rec["target"]) ** 2).mean()
    assert not torch.isclose(loss, everywhere)  # visible patches are not in the loss


@pytest.mark.parametrize("style", ["mae_st", "videomae"])
def test_mae_memorises_one_clip_under_fresh_masks(style):
    """With a new random mask every step, the loss on one clip falls towards 0.

    Only possible when each prediction is scored against its own token's
    target: pairing the predictions with the masked targets in another order
    (checked by flipping ``ids_masked`` for the targets) leaves the loss near
    the predict-zero level (every normalised target patch has mean 0).
    """
    from videossl.data.seeds import rng_for
    from videossl.data.synthetic_render import class_table, render_video

    torch.manual_seed(0)
    mae = _build(**(VIDEOMAE_OPTS if style == "videomae" else {}))
    shape, motion = class_table(8)[1]
    frames, _ = render_video(rng_for(0, 0, 1, 0), shape, motion, 4, 32, texture=0.0, sensor_noise=0.0)
    clip = (torch.from_numpy(frames).float().div(255).permute(3, 0, 1, 2) - 0.45) / 0.225  # C x T x H x W
    batch = {"views": [clip[None].repeat(4, 1, 1, 1, 1)]}
    opt = torch.optim.AdamW(mae.parameters(), lr=2e-3, weight_decay=0.0)
    losses = []
    for _ in range(150):
        loss = mae(batch)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    mean_level = float((mae.targets(batch["views"][0]) ** 2).mean())  # predicting 0 for every patch
    assert mean_level > 0.1  # the clip has structure (its flat patches alone would give 0)
    assert sum(losses[-10:]) / 10 < 0.1 * mean_level


def test_ratio_zero_reconstructs_every_token():
    mae = _build(**{"AUG.MASK_RATIO": 0.0})
    seen = []
    mae.backbone.blocks[0].register_forward_hook(lambda m, i, o: seen.append(i[0].shape[1]))
    loss = mae(_batch())["loss"]
    assert seen == [1 + 32] and torch.isfinite(loss)


def test_features_use_all_tokens_without_masking():
    mae = _build(**{"MVIT.USE_MEAN_POOLING": True}).eval()
    x = torch.randn(2, 3, 4, 32, 32)
    torch.testing.assert_close(mae.features({"views": [x]}), mae.backbone.forward_features(x))
    assert mae.features({"views": [x]}).shape == (2, 64)


@pytest.mark.parametrize("size", ["B", "L", "H"])
def test_pretrain_param_counts_exact(size):
    dim, depth = {"B": (768, 12), "L": (1024, 24), "H": (1280, 32)}[size]
    heads = {"B": 12, "L": 16, "H": 16}[size]
    opts = mae_opts(**{"MVIT.EMBED_DIM": dim, "MVIT.NUM_HEADS": heads, "MVIT.DEPTH": depth,
                       "MASK.PRETRAIN_DEPTH": f"[{depth - 1}]", "MASK.DECODER_DEPTH": 4,
                       "MASK.DECODER_EMBED_DIM": 512, "MVIT.PATCH_KERNEL": "[2, 16, 16]",
                       "MVIT.PATCH_STRIDE": "[2, 16, 16]", "DATA.NUM_FRAMES": 16,
                       "DATA.TRAIN_CROP_SIZE": 224, "DATA.TEST_CROP_SIZE": 224, "AUG.MASK_RATIO": 0.9})
    with torch.device("meta"):
        mae = build_method(load_config(opts=opts))
    assert sum(p.numel() for p in mae.parameters()) == PT_PARAMS[size]
    if size == "B" and os.path.exists(os.path.join(KEYS_DIR, "mae_vit_b_16x4_pt.txt")):
        lines = open(os.path.join(KEYS_DIR, "mae_vit_b_16x4_pt.txt")).read().splitlines()
        ref = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in lines[1:]}
        ours = {k: str(tuple(v.shape)) for k, v in mae_to_maskmvit(mae.state_dict()).items()}
        assert ours == ref


# ----------------------------------------------------------------------------- checkpoints
def _outputs(mae, seed=5):
    x = torch.randn(2, 3, 4, 32, 32, generator=torch.Generator().manual_seed(seed))
    g = torch.Generator().manual_seed(seed)
    mask = generate_mask(2, (2, 4, 4), 0.75, mae.mask_generator.mask_type, generator=g)
    return mae.reconstruct(x, mask)["pred"], mae.backbone.forward_features(x)


def test_maskmvit_checkpoint_roundtrip():
    src = _build().eval()
    pyslowfast = {"model_state": mae_to_maskmvit(src.state_dict()), "epoch": 3}
    assert "cls_token" in pyslowfast["model_state"] and "decoder_embed.weight" in pyslowfast["model_state"]
    dst = _build().eval()
    torch.manual_seed(123)
    for p in dst.parameters():
        p.data.normal_()
    report = load_vit_checkpoint(dst, pyslowfast)
    assert report.missing == [] and report.unexpected == []
    for a, b in zip(_outputs(src), _outputs(dst)):
        torch.testing.assert_close(a, b)
    # the same .pyth initialises a finetuning ViT: encoder loaded, decoder reported unused
    vit = vit_from_size("tiny", num_frames=4, crop_size=32, patch_kernel=(2, 8, 8), patch_stride=(2, 8, 8),
                        depth=2).eval()
    rep = load_vit_checkpoint(vit, pyslowfast)
    assert rep.missing == [] and set(rep.unexpected) == {k for k in pyslowfast["model_state"]
                                                                if k.startswith(("decoder", "pred_head", "mask_token"))}
    torch.testing.assert_close(vit.forward_features(torch.ones(1, 3, 4, 32, 32)),
                               src.backbone.forward_features(torch.ones(1, 3, 4, 32, 32)))


@pytest.mark.parametrize("wrapper", ["model", "module"])
def test_videomae_pretrain_checkpoint_roundtrip(wrapper):
    src = _build(**VIDEOMAE_OPTS).eval()
    with torch.no_grad():  # VideoMAE has no k bias and no encoder_to_decoder bias
        for blk in list(src.backbone.blocks) + [m for m in src.pred_head.transforms[0] if hasattr(m, "attn")]:
            blk.attn.qkv.bias.normal_()  # a k bias does not change attention: dropping it keeps outputs
        src.decoder_embed.bias.zero_()
    sd = mae_to_videomae(src.state_dict())
    assert is_videomae(sd)
    assert "encoder.blocks.0.attn.q_bias" in sd and "encoder.blocks.0.attn.qkv.weight" in sd
    assert not any(k.endswith("qkv.bias") for k in sd)
    assert {"encoder_to_decoder.weight", "mask_token", "decoder.norm.weight", "decoder.head.weight",
            "decoder.blocks.0.attn.v_bias", "encoder.norm.weight"} <= set(sd)
    dst = _build(**VIDEOMAE_OPTS).eval()
    report = load_vit_checkpoint(dst, {wrapper: sd})
    assert report.missing == [] and report.unexpected == []
    for a, b in zip(_outputs(src), _outputs(dst)):
        torch.testing.assert_close(a, b)


def test_videomae_finetuned_checkpoint_roundtrip():
    torch.manual_seed(0)
    kw = dict(num_frames=4, crop_size=32, pos_embed="sincos", use_cls_token=False, use_mean_pooling=True)
    from videossl.models import build_head, HeadSpec

    src = vit_from_size("tiny", **kw).eval()
    src.head = build_head(64, HeadSpec(num_classes=7))
    sd = vit_to_videomae(src.state_dict(), finetuned=True)
    assert {"fc_norm.weight", "head.weight", "blocks.1.attn.q_bias"} <= set(sd) and "norm.weight" not in sd
    dst = vit_from_size("tiny", **kw).eval()
    dst.head = build_head(64, HeadSpec(num_classes=7))
    report = load_vit_checkpoint(dst, {"module": {f"module.{k}": v for k, v in sd.items()}})
    assert report.missing == [] and report.unexpected == []
    x = torch.randn(2, 3, 4, 32, 32)
    torch.testing.assert_close(src(x), dst(x))


def test_videossl_pretrain_checkpoint_initialises_finetune_vit():
    src = _build().eval()
    enc = mae_to_vit(src.state_dict())
    assert not any(k.startswith(("backbone.", "decoder", "pred_head", "mask_token")) for k in enc)
    vit = vit_from_size("tiny", num_frames=4, crop_size=32, patch_kernel=(2, 8, 8), patch_stride=(2, 8, 8),
                        depth=2).eval()
    rep = load_vit_checkpoint(vit, {"model_state": src.state_dict()})  # backbone.* prefix stripped
    assert rep.missing == []
    x = torch.randn(1, 3, 4, 32, 32)
    torch.testing.assert_close(vit.forward_features(x), src.backbone.forward_features(x))


def test_mask_generator_from_config():
    assert _build().mask_generator.mask_type == "random"
    assert _build(**VIDEOMAE_OPTS).mask_generator.mask_type == "tube"
    assert _build(**{"MASK.PER_FRAME_MASKING": True}).mask_generator.mask_type == "frame"
    assert repr(MaskGenerator(0.9, "tube")) == "MaskGenerator(type=tube, ratio=0.9)"


@pytest.mark.parametrize("style", ["mae_st", "videomae"])
def test_trainer_loader_maps_published_pretraining_checkpoints(style):
    """convert.load_pretrained (the trainer's path) with the finetune clearing of 'backbone.'."""
    from videossl.models.convert import load_pretrained

    opts = VIDEOMAE_OPTS if style == "videomae" else {}
    src = _build(**opts).eval()
    ckpt = ({"model": mae_to_videomae(src.state_dict())} if style == "videomae"
            else {"model_state": mae_to_maskmvit(src.state_dict()), "epoch": 199})
    kw = dict(pos_embed="sincos", use_cls_token=False, use_mean_pooling=True) if style == "videomae" else {}
    vit = vit_from_size("tiny", num_frames=4, crop_size=32, patch_kernel=(2, 8, 8), patch_stride=(2, 8, 8),
                        depth=2, **kw).eval()
    rep = load_pretrained(vit, ckpt, clear_name_patterns=("backbone.",))
    assert rep.source == ("videomae" if style == "videomae" else "maskmvit")
    ref = copy.deepcopy(src.backbone)
    if style == "videomae":  # VideoMAE's finetuning leaves the encoder's norm unused: fc_norm starts at identity
        assert rep.missing == ["norm.weight", "norm.bias"] and "norm.weight" in rep.dropped
        ref.norm.reset_parameters()
    else:  # MAE-ST (PySlowFast) loads the encoder's norm and applies it after pooling
        assert rep.missing == []
    assert rep.mismatched == []
    assert rep.unexpected and all(k.startswith(("decoder", "pred_head", "mask_token")) for k in rep.unexpected)
    x = torch.randn(1, 3, 4, 32, 32)
    torch.testing.assert_close(vit.forward_features(x), ref.forward_features(x))
