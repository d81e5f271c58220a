"""Check that a video (or frame folder) opens and decodes, and report its size, length and rate."""

from dataclasses import dataclass
from ..decoding import DecodeError, open_video


@dataclass
class VideoReport:
    path: str
    ok: bool
    num_frames: int = 0
    fps: float = 0.0
    height: int = 0
    width: int = 0
    error: str = ""


def check_video(path: str, backend: str = "pyav", min_frames: int = 1, full: bool = False,
                frame_fps: float = 30.0) -> VideoReport:
    """Open ``path`` and decode its first, middle and last frames (every frame with ``full``).

    ``ok`` is False, with ``error`` set, if it cannot be opened or decoded or has
    fewer than ``min_frames`` frames.
    """
    try:
        with open_video(path, backend, frame_fps=frame_fps) as reader:
            n = reader.num_frames
            idx = list(range(n)) if full else sorted({0, n // 2, n - 1})
            frames = reader.read(idx)
            report = VideoReport(path, True, n, float(reader.fps), int(frames.shape[1]), int(frames.shape[2]))
    except DecodeError as err:
        return VideoReport(path, False, error=str(err))
    except Exception as err:  # noqa: BLE001 - any other failure is a bad file too
        return VideoReport(path, False, error=f"{type(err).__name__}: {err}")
    if n < min_frames:
        report.ok, report.error = False, f"{n} frames < {min_frames}"
    return report
