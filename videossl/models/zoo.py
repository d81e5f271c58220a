"""Published checkpoints of the seed projects, and fetching them by name.

``resolve_checkpoint_path(x)`` turns what a user puts in
``TRAIN.CHECKPOINT_FILE_PATH`` into a local file: an existing path is returned
as is; a zoo name (``python tools/download_model.py --list``) or an
http(s) URL is downloaded once through iopath's cache (``$FVCORE_CACHE``,
default ``~/.torch/iopath_cache``) and its SHA-256 checked when one is
recorded.  Without network, or for Google-Drive-only checkpoints, it raises a
:class:`ZooDownloadError` whose one-line message says what to download and the
exact path to save it at; the next run then finds it there.

The table mirrors ``MODEL_ZOO.md`` (expected numbers and the configs that use
each checkpoint live there and in ``ZooEntry.metrics`` / ``ZooEntry.configs``).
"""

import contextlib
import hashlib
import io
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Tuple
from urllib.parse import urlparse

from ..errors import VideosslError


_FB = "https://dl.fbaipublicfiles.com/pyslowfast"
_OX = "http://www.robots.ox.ac.uk/~htd/coclr"
_AVID = "https://dl.fbaipublicfiles.com/avid-cma/checkpoints"


def _gdrive(file_id: str) -> str:
    return f"https://drive.google.com/file/d/{file_id}/view?usp=sharing"


