"""Data preparation: re-encode, extract frames, check files, build file lists (used by tools/)."""

from .check import VideoReport, check_video
from .frames import extract_frames
from .resize import resize_video
from .splits import folder_rows, list_videos, write_csv

__all__ = ["resize_video", "extract_frames", "check_video", "VideoReport", "folder_rows", "list_videos", "write_csv"]
