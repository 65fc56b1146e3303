"""Fixed-window processing with overlap-add, so memory stays flat in the input length.

A long signal (or feature sequence along its first axis) is cut into windows of ``size``
samples/frames that overlap by ``overlap``; each window is processed independently and the
results are cross-faded back together with a Hann-shaped taper over the overlaps::

    |<---- size ---->|
    [ window 0       ]
               [ window 1       ]
               |ovl|
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emovc.errors import AudioError


def split_windows(n: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Return ``[(start, end), ...]``: the fewest windows of at most ``size`` covering
    ``range(n)``, all of one length (±1) and overlapping by ``overlap`` (±1).

    Equal windows keep every overlap at ``overlap``: shifting only the last window left to
    end at ``n`` made its overlap up to ``size - overlap`` long (19 s of a 21 s input with
    20 s windows), a long blend of two independently processed windows.
    """
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"need size > 0 and 0 <= overlap < size, got {size=}, {overlap=}")
    if n <= size:
        return [(0, n)]
    k = -(-(n - overlap) // (size - overlap))  # ceil: windows needed at full size
    step = (n - overlap) / k  # k windows of length step + overlap end exactly at n
    edges = [int(round(i * step)) for i in range(k + 1)]
    return [(edges[i], min(n, edges[i + 1] + overlap)) for i in range(k)]


def _fade_weights(length: int, fade_in: int, fade_out: int) -> np.ndarray:
    w = np.ones(length, dtype=np.float64)
    if fade_in > 0:
        w[:fade_in] = np.sin(0.5 * np.pi * (np.arange(fade_in) + 0.5) / fade_in) ** 2
    if fade_out > 0:
        w[length - fade_out:] *= np.cos(0.5 * np.pi * (np.arange(fade_out) + 0.5) / fade_out) ** 2
    return w


def overlap_add(pieces: list[np.ndarray], bounds: list[tuple[int, int]], n: int) -> np.ndarray:
    """Cross-fade processed windows back into one array of length ``n`` along axis 0.

    ``pieces[i]`` must have ``bounds[i][1] - bounds[i][0]`` rows; trailing axes are kept.
    Weights are normalised, so identical pieces reproduce the original exactly.
    """
    out = np.zeros((n, *pieces[0].shape[1:]), dtype=np.float64)
    norm = np.zeros(n, dtype=np.float64)
    for i, ((s, e), piece) in enumerate(zip(bounds, pieces, strict=True)):
        fade_in = bounds[i - 1][1] - s if i > 0 else 0
        fade_out = e - bounds[i + 1][0] if i + 1 < len(bounds) else 0
        w = _fade_weights(e - s, max(fade_in, 0), max(fade_out, 0))
        out[s:e] += piece * w.reshape(-1, *([1] * (piece.ndim - 1)))
        norm[s:e] += w
    norm = np.maximum(norm, 1e-8).reshape(-1, *([1] * (out.ndim - 1)))
    return (out / norm).astype(pieces[0].dtype)


def process_in_windows(x: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], size: int,
                       overlap: int) -> np.ndarray:
    """Apply ``fn`` (length-preserving along axis 0) window by window and overlap-add."""
    bounds = split_windows(len(x), size, overlap)
    pieces = [np.asarray(fn(x[s:e])) for s, e in bounds]
    for (s, e), p in zip(bounds, pieces, strict=True):
        if len(p) != e - s:
            raise ValueError(f"window function changed length {e - s} -> {len(p)}")
    return overlap_add(pieces, bounds, len(x))


def quietest_point(x: np.ndarray, start: int, end: int, frame: int) -> int:
    """Centre of the ``frame``-sample stretch of ``x[start:end]`` with the least energy."""
    seg = np.asarray(x[start:end], np.float64)
    if frame <= 0 or seg.shape[0] <= frame:
        return (start + end) // 2
    energy = np.convolve(seg * seg, np.ones(frame), mode="valid")
    return start + int(np.argmin(energy)) + frame // 2


def process_in_tempo_windows(x: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], size: int,
                             overlap: int,
                             fallback: Callable[[np.ndarray], np.ndarray] | None = None,
                             fade: int | None = None) -> np.ndarray:
    """Apply ``fn`` (``(m,)`` -> ``(≈ m * tempo,)``, one tempo for the whole input) at once, or
    beyond ``size`` samples window by window (overlapping by ``overlap``), joining the outputs
    at their tempo-scaled positions; memory stays flat in the input length.

    ``fade`` (samples of input): the windows are joined by a cross-fade this long, centred on
    the quietest stretch of the input inside each overlap — two independently converted
    windows differ in phase and pitch marks, so a cross-fade over the whole overlap would
    blend them (comb filtering, a level dip of up to 3 dB); ``None`` fades over the whole
    overlap. ``fallback`` (same contract) processes a window on which ``fn`` raises
    :class:`~emovc.errors.AudioError` — e.g. one without speech in a long recording — so one
    such window does not fail the whole input; an input short enough for one window raises."""
    if x.shape[0] <= size:
        return fn(x)
    bounds = split_windows(x.shape[0], size, overlap)
    cuts = list(bounds)
    if fade is not None and fade < overlap:
        half = max(fade // 2, 1)
        seams = [quietest_point(x, bounds[i + 1][0] + half, bounds[i][1] - half, fade)
                 for i in range(len(bounds) - 1)]
        cuts = [(bounds[i][0] if i == 0 else seams[i - 1] - half,
                 bounds[i][1] if i == len(bounds) - 1 else seams[i] + half)
                for i in range(len(bounds))]
    pieces, out_bounds = [], []
    for (s, e), (cs, ce) in zip(bounds, cuts, strict=True):
        try:
            y = fn(x[s:e])
        except AudioError:
            if fallback is None:
                raise
            y = fallback(x[s:e])
        tempo = y.shape[0] / (e - s)
        lo, hi = int(round((cs - s) * tempo)), int(round((ce - s) * tempo))
        hi = min(hi, y.shape[0]) if ce < e else y.shape[0]
        pieces.append(y[lo:hi])
        start = int(round(s * tempo)) + lo
        out_bounds.append((start, start + hi - lo))
    n_out = max(e for _, e in out_bounds)
    return overlap_add(pieces, out_bounds, n_out).astype(np.float32)