@dataclass(frozen=True)
class ZooEntry:
    """One published checkpoint.

    ``arch`` is the MODEL.ARCH it loads into, ``source`` its format in
    :data:`videossl.models.convert.SOURCES`, ``configs`` the videossl configs
    that use it, ``metrics`` the published numbers (top-1 % / mAP / R@1),
    ``filename`` the local file name; ``manual`` marks links a script cannot
    fetch (Google Drive pages).
    """

    name: str
    url: str
    arch: str
    source: str
    filename: str
    configs: Tuple[str, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    sha256: Optional[str] = None
    manual: bool = False
    project: str = ""


def _entries():
    ssl = "configs/Kinetics/contrastive_ssl"
    evals = (f"{ssl}/linear_k400_Slow_8x8_R50.yaml", "configs/ucf101/finetune_ucf_Slow_R50_syn8.yaml",
             "configs/ssv2/finetune_SSv2_Slow_R50_syn8.yaml")
    pyslowfast = [
        # name, file, pretrain config, K400-linear, UCF101, AVA, SSv2
        ("moco_slow_r50_8x8_rho2", "MoCo_SlowR50_8x8_T2_epoch_00200.pyth", "MoCo_SlowR50_8x8", 66.6, 91.3, 19.7, 52.7),
        ("byol_slow_r50_8x8_rho2", "BYOL_SlowR50_8x8_T2_epoch_00200.pyth", "BYOL_SlowR50_8x8", 67.4, 94.0, 22.8, 54.4),
        ("simclr_slow_r50_8x8_rho2", "SimCLR_SlowR50_8x8_T2_epoch_00200.pyth", "SimCLR_SlowR50_8x8", 61.5, 88.3, 17.5,
         51.4),
        ("swav_slow_r50_8x8_rho2", "SwAV_SlowR50_8x8_T2_epoch_00200.pyth", "SwAV_Slow_R50_8x8", 62.6, 90.2, 19.2, 52.5),
        ("moco_slow_r50_8x8_rho4", "MoCo_SlowR50_8x8_T4_epoch_00200.pyth", "MoCo_SlowR50_8x8", 71.0, 94.5, 21.9, 54.0),
        ("byol_slow_r50_8x8_rho4", "BYOL_SlowR50_8x8_T4_epoch_00200.pyth", "BYOL_SlowR50_8x8", 70.1, 94.7, None, None),
        ("byol_slow_r50_16x4_rho4", "BYOL_SlowR50_16x4_T4_epoch_00200.pyth", "BYOL_SlowR50_8x8", 71.1, 95.4, None,
         None),
    ]
    for name, fname, cfg, k400, ucf, ava, ssv2 in pyslowfast:
        metrics = {"k400_linear_top1": k400, "ucf101_finetune_top1": ucf, "ava_map": ava, "ssv2_finetune_top1": ssv2}
        yield ZooEntry(name, f"{_FB}/videomoco_models/{fname}", "slow", "pyslowfast", fname,
                       (f"{ssl}/{cfg}.yaml",) + evals, {k: v for k, v in metrics.items() if v is not None},
                       project="pyslowfast_contrastive_ssl")
    for size, fname, top1 in (("b", "VIT_B_16x4_MAE_PT.pyth", 81.3), ("l", "VIT_L_16x4_MAE_PT.pyth", 84.8),
                              ("h", "VIT_H_16x4_MAE_PT_400e_85.1.pyth", 85.1)):
        big = size.upper()
        yield ZooEntry(f"mae_st_vit_{size}_16x4", f"{_FB}/masked_models/{fname}", "vit", "pyslowfast", fname,
                       (f"configs/masked_ssl/k400_VIT_{big}_16x4_MAE_PT.yaml",
                        f"configs/masked_ssl/k400_VIT_{big}_16x4_FT.yaml"),
                       {"k400_finetune_top1": top1}, project="mae_st")
    coclr = [
        ("coclr_ucf101_rgb_s3d", "CoCLR-ucf101-rgb-128-s3d-ep182.tar", {"ucf101_nn_r1": 51.8}),
        ("coclr_ucf101_flow_s3d", "CoCLR-ucf101-flow-128-s3d-epoch109.pth.tar", {"ucf101_nn_r1": 48.4}),
        ("infonce_ucf101_rgb_s3d", "InfoNCE-ucf101-rgb-128-s3d-ep399.pth.tar", {"ucf101_nn_r1": 33.1}),
        ("infonce_ucf101_flow_s3d", "InfoNCE-ucf101-f-128-s3d-ep396.pth.tar", {"ucf101_nn_r1": 45.2}),
        ("coclr_k400_rgb_s3d", "CoCLR-k400-rgb-128-s3d.pth.tar", {"ucf101_nn_r1": 45.6, "ucf101_finetune_top1": 87.89}),
        ("coclr_k400_flow_s3d", "CoCLR-k400-flow-128-s3d.pth.tar",
         {"ucf101_nn_r1": 44.4, "ucf101_finetune_top1": 85.27}),
    ]
    for name, fname, metrics in coclr:
        yield ZooEntry(name, f"{_OX}/{fname}", "s3d", "coclr", fname, (), metrics, project="coclr")
    vicc = [  # Google Drive ids from ViCC's README at 2e9f9ca (2022-08)
        ("vicc_rgb_s3d", "13mHTqnc-fkpm6_OpLbgJZg-m2Xf62e96", "s3d", {"ucf101_nn_r1": 62.1}),
        ("vicc_flow_s3d", "1fx8lUDj_GvF5RK53HWODbn9OcM6QnoUb", "s3d", {"ucf101_nn_r1": 59.7}),
        ("vicc_rgb_r21d", "1zDiE9PvXM6vlBWBxdD0-eo5ESk6cPs0e", "r21d_vcop", {"ucf101_nn_r1": 58.6}),
        ("vicc_flow_r21d", "1lrFnJXN8EuHV5l961ro1DEd3vHeabvx3", "r21d_vcop", {"ucf101_nn_r1": 50.0}),
        ("vicc_rgb_single_stream_s3d", "1t2PhhRpo4LPO_ug5-0iuPT2zhfq-lB94", "s3d", {}),
        ("vicc_flow_single_stream_s3d", "1G22SYmGJ8Ybvg-RU9ZWTVjZE9wx8u8Ov", "s3d", {}),
    ]
    for name, gid, arch, metrics in vicc:
        yield ZooEntry(name, _gdrive(gid), arch, "coclr", f"{name}.pth.tar", (), metrics, manual=True,
                       project="vicc")
    videomae = [  # pre-train checkpoints, Google Drive ids from VideoMAE's MODEL_ZOO.md at 14ef8d8
        ("videomae_vit_s_k400_1600e", "1nU-H1u3eJ-VuyCveU7v-WIOcAVxs5Hww", {"k400_finetune_top1": 79.0}),
        ("videomae_vit_b_k400_800e", "1JfrhN144Hdg7we213H1WxwR3lGYOlmIn", {"k400_finetune_top1": 81.0}),
        ("videomae_vit_b_k400_1600e", "1tEhLyskjb755TJ65ptsrafUG2llSwQE1", {"k400_finetune_top1": 81.5}),
        ("videomae_vit_l_k400_1600e", "1qLOXWb_MGEvaI7tvuAe94CV7S2HXRwT3", {"k400_finetune_top1": 85.2}),
        ("videomae_vit_h_k400_1600e", "1AJQR1Rsi2N1pDn9tLyJ8DQrUREiBA1bO", {"k400_finetune_top1": 86.6}),
        ("videomae_vit_s_ssv2_2400e", "1p_I1aaONOeUvRmRQw1UT3-L2H8XJClHu", {"ssv2_finetune_top1": 66.8}),
        ("videomae_vit_b_ssv2_800e", "181hLvyrrPW2IOGA46fkxdJk0tNLIgdB2", {"ssv2_finetune_top1": 69.6}),
        ("videomae_vit_b_ssv2_2400e", "1I18dY_7rSalGL8fPWV82c0-foRUDzJJk", {"ssv2_finetune_top1": 70.8}),
        ("videomae_vit_b_ucf101_3200e", "1BHev4meNgKM0o_8DMRbuzAsKSP3IpQ3o", {"ucf101_finetune_top1": 91.3}),
    ]
    vm = "configs/masked_ssl/videomae"
    vm_configs = {"videomae_vit_b_k400_800e": (f"{vm}/k400_VIT_B_16x4_PT.yaml", f"{vm}/k400_VIT_B_16x4_FT.yaml"),
                  "videomae_vit_b_k400_1600e": (f"{vm}/k400_VIT_B_16x4_PT.yaml", f"{vm}/k400_VIT_B_16x4_FT.yaml"),
                  "videomae_vit_b_ssv2_800e": (f"{vm}/ssv2_VIT_B_16x2_PT.yaml", f"{vm}/ssv2_VIT_B_16x2_FT.yaml"),
                  "videomae_vit_b_ssv2_2400e": (f"{vm}/ssv2_VIT_B_16x2_PT.yaml", f"{vm}/ssv2_VIT_B_16x2_FT.yaml"),
                  "videomae_vit_b_ucf101_3200e": (f"{vm}/ucf101_VIT_B_16x4_PT.yaml",
                                                  f"{vm}/ucf101_VIT_B_16x4_FT.yaml")}
    for name, gid, metrics in videomae:
        yield ZooEntry(name, _gdrive(gid), "vit", "videomae", f"{name}.pth", vm_configs.get(name, ()), metrics,
                       manual=True, project="videomae")
    avid = [  # AVID-CMA's R(2+1)D-18 (the 15.4M network); video@1 accuracy of its README
        ("avid_kinetics_r2plus1d_18", "AVID_Kinetics_Cross-N1024_checkpoint.pth.tar", 86.9, 59.9, 43.0),
        ("avid_cma_kinetics_r2plus1d_18", "AVID-CMA_Kinetics_InstX-N1024-PosW-N64-Top32_checkpoint.pth.tar",
         87.5, 60.8, 44.4),
        ("avid_audioset_r2plus1d_18", "AVID_Audioset_Cross-N1024_checkpoint.pth.tar", 91.0, 64.1, 46.5),
        ("avid_cma_audioset_r2plus1d_18", "AVID-CMA_Audioset_InstX-N1024-PosW-N64-Top32_checkpoint.pth.tar",
         91.5, 64.7, 48.9),
    ]
    for name, fname, ucf, hmdb, k400 in avid:
        yield ZooEntry(name, f"{_AVID}/{fname}", "r2plus1d_18", "avid", fname, (),
                       {"ucf101_finetune_top1": ucf, "hmdb51_finetune_top1": hmdb, "k400_linear_top1": k400},
                       project="avid_cma")


ZOO: Dict[str, ZooEntry] = {e.name: e for e in _entries()}


class ZooDownloadError(VideosslError, RuntimeError):
    """A checkpoint could not be fetched; the message (one line) says what to download and where to."""


def cache_dir() -> str:
    """iopath's download cache: ``$FVCORE_CACHE`` or ``~/.torch/iopath_cache``."""
    return os.path.expanduser(os.getenv("FVCORE_CACHE", "~/.torch/iopath_cache"))


def local_path(name_or_url: str) -> str:
    """Where a zoo entry or URL lives once downloaded (iopath's cache layout for URLs)."""
    entry = ZOO.get(name_or_url)
    if entry is not None and entry.manual:
        return os.path.join(cache_dir(), "videossl_zoo", entry.filename)
    url = entry.url if entry is not None else name_or_url
    parsed = urlparse(url)
    return os.path.join(cache_dir(), os.path.dirname(parsed.path.lstrip("/")), url.split("/")[-1])


def sha256_of(path: str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: str, expected: Optional[str], what: str) -> str:
    if expected and sha256_of(path) != expected.lower():
        raise ZooDownloadError(
            f"{what}: {path} has SHA-256 {sha256_of(path)}, expected {expected}; delete it and download again"
        )
    return path


def _download(url: str) -> str:
    """Fetch ``url`` into iopath's cache, keeping iopath's progress bar and log lines off stderr."""
    from iopath.common.file_io import HTTPURLHandler, PathManager

    manager = PathManager()
    manager.register_handler(HTTPURLHandler())
    print(f"videossl: downloading {url} to {cache_dir()} ...", file=sys.stdout, flush=True)
    quiet = logging.getLogger("iopath")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return manager.get_local_path(url, cache_dir=cache_dir())
    finally:
        quiet.setLevel(level)


def _remove_leftovers(target: str) -> None:
    """After a failed download: remove iopath's lock file and a partial download next to ``target``."""
    for leftover in (target + ".lock", target + ".tmp"):
        if os.path.isfile(leftover):
            os.remove(leftover)


def resolve_checkpoint_path(name_or_url_or_path: str) -> str:
    """A local file for ``TRAIN.CHECKPOINT_FILE_PATH``: a path, a zoo name or a URL (see module doc).

    Raises:
        ZooDownloadError: the download failed or needs a browser (one line: URL and target path).
        FileNotFoundError: not a file, not a zoo name, not a URL.
    """
    spec = os.fspath(name_or_url_or_path)
    if os.path.isfile(spec):
        return spec
    entry = ZOO.get(spec)
    is_url = urlparse(spec).scheme in ("http", "https", "ftp")
    if entry is None and not is_url:
        raise FileNotFoundError(
            f"checkpoint not found: {spec} is not a file, a model-zoo name "
            f"(python tools/download_model.py --list) or a URL"
        )
    url = entry.url if entry else spec
    target = local_path(spec)
    what = f"model-zoo checkpoint {entry.name}" if entry else f"checkpoint {url}"
    if os.path.isfile(target):
        return _verified(target, entry.sha256 if entry else None, what)
    if entry is not None and entry.manual:
        raise ZooDownloadError(
            f"{what} is on Google Drive and cannot be fetched by a script: open {url} in a browser "
            f"and save the file as {target}"
        )
    try:
        path = _download(url)
    except Exception as err:  # noqa: BLE001 - any network / HTTP failure gets the same advice
        _remove_leftovers(target)
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ZooDownloadError(
            f"cannot download {what} ({reason}): download {url} and save it as {target}, "
            f"or set TRAIN.CHECKPOINT_FILE_PATH to the downloaded file"
        ) from None
    return _verified(path, entry.sha256 if entry else None, what)
