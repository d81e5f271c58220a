"""Optical flow in CoCLR's storage format.

A video of N frames has N-1 flow images ``flow_00001.jpg`` ... ``flow_{N-1:05d}.jpg``;
``flow_{i+1:05d}.jpg`` holds the flow from frame ``i`` to frame ``i + 1``.
Each is a 3-channel JPEG that PIL reads (``convert("RGB")``) as
``(R, G, B) = (128, enc(flow_y), enc(flow_x))`` with
``enc(f) = clip(round((f + 20) * 255 / 40), 0, 255)`` (flow in pixels, clipped to +-20).

The loader pairs RGB frame ``i`` with ``flow_{i+1:05d}.jpg`` (the last frame
reuses the last flow image) and feeds the 3-channel image through the same
augmentation as RGB, as CoCLR does.
"""

import os

import numpy as np
from PIL import Image

BOUND = 20.0
FLOW_TEMPLATE = "flow_{:05d}.jpg"


def encode_flow(flow: np.ndarray) -> np.ndarray:
    """``H x W x 2`` float (x, y) pixels -> ``H x W x 3`` uint8 RGB ``(128, y, x)``."""
    q = np.clip(np.round((flow + BOUND) * 255.0 / (2 * BOUND)), 0, 255).astype(np.uint8)
    out = np.empty(flow.shape[:2] + (3,), np.uint8)
    out[..., 0] = 128
    out[..., 1] = q[..., 1]
    out[..., 2] = q[..., 0]
    return out


def decode_flow(rgb: np.ndarray) -> np.ndarray:
    """Inverse of :func:`encode_flow`: ``H x W x 3`` uint8 RGB -> ``H x W x 2`` float32 (x, y)."""
    rgb = rgb.astype(np.float32)
    return np.stack([rgb[..., 2], rgb[..., 1]], axis=-1) * (2 * BOUND) / 255.0 - BOUND


def write_flow_jpeg(path: str, flow: np.ndarray, quality: int = 95) -> None:
    """Save one flow field as a JPEG (4:4:4 chroma so the G and B channels keep their resolution)."""
    Image.fromarray(encode_flow(flow), mode="RGB").save(path, quality=quality, subsampling=0)


def read_flow_jpeg(path: str) -> np.ndarray:
    """``H x W x 2`` float32 flow (x, y) from a flow JPEG."""
    with Image.open(path) as img:
        return decode_flow(np.asarray(img.convert("RGB")))


def flow_file(folder: str, frame_index: int) -> str:
    """The flow image paired with RGB frame ``frame_index`` (0-based)."""
    return os.path.join(folder, FLOW_TEMPLATE.format(frame_index + 1))
