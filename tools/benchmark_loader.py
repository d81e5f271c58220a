#!/usr/bin/env python3
"""Loader benchmark: clips/s of videossl's decode-once loader vs per-clip seeking vs bare decoding.

    python tools/benchmark_loader.py [--rho 2 4] [--workers 0 2] [--real-dir DIR] [--out benchmarks/RESULTS_loader.md]

On the same files and the same clip positions (ρ clips of NUM_FRAMES x
SAMPLING_RATE per sample, drawn by the loader's own sampler) it times:

* **videossl**: ``PyAVReader.read`` of all ρ clips in one pass (one open, one
  seek, packets between clips demuxed but only decoded from the keyframe before
  each clip, unneeded H.264 / HEVC non-reference pictures not decoded, only needed
  frames converted to RGB), and the same with every packet decoded;
* **(a) per-clip seek**: PySlowFast's PyAV path: one open container, then for
  each clip a seek (1024-pts margin) and a decode to the clip's end, every
  decoded frame converted to RGB, then the 8 frames picked;
* **(b) bare decode**: one open, one seek to the keyframe before the first
  needed frame, decode straight through to the last one, convert the needed
  frames: the plain single pass, with no bookkeeping;
* **loader**: the full train pipeline (decode + crop/colour augmentation at
  TRAIN_CROP_SIZE + normalisation + collation) through ``build_loader`` with
  N workers.

File sets: generated 10 s 340x256 30 fps H.264 (keyframe every 16 / every
250 frames) and real clips (``--real-dir``, e.g. /work/shared/data/fight-surveillance:
odd sizes and rates, audio streams; decoded with short side <= 256).
"""

import argparse
import glob
import math
import os
import platform
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import av  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from videossl.data import seeds  # noqa: E402
from videossl.data.decoding.base import short_side_size  # noqa: E402
from videossl.data.decoding.pyav_reader import PyAVReader  # noqa: E402
from videossl.data.sampling import sample_train_clips, union  # noqa: E402
from videossl.data.video_writer import write_video  # noqa: E402


# -- test files ---------------------------------------------------------------
def make_generated(folder: str, gop: int, count: int, seconds: float = 10.0, fps: int = 30) -> list:
    """``count`` files of moving texture + noise, 340x256, keyframe every ``gop`` frames."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    yy, xx = np.mgrid[0:256, 0:340].astype(np.float32)
    for k in range(count):
        path = os.path.join(folder, f"gen_g{gop}_{k}.mp4")
        paths.append(path)
        if os.path.exists(path):
            continue
        rng = np.random.default_rng(k)

        def frames():
            for t in range(int(seconds * fps)):
                base = 0.5 + 0.25 * np.sin((xx + 2.0 * t + 37 * k) / 23.0) * np.cos((yy - 1.3 * t) / 17.0)
                img = np.stack([base, np.roll(base, 7 * k, 1), 1 - base], -1)
                img = img + rng.normal(0, 0.04, img.shape[:2] + (1,)).astype(np.float32)
                yield (np.clip(img, 0, 1) * 255).astype(np.uint8)

        write_video(path, frames(), fps=fps, gop=gop, crf=23, preset="veryfast")
    return paths


# -- the three decoders -----------------------------------------------------------
def decode_ours(path, clips, short, skip_nonref=True):
    r = PyAVReader(path, max_short_side=short, skip_nonref=skip_nonref)
    try:
        frames = r.read(union(clips))
    finally:
        r.close()
    return frames


def decode_ours_every_packet(path, clips, short):
    """``decode_ours`` decoding the non-reference pictures it does not need too (as before they were skipped)."""
    return decode_ours(path, clips, short, skip_nonref=False)


def _convert(frame, short):
    h, w = short_side_size(frame.height, frame.width, short)
    return frame.to_ndarray(format="rgb24", width=w, height=h)


def decode_per_clip(path, clips, short):
    """PySlowFast ``pyav_decode`` semantics, per clip, on one open container."""
    out = []
    with av.open(path) as c:
        s = c.streams.video[0]
        s.codec_context.thread_count = 1
        fps = float(s.average_rate)
        tb = float(s.time_base)
        start0 = s.start_time or 0
        for idx in clips:
            start_pts = start0 + int(idx[0] / fps / tb)
            end_pts = start0 + int(idx[-1] / fps / tb)
            c.seek(max(start_pts - 1024, 0), any_frame=False, backward=True, stream=s)
            frames = {}
            for frame in c.decode(s):
                if frame.pts < start_pts:
                    continue
                frames[int(round((frame.pts - start0) * tb * fps))] = _convert(frame, short)  # every frame
                if frame.pts >= end_pts:
                    break
            have = sorted(frames)
            if not have:
                raise RuntimeError(f"nothing decoded from {path}")
            out.append(np.stack([frames[min(have, key=lambda h: abs(h - i))] for i in idx]))
    return out


def decode_bare(path, clips, short):
    needed = set(int(i) for i in union(clips))
    first, last = min(needed), max(needed)
    got = {}
    with av.open(path) as c:
        s = c.streams.video[0]
        s.codec_context.thread_count = 1
        fps, tb, start0 = float(s.average_rate), float(s.time_base), s.start_time or 0
        if first > 0:
            c.seek(start0 + int((first - 0.5) / fps / tb), any_frame=False, backward=True, stream=s)
        for frame in c.decode(s):
            i = int(round((frame.pts - start0) * tb * fps))
            if i in needed:
                got[i] = _convert(frame, short)
            if i >= last:
                break
    return got


# -- timing -------------------------------------------------------------------------
def plan(paths, rho, num_frames, rate, samples, seed=0):
    """(path, clips) for ``samples`` samples, clip positions from the loader's own sampler."""
    out = []
    for k in range(samples):
        path = paths[k % len(paths)]
        with av.open(path) as c:
            s = c.streams.video[0]
            n, fps = s.frames or int(float(s.duration * s.time_base) * float(s.average_rate)), float(s.average_rate)
        clips, _ = sample_train_clips(seeds.rng_for(seed, k), n, fps, num_frames=num_frames, sampling_rate=rate,
                                      target_fps=30, num_clips=rho)
        out.append((path, clips))
    return out


