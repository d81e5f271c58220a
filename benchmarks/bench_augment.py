#!/usr/bin/env python3
"""Augmentation benchmark: the per-op profile of a 224² MoCo-v2 clip in three implementations (PIL,
the previous path and PySlowFast's; the torch kernels; the fused numba kernels), and the on-device
batched path against a per-sample loop.

    python benchmarks/bench_augment.py [--clip PATH] [--frames 8] [--size 224] [--batch 16]

All figures are single-threaded, best of ``--repeats`` runs, on one decoded clip (the first real
fight-surveillance clip, or a generated one), and are ratios within this run:

* per op: "PIL" is the op as the loader ran it until 2026-12-06 (PIL on uint8, the clip as one
  tall image); "torch" is :mod:`videossl.data.transforms.color`'s kernel; "fused" is
  :mod:`videossl.data.transforms.fused_cpu`'s (``DATA.FUSED_CPU_AUGMENT``, the default);
* per clip: the mean of the whole worker path over ``--draws`` MoCo-v2 parameter draws, each way;
* on-device: ``augment_clips`` on a batch (``--batch`` clips with their own parameters) against
  ``ClipTransform.apply`` called clip by clip (the loop ``augment_batch`` used to be), on this CPU.
"""

import argparse
import copy
import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageEnhance, ImageFilter  # noqa: E402

from videossl.data.collate import stack_padded  # noqa: E402
from videossl.data.transforms import ClipTransform, ColorConfig, augment_clips, params_to_row  # noqa: E402
from videossl.data.transforms import color as C  # noqa: E402
from videossl.data.transforms import fused_cpu  # noqa: E402
from videossl.data.transforms.color_pil import apply_color_pil  # noqa: E402
from videossl.data.transforms.spatial import crop_resize  # noqa: E402
from videossl.utils.malloc import keep_freed_memory  # noqa: E402


def best_ms(fn, repeats):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def before_apply(tf: ClipTransform, frames: torch.Tensor, p) -> torch.Tensor:
    x = crop_resize(frames.permute(0, 3, 1, 2), p.box, tf.crop_size)
    if p.flip:
        x = x.flip(-1)
    if p.color is not None:
        x = torch.from_numpy(apply_color_pil(x.permute(0, 2, 3, 1).numpy(), p.color)).permute(0, 3, 1, 2)
    x = x.float().div_(255.0)
    x = x.sub_(tf.mean.view(1, -1, 1, 1)).div_(tf.std.view(1, -1, 1, 1))
    return x.permute(1, 0, 2, 3).contiguous()


