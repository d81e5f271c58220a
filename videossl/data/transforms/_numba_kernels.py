"""Numba kernels behind :mod:`.fused_cpu`: one clip's float conversion, colour, blur and normalisation.

Importing this module imports numba; :mod:`.fused_cpu` does so lazily and falls back to the torch
kernels of :mod:`.color` when numba is missing.  Every kernel computes, pixel by pixel and in float32,
the same formula as its torch twin in :mod:`.color` (same operations in the same order, no fused
multiply-add, no reassociation), so the two agree up to the last bit or so: torch's vectorised
``add(alpha=)`` may round as one fused multiply-add, and the contrast mean is summed in another order.
Compiled code is cached on disk (``cache=True``: next to this file, or in numba's user cache).
"""

import numpy as np
from numba import njit

F32 = np.float32

#: Op codes of :func:`pointwise`.
BRIGHTNESS, CONTRAST, SATURATION, HUE, GREY = 0, 1, 2, 3, 4
#: The largest blur radius :func:`blur_normalize` takes (kernel size 13: sigma up to 2).
MAX_RADIUS = 6
_CHUNK = 2048  # pixels per pass of the op loop: 3 x 8 KB, kept in L1 from one op to the next

_ZERO, _ONE = F32(0.0), F32(1.0)
_WR, _WG, _WB = F32(0.2989), F32(0.587), F32(0.114)  # torchvision's luma weights


@njit(cache=True, nogil=True)
def to_unit(frames, out, flip):
    """uint8 ``T x H x W x 3`` -> ``out`` float32 ``3 x T x H x W`` = ``frames / 255`` (mirrored if ``flip``)."""
    t_len, h_len, w_len, _ = frames.shape
    lut = np.empty(256, np.float32)
    for v in range(256):
        lut[v] = F32(v) / F32(255.0)
    for t in range(t_len):
        for y in range(h_len):
            src = frames[t, y]
            r, g, b = out[0, t, y], out[1, t, y], out[2, t, y]
            if flip:
                for x in range(w_len):
                    s = w_len - 1 - x
                    r[x] = lut[src[s, 0]]
                    g[x] = lut[src[s, 1]]
                    b[x] = lut[src[s, 2]]
            else:
                for x in range(w_len):
                    r[x] = lut[src[x, 0]]
                    g[x] = lut[src[x, 1]]
                    b[x] = lut[src[x, 2]]


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def _grey_of_means(r, g, b):
    """The luma of the channel means (torch: ``grey(x.mean(...))``), means summed in float64."""
    sr, sg, sb = 0.0, 0.0, 0.0
    for i in range(r.shape[0]):
        sr += r[i]
        sg += g[i]
        sb += b[i]
    n = r.shape[0]
    return F32(sr / n) * _WR + F32(sg / n) * _WG + F32(sb / n) * _WB


@njit(cache=True, nogil=True)
def _op(r, g, b, op, f, shift):
    """One op on pixel planes ``r, g, b`` in place; ``shift`` is contrast's ``(1 - f) mean``."""
    n = r.shape[0]
    if op == BRIGHTNESS:  # clamp(f x)
        for i in range(n):
            r[i] = min(max(r[i] * f, _ZERO), _ONE)
            g[i] = min(max(g[i] * f, _ZERO), _ONE)
            b[i] = min(max(b[i] * f, _ZERO), _ONE)
    elif op == CONTRAST:  # clamp(f x + (1 - f) mean)
        for i in range(n):
            r[i] = min(max(r[i] * f + shift, _ZERO), _ONE)
            g[i] = min(max(g[i] * f + shift, _ZERO), _ONE)
            b[i] = min(max(b[i] * f + shift, _ZERO), _ONE)
    elif op == SATURATION:  # clamp(f x + (1 - f) grey(x))
        k = _ONE - f
        for i in range(n):
            gr = (r[i] * _WR + g[i] * _WG + b[i] * _WB) * k
            r[i] = min(max(r[i] * f + gr, _ZERO), _ONE)
            g[i] = min(max(g[i] * f + gr, _ZERO), _ONE)
            b[i] = min(max(b[i] * f + gr, _ZERO), _ONE)
    elif op == GREY:
        for i in range(n):
            gr = r[i] * _WR + g[i] * _WG + b[i] * _WB
            r[i] = gr
            g[i] = gr
            b[i] = gr
    else:  # HUE: color.adjust_hue's formula (max/min kept; piecewise-linear HSV ramps)
        six_f = F32(6.0) * f
        tiny = F32(1.1754943508222875e-38)
        for i in range(n):
            rr, gg, bb = r[i], g[i], b[i]
            hi = max(max(rr, gg), bb)
            lo = min(min(rr, gg), bb)
            chroma = hi - lo
            h6 = (rr - gg) + chroma * F32(4.0)  # blue holds the max
            if hi == gg:
                h6 = (bb - rr) + chroma * F32(2.0)
            if hi == rr:
                h6 = gg - bb
            h6 = h6 / max(chroma, tiny) + six_f
            h6 = h6 - np.floor(h6 / F32(6.0)) * F32(6.0)
            r[i] = lo + min(max(abs(h6 - F32(3.0)) - _ONE, _ZERO), _ONE) * chroma
            g[i] = hi - min(max(abs(h6 - F32(2.0)) - _ONE, _ZERO), _ONE) * chroma
            b[i] = hi - min(max(abs(h6 - F32(4.0)) - _ONE, _ZERO), _ONE) * chroma


