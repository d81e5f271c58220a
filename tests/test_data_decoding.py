"""PyAV reader: exact frames, keyframe seeking, one pass, clear errors; frame folders."""

import os

import av
import numpy as np
import pytest
import torch

from videossl.data.decoding import DecodeError, open_video
from videossl.data.decoding.nonreference import nonreference_test
from videossl.data.decoding.pyav_reader import PyAVReader
from videossl.data.fixtures import frame_numbers, numbered_frames, write_frame_folder, write_numbered_video
from videossl.data.video_writer import write_video


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("dec")
    return {
        "g16": write_numbered_video(str(d / "g16.mp4"), 60, gop=16),
        "g250": write_numbered_video(str(d / "g250.mp4"), 60, gop=250),
        "g8_long": write_numbered_video(str(d / "g8.mp4"), 60, gop=8),
        "bframes": _lossy_with_bframes(str(d / "bf.mp4")),
        "h264_open_gop": _open_gop(str(d / "open264.mp4"), "libx264"),
        "hevc_open_gop": _open_gop(str(d / "open265.mp4"), "libx265"),
    }


def _lossy_with_bframes(path):
    write_video(path, numbered_frames(60), gop=12, crf=20, bframes=3)
    return path


def _open_gop(path, codec):
    """Keyframes every 24 frames, each with leading B pictures shown before it but decoded after it,
    predicted from the GOP before (x265's default CRA; x264 with ``open-gop``)."""
    if codec == "libx265":
        opts = {"x265-params": "log-level=error:keyint=24:min-keyint=24:scenecut=0"}
    else:
        opts = {"x264-params": "keyint=24:min-keyint=24:scenecut=0:open-gop=1"}
    write_video(path, numbered_frames(60, 64, 96), codec=codec, gop=None, crf=20, bframes=3,
                options={"threads": "1", **opts})
    return path


def _every_frame(path):
    with av.open(path) as c:  # independent reference: every frame, decoded in order
        return torch.from_numpy(np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)]))


def test_metadata_and_shapes(videos):
    with open_video(videos["g16"]) as r:
        assert r.num_frames == 60 and r.fps == pytest.approx(30.0)
        out = r.read([0, 5, 59])
    assert out.shape == (3, 32, 48, 3) and out.dtype == torch.uint8


@pytest.mark.parametrize("name", ["g16", "g250", "g8_long", "bframes"])
def test_read_returns_exactly_the_requested_frames(videos, name):
    idx = [41, 3, 3, 17, 18, 59, 0, 40]
    with open_video(videos[name]) as r:
        got = frame_numbers(r.read(idx))
    assert got == idx


def test_seeks_to_keyframe_and_skips_gaps(videos):
    # late frames only: the reader must seek, not decode from frame 0
    r = PyAVReader(videos["g16"])
    assert frame_numbers(r.read([50, 51])) == [50, 51]
    assert r.seeks == 1 and r.packets_decoded <= 8  # the GOP tail 48..51 (plus decoder delay)
    # two clips far apart: packets of the GOPs in between are not decoded
    r = PyAVReader(videos["g8_long"])
    assert frame_numbers(r.read([2, 3, 50, 51])) == [2, 3, 50, 51]
    assert r.packets_decoded <= 12  # 0..3 and 48..51; a plain pass would decode 52
    # with one keyframe there is no shortcut: the pass decodes up to the last frame and stops
    r = PyAVReader(videos["g250"])
    r.read([30, 31])
    assert r.frames_converted == 2 and r.packets_decoded < 45


def test_h264_nonreference_pictures_are_recognised_from_their_bytes():
    four = nonreference_test("h264", bytes([1, 0x64, 0, 0x1E, 0xFF, 0xE1, 0]))  # avcC: 4-byte lengths
    sei = b"\x00\x00\x00\x02\x06\x05"
    assert four(sei + b"\x00\x00\x00\x02\x01\x9e")  # SEI, then a P/B slice with nal_ref_idc 0
    assert not four(sei + b"\x00\x00\x00\x02\x41\x9a")  # nal_ref_idc 2: a reference
    assert not four(b"\x00\x00\x00\x02\x65\x88")  # IDR slice
    assert not four(sei)  # no slice at all
    assert not four(b"\x00\x00\x00\x09\x01\x9e")  # a NAL unit longer than the packet
    assert not four(b"")  # the flush packet
    two = nonreference_test("h264", bytes([1, 0x64, 0, 0x1E, 0xFD, 0xE1, 0]))  # 2-byte lengths
    assert two(b"\x00\x02\x01\x9e") and not two(b"\x00\x02\x21\x9e")
    annexb = nonreference_test("h264", None)  # start codes (MPEG-TS, raw .h264)
    assert annexb(b"\x00\x00\x00\x01\x09\xf0\x00\x00\x01\x01\x9e")  # access unit delimiter, then the slice
    assert not annexb(b"\x00\x00\x01\x25\x88")
    assert nonreference_test("hevc", None) is None and nonreference_test("vp9", b"") is None


