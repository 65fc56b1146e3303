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

from collections.abc import Callable, Iterator

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

    ``pieces[i]`` must have ``bounds[i][1] - bounds[i][0]`` rows, in order of their start;
    trailing axes are kept. Weights are normalised, so identical pieces reproduce the original
    exactly (:class:`OverlapJoiner` on the whole list).
    """
    joiner = OverlapJoiner()
    parts = [joiner.add(p, b) for p, b in zip(pieces, bounds, strict=True)]
    return np.concatenate([*parts, joiner.finish(n)])


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


class OverlapJoiner:
    """:func:`overlap_add` streamed: pieces (along axis 0; trailing axes kept) arriving in
    order of their start are weighted, summed and normalised in float64 and emitted block by
    block, so a long join never holds more than two pieces.

    ``add(piece, (start, end))`` for each piece, then ``finish(n)``; both return the output
    samples that became final (later pieces must not start before an earlier one's start).
    A piece's fade-out needs the next piece's start, so each is mixed in one call late.
    """

    def __init__(self) -> None:
        self._pending: tuple[np.ndarray, tuple[int, int]] | None = None
        self._prev_end: int | None = None  # end of the piece mixed in before the pending one
        self._base = 0  # output index of _acc[0]; everything before it has been emitted
        self._acc: np.ndarray | None = None  # (k, *trailing) float64, made by the first piece
        self._norm = np.zeros(0, np.float64)
        self._dtype = None

    def add(self, piece: np.ndarray, bounds: tuple[int, int]) -> np.ndarray:
        """Take ``piece`` for output samples ``bounds``; returns the samples now final."""
        piece = np.asarray(piece)
        if self._dtype is None:
            self._dtype = piece.dtype
            self._acc = np.zeros((0, *np.shape(piece)[1:]), np.float64)
        if bounds[0] < self._base:
            raise ValueError(f"pieces out of order: one starts at {bounds[0]} after "
                             f"output up to {self._base} was final")
        done = np.zeros((0, *np.shape(piece)[1:]), self._dtype)
        if self._pending is not None:
            self._mix(bounds[0])
            done = self._emit(bounds[0])
        self._pending = (piece, bounds)
        return done

    def finish(self, n: int) -> np.ndarray:
        """Mix the last piece in and return the rest of the ``n``-sample output."""
        if self._pending is not None:
            self._mix(None)
        return self._emit(n)

    def _mix(self, next_start: int | None) -> None:
        piece, (s, e) = self._pending
        fade_in = self._prev_end - s if self._prev_end is not None else 0
        fade_out = e - next_start if next_start is not None else 0
        w = _fade_weights(e - s, max(fade_in, 0), max(fade_out, 0))
        if e - self._base > self._acc.shape[0]:
            grow = e - self._base - self._acc.shape[0]
            self._acc = np.concatenate([self._acc, np.zeros((grow, *self._acc.shape[1:]))])
            self._norm = np.concatenate([self._norm, np.zeros(grow)])
        self._acc[s - self._base:e - self._base] += piece * _column(w, piece.ndim)
        self._norm[s - self._base:e - self._base] += w
        self._prev_end, self._pending = e, None

    def _emit(self, upto: int) -> np.ndarray:
        """Output samples ``[base, upto)``, normalised as :func:`overlap_add` does."""
        k = max(upto - self._base, 0)
        if self._acc is None:  # no piece at all
            return np.zeros(k, np.float64)
        acc, norm = self._acc[:k], self._norm[:k]
        if k > acc.shape[0]:  # a gap no piece covers: zeros
            acc = np.concatenate([acc, np.zeros((k - acc.shape[0], *acc.shape[1:]))])
            norm = np.concatenate([norm, np.zeros(k - norm.shape[0])])
        out = (acc / _column(np.maximum(norm, 1e-8), acc.ndim)).astype(self._dtype)
        self._acc, self._norm = self._acc[k:].copy(), self._norm[k:].copy()
        self._base += k
        return out


def _column(v: np.ndarray, ndim: int) -> np.ndarray:
    """``(k,)`` ``v`` shaped to multiply ``(k, ...)`` arrays of ``ndim`` axes row by row."""
    return v.reshape(-1, *([1] * (ndim - 1)))


def process_in_tempo_windows(x: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], size: int,
                             overlap: int,
                             fallback: Callable[[np.ndarray], np.ndarray] | None = None,
                             fade: int | None = None) -> np.ndarray:
    """:func:`iter_tempo_windows` joined into one float32 array."""
    blocks = list(iter_tempo_windows(x, fn, size, overlap, fallback, fade))
    return np.concatenate(blocks).astype(np.float32) if blocks else np.zeros(0, np.float32)


def iter_tempo_windows(x: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], size: int,
                       overlap: int,
                       fallback: Callable[[np.ndarray], np.ndarray] | None = None,
                       fade: int | None = None) -> Iterator[np.ndarray]:
    """Apply ``fn`` (``(m,)`` -> ``(≈ m * tempo,)``, one tempo for the whole input) at once, or
    beyond ``size`` samples window by window (overlapping by ``overlap``), joining the outputs
    at their tempo-scaled positions; yields the output in consecutive float32 blocks as they
    become final, so memory stays flat in the input length.

    ``fade`` (samples of input): the windows are joined by a cross-fade this long, centred on
    the quietest stretch of the input inside each overlap — two independently converted
    windows differ in phase and pitch marks, so a cross-fade over the whole overlap would
    blend them (comb filtering, a level dip of up to 3 dB); ``None`` fades over the whole
    overlap. ``fallback`` (same contract) processes a window on which ``fn`` raises
    :class:`~emovc.errors.AudioError` — e.g. one without speech in a long recording — so one
    such window does not fail the whole input; an input short enough for one window raises."""
    if x.shape[0] <= size:
        yield np.asarray(fn(x)).astype(np.float32)
        return
    bounds = split_windows(x.shape[0], size, overlap)
    cuts = list(bounds)
    if fade is not None and fade < overlap:
        half = max(fade // 2, 1)
        seams = [quietest_point(x, bounds[i + 1][0] + half, bounds[i][1] - half, fade)
                 for i in range(len(bounds) - 1)]
        cuts = [(bounds[i][0] if i == 0 else seams[i - 1] - half,
                 bounds[i][1] if i == len(bounds) - 1 else seams[i] + half)
                for i in range(len(bounds))]
    joiner, n_out = OverlapJoiner(), 0
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
        start = int(round(s * tempo)) + lo
        n_out = max(n_out, start + hi - lo)
        yield joiner.add(y[lo:hi], (start, start + hi - lo)).astype(np.float32)
    yield joiner.finish(n_out).astype(np.float32)
