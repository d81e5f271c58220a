"""TV-L1 optical flow (tools/extract_flow.py) against the synthetic set's exact flow.

The synthetic objects move over a static background and the renderer knows
every pixel's motion. TV-L1 must recover the motion of translating objects
(the linear and oscillating classes) to a fraction of a pixel. A uniformly
coloured object rotating in place shows its motion only at its outline, so
rotation is not a fair test of any flow method and is not bounded here.
"""

import os
import sys

import numpy as np
import pytest

pytest.importorskip("cv2", reason="optical flow is an optional extra (opencv-contrib-python-headless)")

from videossl.data import seeds  # noqa: E402
from videossl.data.flow import read_flow_jpeg  # noqa: E402
from videossl.data.prep.optical_flow import flow_between, gray, tvl1  # noqa: E402
from videossl.data.synthetic import SyntheticSettings, class_table, ensure_synthetic  # noqa: E402
from videossl.data.synthetic_render import render_video  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSLATING = [k for k, (_, motion) in enumerate(class_table(8)) if motion in ("linear", "oscillation")]


def _object_epe(pred, true):
    """Mean end-point error over the moving object's pixels, and that of predicting no motion."""
    moving = np.linalg.norm(true, axis=-1) > 0
    return np.linalg.norm(pred - true, axis=-1)[moving].mean(), np.linalg.norm(true, axis=-1)[moving].mean()


@pytest.mark.parametrize("label", TRANSLATING)
def test_tvl1_recovers_the_translation_of_a_synthetic_object(label):
    frames, true = render_video(np.random.default_rng(label), *class_table(8)[label], 6, 64, with_flow=True)
    estimator = tvl1()
    errors = [_object_epe(flow_between(estimator, gray(frames[i]), gray(frames[i + 1])), true[i]) for i in range(5)]
    epe, still = np.mean(errors, axis=0)
    # measured 2026-12-06: 0.11-0.82 px against 2.0-2.9 px for "no motion" (docs/benchmarks.md)
    assert epe < 1.0 and epe < 0.35 * still, (epe, still)


@pytest.mark.timeout(300)
def test_extract_flow_writes_coclr_folders_resumes_and_reports_a_bad_video(tmp_path, capsys):
    sys.path.insert(0, ROOT)
    from tools.extract_flow import main

    settings = SyntheticSettings(num_classes=8, train_per_class=1, test_per_class=0, num_frames=8, size=64,
                                 write_flow=True)
    root = ensure_synthetic(settings, str(tmp_path / "syn"))
    videos, out = os.path.join(root, "videos"), str(tmp_path / "flow")
    (tmp_path / "syn" / "videos" / "train" / "broken.mp4").write_bytes(b"not a video")
    assert main([videos, out, "--workers", "2"]) == 1  # the bad video fails; the others are written
    err = capsys.readouterr().err
    assert "broken.mp4" in err and not os.path.exists(os.path.join(out, "train", "broken"))
    for label in range(8):
        name = f"train/c{label:02d}_000"
        assert sorted(os.listdir(os.path.join(out, name))) == sorted(os.listdir(os.path.join(root, "flow", name)))
    assert len(os.listdir(os.path.join(out, "train", "c00_000"))) == 7  # N - 1 flow images
    # through H.264 and the JPEG encoding, translations are still recovered (exact flow from the renderer)
    for label in TRANSLATING:
        _, true = render_video(seeds.rng_for(0, 0, label, 0), *class_table(8)[label], 8, 64, with_flow=True)
        folder = os.path.join(out, "train", f"c{label:02d}_000")
        errors = [_object_epe(read_flow_jpeg(os.path.join(folder, f"flow_{k + 1:05d}.jpg")), true[k]) for k in range(7)]
        epe, still = np.mean(errors, axis=0)
        assert epe < 1.0 and epe < 0.5 * still, (label, epe, still)
    # a rerun skips the finished videos and retries only the bad one
    stamp = os.path.getmtime(os.path.join(out, "train", "c00_000", "flow_00001.jpg"))
    assert main([videos, out, "--workers", "1"]) == 1
    assert "9 videos, 8 already done, 1 to do" in capsys.readouterr().out
    assert os.path.getmtime(os.path.join(out, "train", "c00_000", "flow_00001.jpg")) == stamp