def test_hevc_nonreference_pictures_are_those_of_the_highest_sub_layer():
    hvcc = bytearray(23)
    hvcc[0], hvcc[21] = 1, (1 << 3) | 3  # hvcC: one temporal sub-layer, 4-byte lengths
    one = nonreference_test("hevc", bytes(hvcc))
    vps = b"\x00\x00\x00\x02\x40\x01"  # a parameter set (type 32) before the slice
    assert one(vps + b"\x00\x00\x00\x03\x00\x01\xaf")  # TRAIL_N (type 0), layer 0, TemporalId 0
    assert one(b"\x00\x00\x00\x03\x10\x01\xaf")  # RASL_N (type 8)
    assert not one(b"\x00\x00\x00\x03\x02\x01\xaf")  # TRAIL_R (type 1): a reference
    assert not one(b"\x00\x00\x00\x03\x2a\x01\xaf")  # CRA (type 21)
    assert not one(vps)
    hvcc[21] = (2 << 3) | 3  # two sub-layers: a TRAIL_N of sub-layer 0 may be referred to from sub-layer 1
    two = nonreference_test("hevc", bytes(hvcc))
    assert not two(b"\x00\x00\x00\x03\x00\x01\xaf") and two(b"\x00\x00\x00\x03\x00\x02\xaf")
    hvcc[21] = 3  # numTemporalLayers 0: not stated, so nothing is skipped
    assert nonreference_test("hevc", bytes(hvcc)) is None


@pytest.mark.parametrize("name", ["bframes", "h264_open_gop", "hevc_open_gop"])
def test_unneeded_nonreference_pictures_are_not_decoded_and_change_no_frame(videos, name):
    path = videos[name]
    every = _every_frame(path)
    for idx in ([0, 8, 16, 24, 32, 40, 48, 56], [3, 5, 30, 31, 58, 59], [1, 25, 47]):
        plain, fast = PyAVReader(path, skip_nonref=False), PyAVReader(path)
        a, b = plain.read(idx), fast.read(idx)
        assert plain.packets_skipped == 0 and fast.packets_skipped > 0, idx
        assert fast.packets_decoded < plain.packets_decoded, idx
        assert torch.equal(a, b), idx
        assert torch.equal(b, every[idx]), idx
    # a needed non-reference picture is decoded, not skipped
    fast = PyAVReader(path)
    assert torch.equal(fast.read(list(range(60))), every)
    assert fast.packets_skipped == 0


@pytest.mark.parametrize("name", ["h264_open_gop", "hevc_open_gop"])
@pytest.mark.parametrize("idx", [[47], [45, 46, 47], [1, 25, 47], [10, 23, 46, 50]])
def test_leading_pictures_of_an_open_gop_are_decoded(videos, name, idx):
    # frames 45-47 (and 21-23) are shown before the keyframe at 48 (24) but decoded after it, from
    # the GOP before: the packets held back before that keyframe must not be dropped
    with PyAVReader(videos[name]) as r:
        assert torch.equal(r.read(idx), _every_frame(videos[name])[idx])


def test_downscale_on_decode(tmp_path):
    path = write_numbered_video(str(tmp_path / "big.mp4"), 10, height=64, width=96)
    with open_video(path, max_short_side=32) as r:
        assert r.read([0]).shape == (1, 32, 48, 3)
    with open_video(path, max_short_side=128) as r:  # never upscaled
        assert r.read([0]).shape == (1, 64, 96, 3)


def test_indices_past_the_end_are_clamped(videos):
    with open_video(videos["g16"]) as r:
        assert frame_numbers(r.read([58, 59, 60, 100])) == [58, 59, 59, 59]


def test_missing_empty_and_corrupt_files_raise_decode_error(tmp_path, videos):
    with pytest.raises(DecodeError, match="nope.mp4"):
        open_video(str(tmp_path / "nope.mp4"))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(DecodeError, match="empty.mp4"):
        open_video(str(empty)).read([0])
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(4000))
    with pytest.raises(DecodeError, match="junk.mp4"):
        open_video(str(junk)).read([0])
    truncated = tmp_path / "trunc.mp4"
    truncated.write_bytes(open(videos["g16"], "rb").read()[:300])
    with pytest.raises(DecodeError, match="trunc.mp4"):
        open_video(str(truncated)).read([0, 30])


