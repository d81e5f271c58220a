"""Procedural videos for the built-in synthetic dataset, with their exact optical flow.

A video shows one moving object of a solid colour over a softly textured
background.  The **class** is a (shape, motion) pair and both persist for the
whole video; classes are chosen so that neither the shape nor the motion
alone identifies the class (each shape occurs with two motions and each
motion with two shapes), so a still frame does not tell the class.
**Nuisances** vary between videos: object colour (always contrasting with the
background in luma), size, start position, direction, phase, speed,
background colour and texture, sensor noise, and (when turned on) the
direction of an illumination gradient.  An optional glow of the object
lights the background around it.

(Pilot runs showed that stripes on the object and a static distractor
object made the default 24 videos per class too hard to learn from scratch
in minutes; shapes were chosen so that spinning is visible without texture.)

Motions (object centre ``c_t``, angle ``a_t``, scale ``s_t``), see
:func:`trajectory`: ``linear`` drift bouncing off the borders, ``rotation``
spin in place, ``zoom`` size pulsing in place, ``oscillation`` fast shaking
along a line, ``circular`` orbit.

Flow is the forward displacement from frame t to t+1 of whatever is at each
pixel in frame t: an object point ``p`` moves to
``c_{t+1} + s_{t+1}/s_t * R(a_{t+1} - a_t) (p - c_t)``; background and
distractor pixels do not move.
"""

import math
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

from ..errors import InputError

SHAPES = ("ellipse", "square", "triangle", "cross", "ring")
MOTIONS = ("linear", "rotation", "zoom", "oscillation", "circular")


def class_table(num_classes: int) -> List[Tuple[str, str]]:
    """(shape, motion) of each class: ``(S_s, M_{(s + k) mod n})`` enumerated by k, then s.

    ``n`` = 4 shapes/motions for up to 16 classes, 5 for up to 25.
    """
    n = 4 if num_classes <= 16 else 5
    if num_classes > n * n or num_classes < 1:
        raise InputError(f"SYNTHETIC.NUM_CLASSES={num_classes} must be in 1..25")
    table = [(SHAPES[s], MOTIONS[(s + k) % n]) for k in range(n) for s in range(n)]
    return table[:num_classes]


