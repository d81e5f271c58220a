"""PyAV reader: one container, one forward pass over exactly the frames a sample needs.

``read(indices)`` works on packets, not frames:

* it seeks to the keyframe at or before the first needed frame;
* it demuxes forward (cheap) and only *decodes* packets from the last
  keyframe before each needed frame up to that frame: while the next needed
  frame is still ahead, packets are held back, and a keyframe packet drops the
  held-back ones (the decoder is flushed), so a gap between two clips costs a
  demux, not a decode, whenever a keyframe lies in it (a keyframe shown after
  the next needed frame does not count: in an open GOP that frame may be a
  leading picture decoded after the keyframe from the packets before it);
* a gap longer than ``seek_gap`` frames is crossed with a container seek;
* an H.264 or HEVC picture that is not needed and that no other picture refers to
  (:mod:`.nonreference`) is not decoded at all: the other
  pictures decode bit-identically without it;
* only the needed frames are converted to RGB (optionally downscaled by
  swscale on the way); decoding stops after the last needed frame.

So ρ clips cut from one video cost one open and at most one decode of each
needed GOP tail, however the clips are spread.

Frame ``i`` is the frame whose presentation time is ``i / fps`` after the
stream's start (``fps`` = the stream's average rate); for constant-rate files
this is the i-th frame.
"""

from typing import Dict, List, Optional, Sequence

import av
import numpy as np
import torch

from .base import DecodeError, VideoReader, gather, short_side_size
from .nonreference import nonreference_test

_AV_ERRORS = (av.error.FFmpegError, OSError, ValueError, IndexError, MemoryError)


