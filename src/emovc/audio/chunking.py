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
    """Return ``[(start, end), ...]`` windows covering ``range(n)``.

    The last window is shifted left to end at ``n`` (when ``n >= size``) so every window but
    possibly a single short one has full length.
    """
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"need size > 0 and 0 <= overlap < size, got {size=}, {overlap=}")
    if n <= size:
        return [(0, n)]
    step = size - overlap
    starts = list(range(0, n - size + 1, step))
    if starts[-1] + size < n:
        starts.append(n - size)
    return [(s, s + size) for s in starts]


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


def process_in_tempo_windows(x: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], size: int,
                             overlap: int,
                             fallback: Callable[[np.ndarray], np.ndarray] | None = None,
                             ) -> np.ndarray:
    """Apply ``fn`` (``(m,)`` -> ``(≈ m * tempo,)``, one tempo for the whole input) at once, or
    beyond ``size`` samples window by window (overlapping by ``overlap``), cross-fading the
    outputs at their tempo-scaled positions; memory stays flat in the input length.

    ``fallback`` (same contract) processes a window on which ``fn`` raises
    :class:`~emovc.errors.AudioError` — e.g. one without speech in a long recording — so one
    such window does not fail the whole input; an input short enough for one window raises."""
    if x.shape[0] <= size:
        return fn(x)
    pieces, out_bounds = [], []
    for s, e in split_windows(x.shape[0], size, overlap):
        try:
            y = fn(x[s:e])
        except AudioError:
            if fallback is None:
                raise
            y = fallback(x[s:e])
        tempo = y.shape[0] / (e - s)
        pieces.append(y)
        out_bounds.append((int(round(s * tempo)), int(round(s * tempo)) + y.shape[0]))
    n_out = max(e for _, e in out_bounds)
    return overlap_add(pieces, out_bounds, n_out).astype(np.float32)