def clips_per_s(fns, work, short, repeats=3):
    """Clips/s of each decoder in ``fns`` on ``work``: every sample is decoded ``repeats`` times by each
    decoder in turn and its fastest time counts (robust to other load on the machine)."""
    spent = [0.0] * len(fns)
    for path, cl in work:
        best = [math.inf] * len(fns)
        for _ in range(repeats):
            for k, fn in enumerate(fns):
                t0 = time.perf_counter()
                fn(path, cl, short)
                best[k] = min(best[k], time.perf_counter() - t0)
        spent = [a + b for a, b in zip(spent, best)]
    clips = sum(len(c) for _, c in work)
    return [clips / t for t in spent]


def train_dataset(paths, rho, short, samples, crop, num_frames, rate, on_device=False):
    """The benchmark's training set: ``samples`` videos cycling through ``paths``, MoCo-v2 augmentation."""
    from videossl.config import get_cfg
    from videossl.data.build import build_transform
    from videossl.data.dataset import VideoDataset
    from videossl.data.records import VideoRecord

    cfg = get_cfg()
    cfg.DATA.TRAIN_CROP_SIZE = crop
    cfg.DATA.TRAIN_JITTER_SCALES_RELATIVE, cfg.DATA.TRAIN_JITTER_ASPECT_RELATIVE = [0.2, 0.766], [0.75, 1.3333]
    cfg.DATA.SSL_COLOR_JITTER, cfg.DATA.SSL_MOCOV2_AUG, cfg.DATA.COLOR_RND_GRAYSCALE = True, True, 0.2
    cfg.DATA.SSL_COLOR_BRI_CON_SAT, cfg.DATA.SSL_COLOR_HUE = [0.6] * 3, 0.15
    records = [VideoRecord(paths[k % len(paths)], 0, k) for k in range(samples)]
    ds = VideoDataset(records, "train", build_transform(cfg), num_frames=num_frames, sampling_rate=rate,
                      target_fps=30, num_clips=rho, max_short_side=short, defer_augmentation=on_device)
    return cfg, ds