class PyAVReader(VideoReader):
    """Open ``path`` with PyAV.

    Args:
        path: a video file (any container/codec FFmpeg reads; the first video stream is used).
        max_short_side: if set, frames are downscaled on decode so their short
            side is at most this (never upscaled).
        threads: decoder threads (0 = FFmpeg's choice; 1 suits DataLoader workers).
        seek_gap: cross a gap of more than this many frames between needed
            frames with a container seek instead of demuxing through it.
        skip_nonref: do not decode H.264 / HEVC non-reference pictures that are not
            needed (False decodes every packet from each keyframe; the frames
            read are the same either way).
    Raises:
        DecodeError: the file cannot be opened or has no video stream.

    Attributes ``seeks``, ``packets_decoded``, ``packets_skipped`` (non-reference pictures
    not decoded) and ``frames_converted`` count the work done by :meth:`read` (for tests
    and benchmarks).
    """

    def __init__(self, path: str, max_short_side: Optional[int] = None, threads: int = 1,
                 seek_gap: int = 300, skip_nonref: bool = True):
        self.path = str(path)
        self.max_short_side = max_short_side
        self.seek_gap = seek_gap
        self.seeks = 0
        self.packets_decoded = 0
        self.packets_skipped = 0
        self.frames_converted = 0
        try:
            self._container = av.open(self.path)
        except _AV_ERRORS as err:
            raise DecodeError(f"cannot open video {self.path}: {err}") from None
        if not self._container.streams.video:
            self._container.close()
            raise DecodeError(f"no video stream in {self.path}")
        stream = self._container.streams.video[0]
        if stream.codec_context is None:  # e.g. a file truncated before the codec parameters were found
            self._container.close()
            raise DecodeError(f"no decodable video stream in {self.path} (codec parameters missing; "
                              "truncated or corrupt file?)")
        stream.codec_context.thread_count = threads
        if threads != 1:
            stream.thread_type = "AUTO"
        self._stream = stream
        self._cc = stream.codec_context
        self._is_nonref = nonreference_test(self._cc.name, self._cc.extradata) if skip_nonref else None
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        self.fps = float(rate) if rate else 30.0
        self._tb = float(stream.time_base) if stream.time_base else 1.0 / (self.fps * 1000)
        self._start = stream.start_time if stream.start_time is not None else 0
        self._num = self._meta_num_frames()
        self._all: Optional[Dict[int, np.ndarray]] = None
        self._out_size = None

    # -- metadata ---------------------------------------------------------------
    def _meta_num_frames(self) -> Optional[int]:
        s = self._stream
        if s.frames and s.frames > 0:
            return int(s.frames)
        if s.duration and s.time_base:
            return max(int(round(float(s.duration * s.time_base) * self.fps)), 1)
        if self._container.duration:
            return max(int(round(self._container.duration / 1e6 * self.fps)), 1)
        return None

    @property
    def num_frames(self) -> int:
        if self._num is None:
            self._decode_all()
        return self._num

    # -- helpers ----------------------------------------------------------------
    def _pts_index(self, pts) -> Optional[int]:
        if pts is None:
            return None
        return int(round((pts - self._start) * self._tb * self.fps))

    def _to_rgb(self, frame) -> np.ndarray:
        self.frames_converted += 1
        if self._out_size is None:
            self._out_size = short_side_size(frame.height, frame.width, self.max_short_side)
        h, w = self._out_size
        if (h, w) != (frame.height, frame.width):
            arr = frame.to_ndarray(format="rgb24", width=w, height=h)
        else:
            arr = frame.to_ndarray(format="rgb24")
        rot = getattr(frame, "rotation", 0) or 0
        if rot % 360:
            arr = np.ascontiguousarray(np.rot90(arr, k=int(round(rot / 90)) % 4))
        return arr

    def _seek(self, index: int) -> None:
        """Seek to the keyframe at or before frame ``index`` (flushes the decoder)."""
        target = self._start + int((index - 0.5) / self.fps / self._tb)
        self._container.seek(max(target, self._start), stream=self._stream, backward=True, any_frame=False)
        self.seeks += 1

    def _decode_all(self) -> None:
        """Decode every frame once (used when the container has no usable frame count)."""
        frames: Dict[int, np.ndarray] = {}
        try:
            for i, frame in enumerate(self._container.decode(self._stream)):
                frames[i] = self._to_rgb(frame)
        except _AV_ERRORS as err:
            if not frames:
                raise DecodeError(f"cannot decode {self.path}: {err}") from None
        if not frames:
            raise DecodeError(f"no frame could be decoded from {self.path}")
        self._all = frames
        self._num = len(frames)

    # -- reading ----------------------------------------------------------------
    def read(self, indices: Sequence[int]) -> torch.Tensor:
        num = self.num_frames
        clamped = [min(max(int(i), 0), num - 1) for i in indices]
        if self._all is not None:
            return gather(self._all, clamped, self.path)
        needed = sorted(set(clamped))
        try:
            decoded = self._decode_needed(needed)
        except _NoTimestamps:
            self._container.seek(self._start, stream=self._stream, backward=True, any_frame=False)
            self._decode_all()
            return gather(self._all, clamped, self.path)
        except _AV_ERRORS as err:
            raise DecodeError(f"cannot decode {self.path}: {err}") from None
        return gather(decoded, clamped, self.path)

    def _decode_needed(self, needed: List[int]) -> Dict[int, np.ndarray]:
        state = _Pass(needed)
        wanted = set(needed)
        if needed[0] > 0:
            self._seek(needed[0])
        packets = self._container.demux(self._stream)
        first = True
        error = None
        while not state.done:
            try:
                packet = next(packets, None)
            except _AV_ERRORS as err:  # corrupt data: keep what was decoded
                error = err
                break
            if packet is None:
                break
            pidx = self._pts_index(packet.pts)
            if first and packet.size:
                first = False
                if pidx is None:
                    raise _NoTimestamps
                if pidx > needed[0] and self.seeks:
                    # the seek landed after the first needed frame: start from the beginning
                    self._container.seek(self._start, stream=self._stream, backward=True, any_frame=False)
                    packets = self._container.demux(self._stream)
                    continue
            flush = packet.size == 0
            if state.holding:
                if packet.is_keyframe and not flush and (pidx is None or pidx <= state.next_needed):
                    # decoding can restart here.  Not so at a keyframe shown *after* the next needed
                    # frame: that frame comes later in decode order, a leading picture of an open GOP
                    # (HEVC CRA, H.264 open-GOP I) predicted from the held-back packets too
                    state.held.clear()
                    state.dropped = True
                state.held.append(packet)
                if not flush and (pidx is None or pidx < state.next_needed):
                    if (pidx is not None and state.next_needed - pidx > self.seek_gap
                            and state.sought != state.next_needed):
                        state.sought = state.next_needed
                        self._seek(state.next_needed)
                        self._cc.flush_buffers()
                        state.held.clear()
                        state.dropped = False
                        packets = self._container.demux(self._stream)
                    continue
                batch, state.held = state.held, []
                if state.dropped:
                    self._cc.flush_buffers()
                    state.dropped = False
                state.holding = False
            else:
                batch = [packet]
            try:
                for p in batch:
                    pi = self._pts_index(p.pts)
                    if pi is not None and pi not in wanted and self._is_nonref is not None and self._is_nonref(p):
                        self.packets_skipped += 1  # nothing refers to it and it is not needed
                        continue
                    self.packets_decoded += 1
                    if pi is not None:
                        state.fed_max = max(state.fed_max, pi)
                    for frame in self._cc.decode(p):
                        idx = self._pts_index(frame.pts)
                        state.offer(state.last + 1 if idx is None else idx, frame, self._to_rgb)
                        if state.done:
                            break
                    if state.done:
                        break
            except _AV_ERRORS as err:
                error = err
                break
            if not state.done and state.fed_max < state.next_needed:
                state.holding = True  # nothing in the decoder is needed: hold packets back
        if not state.decoded:
            raise DecodeError(f"no frame could be decoded from {self.path} (frames {needed[0]}..{needed[-1]})"
                              + (f": {error}" if error else ""))
        if error is not None and not state.done:
            raise DecodeError(f"cannot decode frame {state.next_needed} of {self.path}: {error}")
        return state.decoded

    def close(self) -> None:
        try:
            self._container.close()
        except _AV_ERRORS:
            pass


class _NoTimestamps(Exception):
    """Packets carry no timestamps: frames can only be numbered by decoding from the start."""


class _Pass:
    """Bookkeeping of one forward pass: which needed frames are still to come."""

    def __init__(self, needed: List[int]):
        self.needed = needed
        self.pos = 0
        self.last = -1  # index of the last frame the decoder returned
        self.fed_max = -1  # largest frame index fed to the decoder
        self.decoded: Dict[int, np.ndarray] = {}
        self.holding = True  # start by holding packets until the first needed frame is near
        self.held: list = []
        self.dropped = False
        self.sought = None  # last seek target (never seek twice to the same frame)

    @property
    def done(self) -> bool:
        return self.pos >= len(self.needed)

    @property
    def next_needed(self) -> int:
        return self.needed[self.pos]

    def offer(self, idx: int, frame, to_rgb) -> None:
        if idx <= self.last:
            return  # already seen (a seek went back)
        self.last = idx
        while not self.done and self.needed[self.pos] < idx:
            self.pos += 1  # no frame at that time (variable rate): gather() fills it
        if not self.done and self.needed[self.pos] == idx:
            self.decoded[idx] = to_rgb(frame)
            self.pos += 1