def load_clip(path: str, frames: int) -> torch.Tensor:
    from videossl.data.decoding.pyav_reader import PyAVReader

    reader = PyAVReader(path, max_short_side=256)
    try:
        return reader.read(list(range(0, frames * 8, 8)))
    finally:
        reader.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip", default="", help="a video (default: the first fight-surveillance clip)")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--draws", type=int, default=40)
    p.add_argument("--repeats", type=int, default=10)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    keep_freed_memory()  # as the loader does
    path = args.clip or next(iter(sorted(glob.glob("/work/shared/data/fight-surveillance/*/*.mp4"))), "")
    if path:
        frames = load_clip(path, args.frames)
    else:
        rng = np.random.default_rng(0)
        frames = torch.from_numpy(rng.integers(0, 256, (args.frames, 256, 340, 3), dtype=np.uint8))
    t, h, w, _ = frames.shape
    print(f"clip: {path or 'random 340x256'} -> {t} frames {w}x{h}; output {args.size}²; "
          f"load average {os.getloadavg()[0]:.1f}; torch {torch.__version__.split('+')[0]}, 1 thread\n")

    size, r = args.size, args.repeats
    box = (h // 10, w // 10, int(h * 0.7), int(w * 0.6))
    x8 = crop_resize(frames.permute(0, 3, 1, 2), box, size)
    xn = x8.permute(0, 2, 3, 1).numpy()
    xf = torch.div(x8, 255.0, out=torch.empty(x8.shape))[None]
    img = Image.fromarray(np.ascontiguousarray(xn).reshape(-1, size, 3))

    def pil_hue():
        hsv = np.array(img.convert("HSV"))
        hsv[..., 0] += 20
        return Image.fromarray(hsv, "HSV").convert("RGB")

    one = torch.tensor([1.3])
    tf = ClipTransform(size, size, [0.45] * 3, [0.225] * 3, relative_scale=(0.2, 0.766),
                       relative_aspect=(0.75, 1.3333), color=ColorConfig((0.6, 0.6, 0.6), 0.15, 0.2, True))
    torch_tf = copy.copy(tf)
    torch_tf.fused_cpu = False
    fused = fused_cpu.available()
    K = fused_cpu._kernels if fused else None
    xp = xf[0].transpose(0, 1).contiguous().numpy()  # 3 x T x S x S, the fused kernels' layout
    mean32, std32 = np.full(3, 0.45, np.float32), np.full(3, 0.225, np.float32)

    def fused_op(code, factor):
        return lambda: K.pointwise(xp.copy().reshape(3, -1), np.array([code]), np.array([factor], np.float32))

    def fused_blur(sigma):
        taps = np.zeros(K.MAX_RADIUS + 1, np.float32)
        half = C.gaussian_weights([sigma], size)[0].numpy()
        taps[: len(half)] = half
        return lambda: K.blur_normalize(xp.copy(), taps, mean32, std32, True)

    rows = [
        ("crop + resize (uint8, unchanged)", lambda: crop_resize(frames.permute(0, 3, 1, 2), box, size),
         lambda: crop_resize(frames.permute(0, 3, 1, 2), box, size),
         lambda: crop_resize(frames.permute(0, 3, 1, 2), box, size)),
        ("to float [0, 1] (planar)", lambda: x8.float().div_(255.0),
         lambda: torch.div(x8, 255.0, out=torch.empty(x8.shape)),
         lambda: K.to_unit(xn, np.empty(xp.shape, np.float32), False)),
        ("brightness", lambda: ImageEnhance.Brightness(img).enhance(1.3),
         lambda: C.adjust_brightness(xf.clone(), one), lambda: fused_op(K.BRIGHTNESS, 1.3)()),
        ("contrast", lambda: ImageEnhance.Contrast(img).enhance(1.3), lambda: C.adjust_contrast(xf.clone(), one),
         lambda: fused_op(K.CONTRAST, 1.3)()),
        ("saturation", lambda: ImageEnhance.Color(img).enhance(1.3), lambda: C.adjust_saturation(xf.clone(), one),
         lambda: fused_op(K.SATURATION, 1.3)()),
        ("hue", pil_hue, lambda: C.adjust_hue(xf.clone(), torch.tensor([0.1])), lambda: fused_op(K.HUE, 0.1)()),
        ("grayscale", lambda: img.convert("L").convert("RGB"), lambda: C.to_grey(xf.clone()),
         lambda: fused_op(K.GREY, 0.0)()),
    ]
    for sigma in (0.5, 1.0, 2.0):
        blur = ImageFilter.GaussianBlur(radius=sigma)
        weights = C.gaussian_weights([sigma], size)
        rows.append((f"blur sigma {sigma} (fused: + normalise)", lambda b=blur: [Image.fromarray(f).filter(b) for f in xn],
                     lambda wt=weights: C.gaussian_blur(xf, wt), lambda sg=sigma: fused_blur(sg)()))
    rows.append(("normalise -> C x T x H x W", lambda: xf[0].sub(tf.mean.view(1, -1, 1, 1)).div_(
        tf.std.view(1, -1, 1, 1)).permute(1, 0, 2, 3).contiguous(), lambda: tf.normalize(xf[0]),
        lambda: K.blur_normalize(xp.copy(), np.zeros(K.MAX_RADIUS + 1, np.float32), mean32, std32, False)))
    print("Per op, one clip (ms; 'PIL' = PIL on uint8, the path until 2026-12-06; 'torch' = the tensor kernels "
          "of color.py; 'fused' = the numba kernels of fused_cpu.py, each on a fresh copy of the clip):\n")
    print("| op | PIL | torch | fused | PIL / torch | torch / fused |")
    print("|---|---|---|---|---|---|")
    for name, before, after, kernel in rows:
        b, a = best_ms(before, r), best_ms(after, r)
        k = best_ms(kernel, r) if fused else float("nan")
        print(f"| {name} | {b:.2f} | {a:.2f} | {k:.2f} | {b / a:.1f}x | {a / k:.1f}x |")

    draws = [tf.sample_train(np.random.default_rng(s), h, w) for s in range(args.draws)]

    def mean_ms(fn):
        for d in draws[:3]:
            fn(d)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for d in draws:
                fn(d)
            best = min(best, time.perf_counter() - t0)
        return best / len(draws) * 1e3

    b = mean_ms(lambda d: before_apply(tf, frames, d))
    a = mean_ms(lambda d: torch_tf.apply(frames, d))
    k = mean_ms(lambda d: tf.apply(frames, d)) if fused else float("nan")
    print(f"\nWhole worker path, mean over {len(draws)} MoCo-v2 draws (jitter p 0.8, grey p 0.2, blur p 0.5), "
          f"ms a clip: PIL {b:.2f}, torch kernels {a:.2f}, fused kernels {k:.2f} "
          f"(PIL / torch {b / a:.1f}x, torch / fused {a / k:.1f}x)")

    batch = draws[: args.batch]
    clips = [frames] * len(batch)
    params_rows = torch.stack([params_to_row(d, h, w) for d in batch])
    stacked = stack_padded(clips)
    loop = best_ms(lambda: torch.stack([torch_tf.apply(f, d) for f, d in zip(clips, batch)]), 3)
    loop_fused = best_ms(lambda: torch.stack([tf.apply(f, d) for f, d in zip(clips, batch)]), 3)
    batched = best_ms(lambda: augment_clips(stacked, params_rows, size, tf.mean.view(-1), tf.std.view(-1)), 3)
    n = len(batch)
    print(f"\nOn-device path on this CPU, {n} clips with their own parameters: batched augment_clips "
          f"{n / batched * 1e3:.1f} clips/s, per-sample loop {n / loop * 1e3:.1f} clips/s with the torch kernels "
          f"(batched / loop {loop / batched:.2f}x), {n / loop_fused * 1e3:.1f} clips/s with the fused kernels")
    if torch.cuda.is_available():
        dev = stacked.cuda()
        rows_dev = params_rows.cuda()

        def on_gpu():
            augment_clips(dev, rows_dev, size, tf.mean.view(-1), tf.std.view(-1))
            torch.cuda.synchronize()

        g = best_ms(on_gpu, 5)
        print(f"On {torch.cuda.get_device_name()}: batched {n / g * 1e3:.1f} clips/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