def dataset_work(ds, epoch=0):
    """(path, clips) of every item of ``ds`` in ``epoch``: the clip positions its loader decodes."""
    work = []
    for index, rec in enumerate(ds.records):
        with av.open(rec.path) as c:
            s = c.streams.video[0]
            n, fps = s.frames or int(float(s.duration * s.time_base) * float(s.average_rate)), float(s.average_rate)
        clips, _ = sample_train_clips(seeds.rng_for(ds.seed, epoch, index, 0, seeds.TEMPORAL), n, fps,
                                      num_frames=ds.num_frames, sampling_rate=ds.sampling_rate,
                                      target_fps=ds.target_fps, num_clips=ds.num_clips)
        work.append((rec.path, clips))
    return work


def pass_seconds(fn, work, short):
    """Seconds for decoder ``fn`` to decode all of ``work`` in one pass (timed the way the loader is)."""
    t0 = time.perf_counter()
    for path, cl in work:
        fn(path, cl, short)
    return time.perf_counter() - t0


def train_loader(cfg, ds, workers):
    """The benchmark's train loader over ``ds``: batch 4, epoch 0, ``workers`` non-persistent workers."""
    from videossl.data import build_loader

    cfg.DATA_LOADER.NUM_WORKERS = workers
    cfg.DATA_LOADER.PERSISTENT_WORKERS = False
    return build_loader(cfg, ds, train=True, batch_size=4)


def loader_seconds(cfg, ds, workers):
    """Seconds for one epoch of the train loader over ``ds`` (batch 4), creating the iterator (and
    starting its workers) included; and the clips it delivered."""
    loader = train_loader(cfg, ds, workers)
    t0 = time.perf_counter()
    n = 0
    for b in loader:
        n += b["views"][0].shape[0] * len(b["views"])
    return time.perf_counter() - t0, n


def loader_vs_bare(cfg, ds, workers, short, rounds=3):
    """(loader clips/s, bare-decode clips/s) on the same clips: ``rounds`` alternating passes of each,
    the best of each (alternating keeps the machine's drifting load out of the ratio)."""
    work = dataset_work(ds)
    clips = sum(len(c) for _, c in work)
    loader_best, bare_best = math.inf, math.inf
    for _ in range(rounds):
        bare_best = min(bare_best, pass_seconds(decode_bare, work, short))
        seconds, n = loader_seconds(cfg, ds, workers)
        loader_best = min(loader_best, seconds)
    return n / loader_best, clips / bare_best


def loader_vs_bare_interleaved(cfg, ds, short, rounds=3):
    """(loader clips/s, bare-decode clips/s) with 0 workers, batch by batch: each batch the loader
    delivers is followed by a bare decode of its own videos' clips, so the two share the machine's
    drift at the scale of one batch; the totals of ``rounds`` epochs count."""
    work = dataset_work(ds)  # epoch 0's clips, the ones the loader decodes
    loader = train_loader(cfg, ds, 0)
    loader_s = bare_s = 0.0
    delivered = decoded = 0
    for _ in range(rounds):
        batches = iter(loader)
        while True:
            t0 = time.perf_counter()
            batch = next(batches, None)
            if batch is None:
                break
            loader_s += time.perf_counter() - t0
            delivered += batch["views"][0].shape[0] * len(batch["views"])
            t0 = time.perf_counter()
            for i in batch["index"].tolist():
                decode_bare(*work[i], short)
                decoded += len(work[i][1])
            bare_s += time.perf_counter() - t0
    return delivered / loader_s, decoded / bare_s


def loader_and_bare(cfg, ds, workers, short):
    """(loader clips/s, bare-decode clips/s): interleaved batch by batch with 0 workers, in
    alternating epochs with workers (whose batches are made in parallel)."""
    if workers == 0:
        return loader_vs_bare_interleaved(cfg, ds, short)
    return loader_vs_bare(cfg, ds, workers, short)


