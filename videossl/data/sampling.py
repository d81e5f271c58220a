"""Temporal sampling: which native frames make each clip.

All functions take plain numbers and an explicit ``numpy.random.Generator``;
none touches a global RNG.  Frame indices are native-frame indices of the
decoded video, ``0 <= i < video_size``.

Short videos: when a clip is longer than the video, the clip starts at 0 and
its indices past the end are clamped to the last frame, i.e. the clip is
**padded with the last frame** (PySlowFast's ``temporal_sampling`` behaviour).
"""

import math
from typing import List, Optional, Sequence, Tuple

import numpy as np


def clip_size(num_frames: int, sampling_rate: int, target_fps: float, native_fps: float) -> float:
    """Length of one clip in native frames: ``SAMPLING_RATE x NUM_FRAMES / TARGET_FPS x fps``."""
    return sampling_rate * num_frames / target_fps * native_fps


def frame_indices(start: float, size: float, num_frames: int, video_size: int) -> np.ndarray:
    """``linspace(start, start + size - 1, num_frames)`` clamped to the video, as int64."""
    idx = np.linspace(start, start + size - 1, num_frames)
    return np.clip(idx, 0, max(video_size - 1, 0)).astype(np.int64)


def uniform_start(video_size: int, size: float, clip_idx: int, num_clips: int,
                  use_offset: bool = False) -> float:
    """Test-time start of clip ``clip_idx`` of ``num_clips``.

    ``delta = max(video_size - size, 0)``; the start is ``delta * i / n``
    (PySlowFast), the centre ``delta / 2`` when ``n == 1``, and with
    ``use_offset`` (PySlowFast ``USE_OFFSET_SAMPLING``) ``i * floor(delta / (n - 1))``.
    """
    delta = max(video_size - size, 0.0)
    if num_clips == 1:
        return math.floor(delta / 2) if use_offset else delta / 2
    if use_offset:
        return clip_idx * math.floor(delta / (num_clips - 1))
    return delta * clip_idx / num_clips


def _violations(sets: np.ndarray, size: float, min_gap: float, max_gap: float) -> np.ndarray:
    """Total gap-bound violation of each row of start times (``N x k``)."""
    gaps = np.diff(np.sort(sets, axis=1), axis=1) - (size - 1)
    return (np.clip(min_gap - gaps, 0, None) + np.clip(gaps - max_gap, 0, None)).sum(axis=1)


def random_starts(rng: np.random.Generator, video_size: int, size: float, num_clips: int,
                  min_gap: float = -math.inf, max_gap: float = math.inf,
                  tries: int = 100) -> List[float]:
    """``num_clips`` random starts in ``[0, video_size - size]``, sorted ascending.

    The gap between consecutive clips (next start minus previous end, where
    end = start + size - 1; negative means overlap) must lie in
    ``[min_gap, max_gap]`` (PySlowFast ``CONTRASTIVE.DELTA_CLIPS_MIN/MAX``).
    As PySlowFast: clips are added one at a time, each start drawn uniformly
    and redrawn (up to ``tries`` times) while the clips so far violate the
    bounds; the whole draw is repeated up to ``tries`` times, and if no draw
    satisfies the bounds (infeasible for a short video) the one with the
    smallest total violation is returned.
    """
    delta = max(video_size - size, 0.0)
    if num_clips == 1 or (min_gap == -math.inf and max_gap == math.inf):
        return sorted(rng.uniform(0.0, delta, size=num_clips).tolist())
    best, best_violation = None, math.inf
    for _ in range(tries):
        starts = rng.uniform(0.0, delta, size=1)
        for _clip in range(1, num_clips):
            cands = rng.uniform(0.0, delta, size=tries)  # the redraws, evaluated at once
            sets = np.concatenate([np.broadcast_to(starts, (tries, len(starts))), cands[:, None]], axis=1)
            viol = _violations(sets, size, min_gap, max_gap)
            ok = np.flatnonzero(viol == 0)
            starts = sets[ok[0] if len(ok) else int(np.argmin(viol))]
        violation = float(_violations(starts[None], size, min_gap, max_gap)[0])
        if violation == 0:
            return np.sort(starts).tolist()
        if violation < best_violation:
            best, best_violation = np.sort(starts), violation
    return best.tolist()


def segment_indices(video_size: int, num_segments: int, rng: Optional[np.random.Generator] = None,
                    position: float = 0.5) -> np.ndarray:
    """TSN sampling: one frame per each of ``num_segments`` equal segments of the video.

    Segment ``k`` spans ``[round(s*k), round(s*(k+1))]`` with ``s = (video_size - 1) /
    num_segments`` (PySlowFast's SSv2).  With ``rng`` a random frame of each
    segment is taken (train); otherwise the frame at ``position`` (0..1) of the
    segment, the centre by default (test).
    """
    seg = (video_size - 1) / num_segments
    out = np.empty(num_segments, dtype=np.int64)
    for k in range(num_segments):
        lo, hi = int(round(seg * k)), int(round(seg * (k + 1)))
        if rng is not None:
            out[k] = rng.integers(lo, hi + 1)
        else:
            out[k] = lo + int(round((hi - lo) * position))
    return np.clip(out, 0, max(video_size - 1, 0))


def sample_train_clips(rng: np.random.Generator, video_size: int, native_fps: float, *,
                       num_frames: int, sampling_rate: int, target_fps: float, num_clips: int,
                       jitter_fps: float = 0.0, min_gap: float = -math.inf, max_gap: float = math.inf,
                       segment: bool = False) -> Tuple[List[np.ndarray], List[float]]:
    """Frame indices of ``num_clips`` train clips of one video, in a random output order.

    Returns ``(indices, starts)``: ``indices[k]`` is the int64 array of
    ``num_frames`` native-frame indices of clip ``k``, ``starts[k]`` its start
    (the order is a random permutation of the time order, as PySlowFast's
    ``temporally_rnd_clips``).  ``segment`` selects TSN segment sampling
    (one independent draw per clip) instead of contiguous clips.
    """
    if segment:
        clips = [segment_indices(video_size, num_frames, rng) for _ in range(num_clips)]
        return clips, [float(c[0]) for c in clips]
    fps = target_fps + (rng.uniform(0, jitter_fps) if jitter_fps > 0 else 0.0)
    size = clip_size(num_frames, sampling_rate, fps, native_fps)
    starts = random_starts(rng, video_size, size, num_clips, min_gap, max_gap)
    order = rng.permutation(num_clips)
    starts = [starts[k] for k in order]
    return [frame_indices(s, size, num_frames, video_size) for s in starts], starts


def sample_test_clip(video_size: int, native_fps: float, clip_idx: int, num_clips: int, *,
                     num_frames: int, sampling_rate: int, target_fps: float, use_offset: bool = False,
                     segment: bool = False) -> np.ndarray:
    """Frame indices of test view ``clip_idx`` of ``num_clips`` (uniform, or TSN centre frames)."""
    if segment:
        return segment_indices(video_size, num_frames, position=(clip_idx + 1) / (num_clips + 1))
    size = clip_size(num_frames, sampling_rate, target_fps, native_fps)
    start = uniform_start(video_size, size, clip_idx, num_clips, use_offset)
    return frame_indices(start, size, num_frames, video_size)


def union(clips: Sequence[np.ndarray]) -> np.ndarray:
    """Sorted unique indices of all clips (what one decode must produce)."""
    return np.unique(np.concatenate(list(clips)))
