"""CoCLR's TwoClip / OneClip view composition: its probabilities, and the dataset following the plan."""

import numpy as np
import pytest
import torch

from videossl.data.view_composition import ViewPlan, check_composition, coclr_plan
from videossl.errors import InputError


def test_coclr_plan_has_coclrs_probabilities():
    n = 40000
    rng = np.random.default_rng(0)
    plans = [coclr_plan(rng) for _ in range(n)]
    two = [p for p in plans if p[0].clip != p[1].clip]
    one = [p for p in plans if p[0].clip == p[1].clip]

    def close(count, total, p):  # within 4 binomial standard deviations
        return abs(count - total * p) <= 4 * (total * p * (1 - p)) ** 0.5

    assert close(len(two), n, 0.5)
    # TwoClip: view v from clip v, each coloured independently with p 0.3
    assert all(p[0].clip == 0 and p[1].clip == 1 for p in two)
    assert close(sum(p[0].color for p in two), len(two), 0.3)
    assert close(sum(p[1].color for p in two), len(two), 0.3)
    assert close(sum(p[0].color and p[1].color for p in two), len(two), 0.09)
    # OneClip: either clip, exactly one coloured view, either view first
    assert all(p[0].color != p[1].color for p in one)
    assert close(sum(p[0].clip for p in one), len(one), 0.5)
    assert close(sum(p[0].color for p in one), len(one), 0.5)
    # a view is coloured with p 0.5 * 0.3 + 0.5 * 0.5 = 0.4
    assert close(sum(p[0].color for p in plans), n, 0.4)


def test_check_composition_names_the_key():
    check_composition("coclr", 2, 1)
    check_composition("clips", 4, 2)
    with pytest.raises(InputError, match="DATA.SSL_VIEW_COMPOSITION='twoclip'"):
        check_composition("twoclip", 2, 1)
    with pytest.raises(InputError, match="needs DATA.TRAIN_CROP_NUM_TEMPORAL 2.*got 3 clips"):
        check_composition("coclr", 3, 1)


class _Spy:
    """Wraps a transform's ``apply`` and records (frames' bytes, colour on, is_flow) per call."""

    def __init__(self, transform):
        self.inner, self.calls = transform.apply, []
        transform.apply = self

    def __call__(self, frames, params, size=None, is_flow=False):
        self.calls.append((frames.numpy().tobytes(), params.color is not None, is_flow))
        return self.inner(frames, params, size=size, is_flow=is_flow)


def test_the_dataset_cuts_and_colours_views_as_the_plan_says(tmp_path, monkeypatch):
    from conftest import tiny_cfg_opts
    from videossl.config import load_config
    from videossl.data import build_dataset
    from videossl.data import seeds

    monkeypatch.setenv("VIDEOSSL_CACHE", str(tmp_path / "cache"))
    opts = {"TRAIN.DATASET": "synthetic", "TEST.DATASET": "synthetic", "SYNTHETIC.NUM_CLASSES": 2,
            "SYNTHETIC.TRAIN_PER_CLASS": 4, "SYNTHETIC.TEST_PER_CLASS": 1, "SYNTHETIC.NUM_FRAMES": 24,
            "SYNTHETIC.SIZE": 32, "SYNTHETIC.WRITE_FLOW": True, "DATA.USE_FLOW": True,
            "DATA.TRAIN_CROP_NUM_TEMPORAL": 2, "DATA.SSL_COLOR_JITTER": True, "DATA.SSL_MOCOV2_AUG": True}
    plain = build_dataset(load_config([], tiny_cfg_opts(**opts)), "train")
    coclr = build_dataset(load_config([], tiny_cfg_opts(**opts, **{"DATA.SSL_VIEW_COMPOSITION": "coclr"})),
                          "train")
    plain_spy, coclr_spy = _Spy(plain.transform), _Spy(coclr.transform)
    kinds = set()
    for epoch in range(3):
        for index in range(len(plain)):
            plain_spy.calls.clear()
            coclr_spy.calls.clear()
            a, b = plain[(epoch, index)], coclr[(epoch, index)]
            plan = coclr_plan(seeds.rng_for(coclr.seed, epoch, index, 0, seeds.COMPOSE))
            clip_frames = [c[0] for c in plain_spy.calls if not c[2]]  # clip 0's frames, clip 1's frames
            rgb = [c for c in coclr_spy.calls if not c[2]]
            flow = [c for c in coclr_spy.calls if c[2]]
            assert len(b["views"]) == len(b["flow"]) == 2 and len(rgb) == len(flow) == 2
            for v, view in enumerate(plan):
                assert rgb[v][0] == clip_frames[view.clip], (epoch, index, v)  # cut from the planned clip
                assert rgb[v][1] == view.color and flow[v][1] == view.color  # flow follows
                if view.clip == v and view.color:  # same stream as the default composition: same pixels
                    assert torch.equal(b["views"][v], a["views"][v])
                    assert torch.equal(b["flow"][v], a["flow"][v])
            kinds.add("one" if plan[0].clip == plan[1].clip else "two")
    assert kinds == {"one", "two"}
    assert clip_frames[0] != clip_frames[1]  # the two clips really differ, so the checks above can fail
    assert isinstance(plan[0], ViewPlan)