def test_frame_folder_reader(tmp_path):
    folder = write_frame_folder(str(tmp_path / "v"), numbered_frames(12))
    with open_video(folder, frame_fps=25) as r:
        assert r.num_frames == 12 and r.fps == 25
        out = r.read([11, 0, 5])
    assert out.shape == (3, 32, 48, 3)
    assert frame_numbers(out) == [11, 0, 5]
    with pytest.raises(DecodeError, match="no frame images"):
        os.makedirs(tmp_path / "emptydir")
        open_video(str(tmp_path / "emptydir"))


def _torchcodec_or_skip():
    from videossl.data.decoding.torchcodec_reader import torchcodec_available

    if not torchcodec_available():
        pytest.skip("torchcodec is not importable (pip install torchcodec; apt-get install libavdevice59)")


@pytest.mark.parametrize("name", ["g16", "bframes", "h264_open_gop", "hevc_open_gop"])
def test_torchcodec_reader_matches_pyav(videos, name):
    _torchcodec_or_skip()
    idx = [41, 3, 17, 59, 0, 47, 23]
    with open_video(videos[name], backend="torchcodec") as r:
        assert r.backend == "torchcodec" and r.num_frames == 60
        got = r.read(idx)
    assert frame_numbers(got) == idx
    with PyAVReader(videos[name]) as r:
        assert torch.equal(got, r.read(idx))


def test_torchcodec_failures_fall_back_to_pyav(videos, monkeypatch):
    _torchcodec_or_skip()
    from videossl.data.decoding import torchcodec_reader as tc

    def broken_read(self, indices):
        raise DecodeError(f"torchcodec cannot decode {self.path}: simulated")

    monkeypatch.setattr(tc.TorchCodecReader, "read", broken_read)
    with open_video(videos["g16"], backend="torchcodec") as r:
        assert frame_numbers(r.read([7, 8])) == [7, 8]
        assert r.backend == "pyav"

    def broken_init(self, path, **kw):
        raise DecodeError("simulated open failure")

    monkeypatch.setattr(tc.TorchCodecReader, "__init__", broken_init)
    with open_video(videos["g16"], backend="torchcodec") as r:
        assert r.backend == "pyav" and frame_numbers(r.read([30])) == [30]


def test_torchcodec_without_ffmpeg_is_not_available(monkeypatch):
    """torchcodec imports without FFmpeg's libraries and then reports ffmpeg_major_version None."""
    torchcodec = pytest.importorskip("torchcodec")
    from videossl.data.decoding.open import available_backends
    from videossl.data.decoding.torchcodec_reader import torchcodec_available

    try:
        for version, expected in ((None, ("pyav",)), (6, ("pyav", "torchcodec"))):
            monkeypatch.setattr(torchcodec, "ffmpeg_major_version", version, raising=False)
            torchcodec_available.cache_clear()  # the answer is cached per process
            assert available_backends() == expected
    finally:
        monkeypatch.undo()
        torchcodec_available.cache_clear()


def test_long_gaps_are_crossed_with_a_seek(tmp_path):
    path = write_numbered_video(str(tmp_path / "long.mp4"), 700, height=16, width=32, gop=16)
    r = PyAVReader(path, seek_gap=300)
    got = frame_numbers(r.read([5, 6, 650, 651]))
    assert [g % 64 for g in got] == [5, 6, 650 % 64, 651 % 64]  # grey levels wrap every 64 frames
    assert r.seeks == 2 and r.packets_decoded <= 20  # 0..6 and 640..651, not the 640 frames between



@pytest.mark.parametrize("backend", ["pyav", "torchcodec"])
def test_a_file_cut_anywhere_reads_or_raises_decode_error(tmp_path, videos, backend):
    """Truncation at any byte gives frames of the right shape or a DecodeError naming the file, never
    another exception (a cut inside the header, after the stream but before its codec parameters,
    once raised AttributeError from PyAV and would have stopped training)."""
    import av

    if backend == "torchcodec":
        _torchcodec_or_skip()
    data = open(videos["g16"], "rb").read()
    outcomes, no_codec = set(), []
    for k in range(1, 200):
        path = tmp_path / f"cut{k}.mp4"
        path.write_bytes(data[: len(data) * k // 200])
        try:
            with av.open(str(path)) as c:
                if c.streams.video and c.streams.video[0].codec_context is None:
                    no_codec.append(k)
        except av.error.FFmpegError:
            pass
        try:
            with open_video(str(path), backend=backend) as r:
                out = r.read([0, 30, 59])
            assert out.shape == (3, 32, 48, 3)
            outcomes.add("read")
        except DecodeError as err:
            assert f"cut{k}.mp4" in str(err)
            outcomes.add("error")
    assert "error" in outcomes
    assert no_codec, "no cut hit the stream-without-codec-parameters case; widen the sweep"