@njit(cache=True, nogil=True)
def pointwise(x, ops, factors):
    """Apply ``ops[k]`` with ``factors[k]`` in order to float32 ``3 x N`` pixels ``x`` in place.

    The ops run chunk by chunk; a contrast op first needs the clip's mean grey level as the ops
    before it left the clip, so the pass restarts there."""
    r, g, b = x[0], x[1], x[2]
    n = r.shape[0]
    k = 0
    while k < ops.shape[0]:
        end = k + 1
        while end < ops.shape[0] and ops[end] != CONTRAST:
            end += 1
        shift = _ZERO
        if ops[k] == CONTRAST:
            shift = (_ONE - factors[k]) * _grey_of_means(r, g, b)
        for lo in range(0, n, _CHUNK):
            hi = min(lo + _CHUNK, n)
            for j in range(k, end):
                _op(r[lo:hi], g[lo:hi], b[lo:hi], ops[j], factors[j], shift)
        k = end


@njit(cache=True, nogil=True)
def _taps_along_row(row, out, w):
    """``out[i] = sum_j w_j (row[6 + i - j] + row[6 + i + j])`` in torch's order (centre, then -j, +j).

    The same sum as :func:`_taps_across_rows`, over one padded row: calling that with 13 shifted views
    of ``row`` instead made the blur about 20% slower (its per-call overlap checks, 13 arrays)."""
    w0, w1, w2, w3, w4, w5, w6 = w[0], w[1], w[2], w[3], w[4], w[5], w[6]
    for i in range(out.shape[0]):
        acc = row[i + 6] * w0
        acc += row[i + 5] * w1
        acc += row[i + 7] * w1
        acc += row[i + 4] * w2
        acc += row[i + 8] * w2
        acc += row[i + 3] * w3
        acc += row[i + 9] * w3
        acc += row[i + 2] * w4
        acc += row[i + 10] * w4
        acc += row[i + 1] * w5
        acc += row[i + 11] * w5
        acc += row[i] * w6
        acc += row[i + 12] * w6
        out[i] = acc


@njit(cache=True, nogil=True)
def _taps_across_rows(out, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, w, mean, std):
    """``out = (sum_j w_j (a[6 - j] + a[6 + j]) - mean) / std`` element-wise over rows ``a0..a12``."""
    w0, w1, w2, w3, w4, w5, w6 = w[0], w[1], w[2], w[3], w[4], w[5], w[6]
    for i in range(out.shape[0]):
        acc = a6[i] * w0
        acc += a5[i] * w1
        acc += a7[i] * w1
        acc += a4[i] * w2
        acc += a8[i] * w2
        acc += a3[i] * w3
        acc += a9[i] * w3
        acc += a2[i] * w4
        acc += a10[i] * w4
        acc += a1[i] * w5
        acc += a11[i] * w5
        acc += a0[i] * w6
        acc += a12[i] * w6
        out[i] = (acc - mean) / std


@njit(cache=True, nogil=True)
def blur_normalize(x, weights, mean, std, blur):
    """On float32 ``3 x T x H x W`` in place: a separable Gaussian blur with half kernel ``weights``
    (centre first, zero-padded to ``MAX_RADIUS + 1`` taps; reflect padding, rows then columns), if
    ``blur``; then ``(x - mean[c]) / std[c]``.  Taps past a clip's radius are zero and add nothing."""
    c_len, t_len, h, w = x.shape
    pad = MAX_RADIUS
    if not blur:
        for c in range(c_len):
            m, s = mean[c], std[c]
            for t in range(t_len):
                for y in range(h):
                    p = x[c, t, y]
                    for i in range(w):
                        p[i] = (p[i] - m) / s
        return
    row = np.empty(w + 2 * pad, np.float32)
    tmp = np.empty((h + 2 * pad, w), np.float32)  # the rows pass, reflect-padded by rows
    for c in range(c_len):
        for t in range(t_len):
            plane = x[c, t]
            for y in range(h):
                src = plane[y]
                row[pad:pad + w] = src
                for i in range(1, pad + 1):
                    row[pad - i] = src[i]
                    row[pad + w - 1 + i] = src[w - 1 - i]
                _taps_along_row(row, tmp[pad + y], weights)
            for i in range(1, pad + 1):
                tmp[pad - i] = tmp[pad + i]
                tmp[pad + h - 1 + i] = tmp[pad + h - 1 - i]
            for y in range(h):
                _taps_across_rows(plane[y], tmp[y], tmp[y + 1], tmp[y + 2], tmp[y + 3], tmp[y + 4], tmp[y + 5],
                                  tmp[y + 6], tmp[y + 7], tmp[y + 8], tmp[y + 9], tmp[y + 10], tmp[y + 11],
                                  tmp[y + 12], weights, mean[c], std[c])