def run(args) -> str:
    torch.set_num_threads(1)
    sets = []
    gen_dir = args.gen_dir or os.path.join(tempfile.gettempdir(), "videossl-bench")
    for gop in (16, 250):
        sets.append((f"generated 340x256, 10 s, keyframe every {gop}", make_generated(gen_dir, gop, args.files),
                     None))
    real = sorted(glob.glob(os.path.join(args.real_dir, "*", "*.mp4"))) if args.real_dir else []
    if real:
        step = max(len(real) // args.real_files, 1)
        sets.append((f"real: {os.path.basename(args.real_dir.rstrip('/'))} ({len(real[::step])} of {len(real)} "
                     "clips, short side <= 256)", real[::step], 256))
    lines = [
        "## Loader benchmark",
        "",
        f"`{args.command}` on {platform.machine()}, {os.cpu_count()} CPU cores "
        f"(load average {os.getloadavg()[0]:.1f} at the start), PyAV {av.__version__}, "
        f"torch {torch.__version__.split('+')[0]}; clips of {args.num_frames} frames x stride {args.rate} "
        f"(30 fps), {args.samples} samples per cell, 1 decoder thread.  Each sample is decoded 3 times by "
        "each decoder in turn and the fastest time counts; the loader is timed per epoch "
        "(worker start-up included).",
        "",
        "Decode only (single process, clips/s; same files, same clip positions):",
        "",
        "| files | ρ | videossl (one pass) | videossl, every packet | (a) per-clip seek | (b) bare decode | vs (a) "
        "| vs (b) | every packet vs (b) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    full = []
    for name, paths, short in sets:
        for rho in args.rho:
            work = plan(paths, rho, args.num_frames, args.rate, args.samples)
            decode_ours(*work[0], short)  # warm the page cache
            ours, every, per_clip, bare = clips_per_s([decode_ours, decode_ours_every_packet, decode_per_clip,
                                                       decode_bare], work, short)
            lines.append(f"| {name} | {rho} | {ours:.1f} | {every:.1f} | {per_clip:.1f} | {bare:.1f} | "
                         f"{ours / per_clip:.2f}x | {ours / bare:.2f}x | {every / bare:.2f}x |")
            print(lines[-1], flush=True)
            for w in args.workers:
                cfg, ds = train_dataset(paths, rho, short, args.samples * max(w, 1) * 2, args.crop,
                                        args.num_frames, args.rate)
                speed, bare_here = loader_and_bare(cfg, ds, w, short)
                cfg_d, ds_d = train_dataset(paths, rho, short, args.samples * max(w, 1) * 2, args.crop,
                                            args.num_frames, args.rate, on_device=True)
                deferred, bare_d = loader_and_bare(cfg_d, ds_d, w, short)
                full.append(f"| {name} | {rho} | {w} | {speed:.1f} | {bare_here:.1f} | {speed / bare_here:.2f} | "
                            f"{deferred / bare_d:.2f} |")
                print(full[-1], flush=True)
    lines += [
        "",
        f"Full train loader (decode + MoCo-v2 augmentation at {args.crop}² + normalisation + collation), clips/s "
        "and (b) bare decode of the same clips in one process.  With 0 workers the two are interleaved batch "
        "by batch (each batch, then a bare decode of its videos; the totals of 3 epochs); with workers, "
        "3 alternating rounds of one loader epoch and one bare pass over all the clips, the best of each:",
        "",
        "| files | ρ | workers | loader clips/s | (b) on its clips | loader / (b) | on-device key: workers' share / (b) |",
        "|---|---|---|---|---|---|---|",
    ] + full
    lines += [
        "",
        "(a) is PySlowFast's PyAV path (seek with a 1024-pts margin per clip, every decoded frame "
        "converted to RGB); (b) is one seek and one straight decode from the first to the last needed "
        "frame.  videossl demuxes the gap between clips without decoding it when a keyframe lies in it, "
        "does not decode the H.264 non-reference pictures it does not need ('every packet' decodes them), "
        "and converts only the frames it keeps.  The last column of the second table is the loader with "
        "DATA.AUGMENT_ON_DEVICE: its workers decode and hand over uint8 frames, the augmentation runs in "
        "the training step (benchmarks/bench_augment.py times it).",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rho", type=int, nargs="+", default=[2, 4])
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--samples", type=int, default=24, help="samples per measurement")
    p.add_argument("--files", type=int, default=6, help="generated files per keyframe interval")
    p.add_argument("--real-dir", default="/work/shared/data/fight-surveillance")
    p.add_argument("--real-files", type=int, default=30)
    p.add_argument("--gen-dir", default="")
    p.add_argument("--num-frames", type=int, default=8)
    p.add_argument("--rate", type=int, default=8)
    p.add_argument("--crop", type=int, default=224)
    p.add_argument("--out", default="")
    args = p.parse_args(argv)
    args.command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    if args.real_dir and not os.path.isdir(args.real_dir):
        print(f"(no real clips at {args.real_dir}; generated files only)")
        args.real_dir = ""
    text = run(args)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"written {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