def _sdf(shape: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Signed distance (object units, radius ~1) of object-local points to the shape."""
    if shape == "ellipse":  # not round, so that spinning shows
        return np.hypot(x, y / 0.55) * 0.75 - 0.75
    if shape == "square":
        return np.maximum(np.abs(x), np.abs(y)) - 0.85
    if shape == "triangle":
        d = -np.inf
        for k in range(3):
            ang = math.pi / 2 + k * 2 * math.pi / 3
            d = np.maximum(d, x * math.cos(ang) + y * math.sin(ang) - 0.6)
        return d
    if shape == "cross":
        a = np.maximum(np.abs(x) - 1.0, np.abs(y) - 0.36)
        b = np.maximum(np.abs(y) - 1.0, np.abs(x) - 0.36)
        return np.minimum(a, b)
    if shape == "ring":  # with a gap, so that spinning shows
        ring = np.abs(np.hypot(x, y) - 0.72) - 0.3
        return np.maximum(ring, 0.35 - np.maximum(x, np.abs(y)))
    raise InputError(shape)


def _reflect(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Fold ``v`` into [lo, hi] (a bouncing trajectory)."""
    span = hi - lo
    u = np.mod(v - lo, 2 * span)
    return lo + np.where(u > span, 2 * span - u, u)


@dataclass
class Trajectory:
    centre: np.ndarray  # T x 2 (x, y) pixels
    angle: np.ndarray  # T radians
    scale: np.ndarray  # T


def trajectory(rng: np.random.Generator, motion: str, num_frames: int, size: int, radius: float) -> Trajectory:
    """The object's pose over time for ``motion`` (nuisance parameters drawn from ``rng``).

    The motions differ in kind, not only in path: ``linear`` translates
    (uniform flow), ``rotation`` spins in place (curl), ``zoom`` pulses in
    place (divergence), ``oscillation`` shakes back and forth with a period of
    6-10 frames (flow that flips sign), ``circular`` orbits with a period of
    16-28 frames.
    """
    t = np.arange(num_frames, dtype=np.float64)
    unit = size / 64.0
    speed = rng.uniform(0.7, 1.3)  # per-video speed nuisance, scales every motion
    margin = radius * 1.3
    lo, hi = margin, size - margin
    c0 = rng.uniform(lo, hi, size=2)
    direction = rng.uniform(0, 2 * math.pi)
    u = np.array([math.cos(direction), math.sin(direction)])
    angle = np.full(num_frames, rng.uniform(0, 2 * math.pi))
    scale = np.ones(num_frames)
    phase = rng.uniform(0, 2 * math.pi)
    drift = _reflect(c0[None] + 0.1 * unit * t[:, None] * u[None], lo, hi)  # slow drift of in-place motions
    if motion == "linear":
        centre = _reflect(c0[None] + (2.4 * speed * unit) * t[:, None] * u[None], lo, hi)
    elif motion == "rotation":
        centre = drift
        angle = angle + 0.25 * speed * rng.choice([-1.0, 1.0]) * t
    elif motion == "zoom":
        centre = drift
        scale = 1.0 + 0.35 * np.sin(2 * math.pi * t / (12.0 / speed) + phase)
    elif motion == "oscillation":
        amp = 6.0 * unit
        centre = drift + amp * np.sin(2 * math.pi * t / (8.0 / speed) + phase)[:, None] * u[None]
    elif motion == "circular":
        rho = rng.uniform(0.12, 0.18) * size
        orbit = np.clip(c0, rho + margin, size - rho - margin) if size - 2 * (rho + margin) > 0 \
            else np.full(2, size / 2)
        omega = 2 * math.pi / (20.0 / speed) * rng.choice([-1.0, 1.0])
        centre = orbit[None] + rho * np.stack([np.cos(omega * t + phase), np.sin(omega * t + phase)], 1)
    else:
        raise InputError(motion)
    return Trajectory(centre, angle, scale)


def _background(rng: np.random.Generator, size: int, yy: np.ndarray, xx: np.ndarray,
                texture: float = 1.0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(base, pattern, tint)``: the background is ``base + pattern x tint`` (clipped to [0, 1]).

    ``base`` is a colour, ``pattern`` (H x W) ``texture`` x a faint sum of three
    gratings (0: plain), ``tint`` the colour the gratings modulate.
    """
    base = rng.uniform(0.1, 0.9, size=3)
    tex = np.zeros((size, size))
    for _ in range(3):
        f = rng.uniform(0.5, 4.0) * 2 * math.pi / size
        th = rng.uniform(0, 2 * math.pi)
        tex += np.sin(f * (xx * math.cos(th) + yy * math.sin(th)) + rng.uniform(0, 2 * math.pi))
    tint = rng.uniform(-1, 1, size=3)
    amp = rng.uniform(0.02, 0.08) * texture
    return base, amp * tex, tint


def _paint(base: np.ndarray, pattern: np.ndarray, tint: np.ndarray) -> np.ndarray:
    return np.clip(base[None, None] + pattern[..., None] * tint[None, None], 0, 1)


def _luma(c: np.ndarray) -> float:
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _contrasting(rng: np.random.Generator, bg: np.ndarray, min_diff: float = 0.3) -> np.ndarray:
    """A random colour whose luma differs from ``bg``'s by at least ``min_diff``."""
    col = rng.uniform(0, 1, size=3)
    lb = _luma(bg)
    target = rng.uniform(lb + min_diff, 1.0) if lb < 0.5 else rng.uniform(0.0, lb - min_diff)
    return np.clip(col + (target - _luma(col)), 0, 1)


FIXED_BACKGROUND = np.array([0.3, 0.3, 0.3])  # the colours every video gets with colour_variation 0
FIXED_OBJECT = np.array([0.8, 0.8, 0.8])


SENSOR_NOISE = 0.012  # default std of the per-pixel grey noise, in [0, 1] intensity units


def render_video(rng: np.random.Generator, shape: str, motion: str, num_frames: int, size: int,
                 with_flow: bool = False, texture: float = 1.0, colour_variation: float = 1.0,
                 sensor_noise: float = SENSOR_NOISE, illumination_gradient: float = 0.0,
                 object_glow: float = 0.0):
    """Render one video.

    ``texture`` scales the background gratings (0: a plain background);
    ``colour_variation`` moves the background and object colours from a fixed
    grey pair (0) to the per-video random colours (1); at 0 the gratings keep
    their luminance (grey gratings on the grey background); ``sensor_noise`` is the
    std of the i.i.d. grey noise added to every pixel (0: none, a plain background
    is then exactly flat); ``illumination_gradient`` ``g`` lights the whole scene
    (background and object) unevenly: every pixel's intensity is multiplied by
    ``1 + g * d / size``, ``d`` the pixel's signed distance from the frame centre
    along a per-video random direction (0: even lighting; 0.5: x0.75 to x1.25
    between opposite edges).  The lighting is static and applied before the noise.
    ``object_glow`` ``h`` makes the object light its surroundings: every background
    pixel gains ``h * max(0, 1 - d / (sqrt(2) * size))`` intensity, ``d`` the pixel's
    distance from the object's centre in that frame (0: no glow), so every
    background patch holds a gentle ramp pointing at the object.
    The random draws are the same for every value of these
    knobs, so nothing else about the video changes.

    Returns ``(frames, flow)``: ``frames`` uint8 ``T x size x size x 3``;
    ``flow`` float32 ``(T-1) x size x size x 2`` (x, y) in pixels, or None.
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    base, pattern, tint = _background(rng, size, yy, xx, texture)
    bg = _paint(base, pattern, tint)
    radius = rng.uniform(0.16, 0.24) * size
    colour = _contrasting(rng, bg.mean((0, 1)))
    if colour_variation != 1.0:
        # Colours move towards the grey pair; the gratings keep their luminance (a grey tint).
        v = float(colour_variation)
        grey_tint = np.full(3, _luma(tint))
        bg = _paint(FIXED_BACKGROUND + v * (base - FIXED_BACKGROUND), pattern, grey_tint + v * (tint - grey_tint))
        colour = FIXED_OBJECT + v * (colour - FIXED_OBJECT)
    traj = trajectory(rng, motion, num_frames, size, radius)
    noise_rng = np.random.default_rng(rng.integers(0, 2**63))
    light_direction = rng.uniform(0, 2 * math.pi)  # drawn last, so the other draws do not depend on it
    f32 = np.float32
    cx = traj.centre[:, 0].astype(f32)[:, None, None]
    cy = traj.centre[:, 1].astype(f32)[:, None, None]
    r = (radius * traj.scale).astype(f32)[:, None, None]
    ca = np.cos(traj.angle).astype(f32)[:, None, None]
    sa = np.sin(traj.angle).astype(f32)[:, None, None]
    px, py = xx.astype(f32)[None] - cx, yy.astype(f32)[None] - cy  # T x H x W
    lx, ly = (ca * px + sa * py) / r, (-sa * px + ca * py) / r  # object-local coordinates
    alpha = np.clip(0.5 - _sdf(shape, lx, ly) * r, 0, 1)[..., None]
    lit_bg = bg.astype(f32)[None]
    if object_glow != 0:
        glow = f32(object_glow) * np.maximum(0, 1 - np.hypot(px, py) / f32(math.sqrt(2) * size))
        lit_bg = lit_bg + glow[..., None]
    img = lit_bg * (1 - alpha) + colour.astype(f32) * alpha
    if illumination_gradient != 0:
        d = (xx - size / 2) * math.cos(light_direction) + (yy - size / 2) * math.sin(light_direction)
        img *= (1 + illumination_gradient * d / size).astype(f32)[None, :, :, None]
    if sensor_noise > 0:
        img += f32(sensor_noise) * noise_rng.standard_normal(size=img.shape[:3] + (1,), dtype=f32)
    frames = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)
    flow = None
    if with_flow and num_frames > 1:
        k = (traj.scale[1:] / traj.scale[:-1]).astype(f32)[:, None, None]
        da = traj.angle[1:] - traj.angle[:-1]
        cd, sd = np.cos(da).astype(f32)[:, None, None], np.sin(da).astype(f32)[:, None, None]
        p0x, p0y = px[:-1], py[:-1]
        qx = cx[1:] + k * (cd * p0x - sd * p0y)
        qy = cy[1:] + k * (sd * p0x + cd * p0y)
        inside = alpha[:-1, ..., 0] >= 0.5
        flow = np.zeros((num_frames - 1, size, size, 2), np.float32)
        flow[..., 0] = np.where(inside, qx - (p0x + cx[:-1]), 0.0)
        flow[..., 1] = np.where(inside, qy - (p0y + cy[:-1]), 0.0)
    return frames, flow
