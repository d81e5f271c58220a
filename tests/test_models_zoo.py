"""Model zoo: names resolve to cached files, SHA-256 is checked, offline failures are one clear line.

Downloads are simulated by patching ``urllib.request.urlretrieve`` as iopath
calls it, so these tests never touch the network.
"""

import hashlib
import os
import subprocess
import sys
import urllib.error

import pytest
import torch

from videossl.models import zoo
from videossl.models.zoo import ZOO, ZooDownloadError, local_path, resolve_checkpoint_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FVCORE_CACHE", str(tmp_path / "cache"))


def _offline(monkeypatch):
    import iopath.common.download as dl

    def refuse(url, filename=None, reporthook=None):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(dl.request, "urlretrieve", refuse)


def _serve(monkeypatch, payload: bytes):
    import iopath.common.download as dl

    calls = []

    def fake(url, filename=None, reporthook=None):
        calls.append(url)
        with open(filename, "wb") as f:
            f.write(payload)
        return filename, None

    monkeypatch.setattr(dl.request, "urlretrieve", fake)
    return calls


def test_zoo_covers_the_seed_projects():
    projects = {e.project for e in ZOO.values()}
    assert {"pyslowfast_contrastive_ssl", "mae_st", "coclr", "vicc", "videomae", "avid_cma"} <= projects
    moco = ZOO["moco_slow_r50_8x8_rho2"]
    assert moco.url == "https://dl.fbaipublicfiles.com/pyslowfast/videomoco_models/MoCo_SlowR50_8x8_T2_epoch_00200.pyth"
    assert moco.metrics == {"k400_linear_top1": 66.6, "ucf101_finetune_top1": 91.3, "ava_map": 19.7,
                            "ssv2_finetune_top1": 52.7}
    assert ZOO["mae_st_vit_l_16x4"].metrics["k400_finetune_top1"] == 84.8
    assert ZOO["coclr_k400_rgb_s3d"].arch == "s3d" and ZOO["vicc_rgb_r21d"].arch == "r21d_vcop"
    from videossl.models import ARCH_REGISTRY
    from videossl.models.convert import SOURCES

    assert all(e.arch in ARCH_REGISTRY and e.source in SOURCES for e in ZOO.values())


def test_offline_download_fails_with_one_line_naming_url_and_target(monkeypatch, tmp_path, capsys):
    _offline(monkeypatch)
    entry = ZOO["moco_slow_r50_8x8_rho2"]
    with pytest.raises(ZooDownloadError) as err:
        resolve_checkpoint_path(entry.name)
    msg = str(err.value)
    target = str(tmp_path / "cache" / "pyslowfast" / "videomoco_models" / entry.filename)
    assert "\n" not in msg and entry.url in msg and target in msg
    assert capsys.readouterr().err == ""  # iopath's progress bar and log lines are kept off stderr
    leftovers = [f for _, _, files in os.walk(tmp_path / "cache") for f in files]
    assert leftovers == []  # no stale .lock (iopath's file lock) and no partial file
    # Put the file where the message says: the next call finds it without the network.
    os.makedirs(os.path.dirname(target), exist_ok=True)
    torch.save({"model_state": {}}, target)
    assert resolve_checkpoint_path(entry.name) == target
    assert local_path(entry.name) == target


def test_google_drive_entries_say_where_to_save(monkeypatch, tmp_path):
    _offline(monkeypatch)
    with pytest.raises(ZooDownloadError, match="browser") as err:
        resolve_checkpoint_path("vicc_rgb_s3d")
    assert ZOO["vicc_rgb_s3d"].url in str(err.value)
    assert str(tmp_path / "cache" / "videossl_zoo" / "vicc_rgb_s3d.pth.tar") in str(err.value)


def test_download_goes_through_the_cache_and_checks_sha256(monkeypatch):
    payload = b"fake checkpoint bytes"
    good = hashlib.sha256(payload).hexdigest()
    entry = ZOO["byol_slow_r50_8x8_rho2"]
    monkeypatch.setitem(ZOO, entry.name, zoo.ZooEntry(**{**entry.__dict__, "sha256": good}))
    calls = _serve(monkeypatch, payload)
    path = resolve_checkpoint_path(entry.name)
    assert path == local_path(entry.name) and open(path, "rb").read() == payload
    assert resolve_checkpoint_path(entry.name) == path and len(calls) == 1  # cached: no second download
    monkeypatch.setitem(ZOO, entry.name, zoo.ZooEntry(**{**entry.__dict__, "sha256": "0" * 64}))
    with pytest.raises(ZooDownloadError, match=f"SHA-256 {good}, expected 0000"):
        resolve_checkpoint_path(entry.name)


def test_urls_and_paths(monkeypatch, tmp_path):
    local = tmp_path / "mine.pyth"
    local.write_bytes(b"x")
    assert resolve_checkpoint_path(str(local)) == str(local)
    _serve(monkeypatch, b"weights")
    url = "https://example.org/models/k400/net.pyth"
    path = resolve_checkpoint_path(url)
    assert path == str(tmp_path / "cache" / "models" / "k400" / "net.pyth")
    with pytest.raises(FileNotFoundError, match="not a file, a model-zoo name"):
        resolve_checkpoint_path(str(tmp_path / "typo.pyth"))


def test_download_tool_offline_prints_one_line(monkeypatch, capsys):
    _offline(monkeypatch)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import download_model
    finally:
        sys.path.pop(0)
    assert download_model.main(["swav_slow_r50_8x8_rho2"]) == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and ZOO["swav_slow_r50_8x8_rho2"].url in err[0]
    assert download_model.main(["--list"]) == 0
    assert "coclr_k400_rgb_s3d" in capsys.readouterr().out


def test_run_net_with_an_unreachable_zoo_name_stops_with_one_line(tmp_path):
    from conftest import tiny_cfg_opts

    env = dict(os.environ, FVCORE_CACHE=str(tmp_path / "cache"), http_proxy="http://127.0.0.1:9",
               https_proxy="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    cmd = [sys.executable, os.path.join(ROOT, "tools", "run_net.py")] + tiny_cfg_opts(
        **{"OUTPUT_DIR": str(tmp_path / "out"), "SOLVER.MAX_EPOCH": 1, "TRAIN.DATASET": "synthetic",
           "SYNTHETIC.NUM_CLASSES": 4, "SYNTHETIC.TRAIN_PER_CLASS": 2, "SYNTHETIC.TEST_PER_CLASS": 1,
           "SYNTHETIC.NUM_FRAMES": 16, "SYNTHETIC.SIZE": 32,
           "TRAIN.CHECKPOINT_FILE_PATH": "moco_slow_r50_8x8_rho2"})
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1
    assert len(err) == 1 and ZOO["moco_slow_r50_8x8_rho2"].url in err[0] and str(tmp_path / "cache") in err[0], err


def test_zoo_configs_exist():
    missing = [(e.name, c) for e in ZOO.values() for c in e.configs if not os.path.isfile(os.path.join(ROOT, c))]
    assert missing == []
