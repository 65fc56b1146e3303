"""The last stage of an emotion conversion: burst limit, edge pauses and output level.

Each step exists twice with the same arithmetic: on whole arrays (:func:`limit_bursts`,
:func:`keep_edge_pauses`, :func:`with_level_change`) and streamed
(:class:`StreamFinisher`), which reads the converted audio back from a :class:`Spool` (a
temporary file for long inputs) so that a long conversion holds only blocks of it. Mono
float32 audio throughout; ``x`` is the input, ``y`` its conversion, both at ``sr`` Hz.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from emovc.audio.processing import (
    PEAK_LIMIT,
    active_level_of,
    active_rms_dbfs,
    fit_pause,
    frame_power,
    level_hop,
    loudness_gain,
    normalize_loudness,
    rms_dbfs,
    soft_compress,
    soft_limit,
    speech_bounds,
)

MAX_OUTPUT_DBFS = -16.0  # a level change never pushes the active speech level above this
BURST_HEADROOM_DB = 6.0  # a converted frame may be this much louder than the input's loudest
BURST_FRAME_MS = 5.0
BLOCK = 1 << 16  # samples per streamed block (4 s at 16 kHz)


def _frame_db(power: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(power + 1e-12)


def burst_gain(x: np.ndarray, y_power: np.ndarray, y_len: int, frame: int,
               headroom_db: float = BURST_HEADROOM_DB) -> tuple[np.ndarray, np.ndarray] | None:
    """``(centres, gain_db)``: the per-frame gain (dB, at frame centres in samples) bringing
    every ``frame``-sample frame of a ``y_len``-sample ``y`` (mean powers ``y_power``) above
    the input ``x``'s loudest frame + ``headroom_db`` down to that bound; ``None`` when no
    frame is over it, or either signal is too short to frame.

    A running minimum over 5 frames, then their mean: every frame gets at least the
    attenuation it needs, and the gain ramps over 5 frames instead of jumping (no clicks)."""
    if y_len < 2 * frame or x.shape[0] < frame:
        return None
    x_peak_db = float(_frame_db(frame_power(x, frame)).max())
    over = np.minimum(0.0, x_peak_db + headroom_db - _frame_db(y_power))
    if not over.any():
        return None
    widened = np.lib.stride_tricks.sliding_window_view(np.pad(over, 2), 5).min(axis=1)
    gain_db = np.convolve(np.pad(widened, 2, mode="edge"), np.ones(5) / 5.0, "valid")
    return (np.arange(gain_db.shape[0]) + 0.5) * frame, gain_db


def apply_gain_curve(block: np.ndarray, offset: int,
                     curve: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """``block`` (samples ``offset...`` of a signal) times a :func:`burst_gain` curve."""
    if curve is None:
        return block
    per_sample = np.interp(np.arange(offset, offset + block.shape[0]), *curve)
    return (block * 10.0 ** (per_sample / 20.0)).astype(block.dtype)


def limit_bursts(y: np.ndarray, x: np.ndarray, sr: int,
                 headroom_db: float = BURST_HEADROOM_DB,
                 frame_ms: float = BURST_FRAME_MS) -> np.ndarray:
    """``y`` (a conversion of ``x``, at ``x``'s level) with every ``frame_ms`` frame louder
    than ``x``'s loudest frame + ``headroom_db`` brought down to that bound (:func:`burst_gain`).

    A converter's generator can put a burst of energy at a voicing onset (``m2m-ravdess``
    to disgust: +12 to +20 dB over 20-40 ms in about a quarter of the takes); after the
    output level is set, the rest of the speech would be that much quieter. Returns ``y``
    itself when no frame is over the bound.
    """
    frame = max(1, int(round(sr * frame_ms / 1000.0)))
    curve = burst_gain(x, frame_power(y, frame), y.shape[0], frame, headroom_db)
    return y if curve is None else apply_gain_curve(y, 0, curve)


def edge_cuts(x: np.ndarray, m: int, top_db: float = 35.0) -> tuple[int, int, int, int] | None:
    """Where :func:`keep_edge_pauses` cuts an ``m``-sample conversion of ``x``: ``(start,
    end)`` of the speech in ``x`` and ``(ys, ye)`` in the conversion; ``None`` when the
    lengths are equal (no tempo change) or either is empty."""
    if len(x) == 0 or m == 0 or m == len(x):
        return None
    start, end = speech_bounds(x, top_db)
    scale = m / len(x)
    ys = min(max(int(round(start * scale)), 0), m)
    ye = min(max(int(round(end * scale)), ys), m)
    return start, end, ys, ye


def keep_edge_pauses(y: np.ndarray, x: np.ndarray, top_db: float = 35.0) -> np.ndarray:
    """``y``, a uniformly time-scaled version of ``x`` (``len(y) / len(x)`` = the tempo
    factor), with its leading and trailing pauses set back to the lengths they have in ``x``:
    a tempo change then applies to the speech, not to the silence around it.

    Each pause is cut on its outer side or extended outwards with a mirrored copy of itself
    (no jump at the joint). Without a clear pause (``x`` loud throughout) nothing changes.

    Returns:
        float32 audio of ``len(x) + (speech length in x) * (tempo - 1)`` samples.
    """
    y = np.asarray(y, dtype=np.float32)
    cuts = edge_cuts(x, len(y), top_db)
    if cuts is None:
        return y.copy()
    start, end, ys, ye = cuts
    head = fit_pause(y[:ys], start, at_start=True)
    tail = fit_pause(y[ye:], len(x) - end, at_start=False)
    return np.concatenate([head, y[ys:ye], tail]).astype(np.float32)


def output_level(x: np.ndarray, sr: int, change_db: float) -> float:
    """Active level (dBFS) a conversion of ``x`` gets: ``x``'s plus ``change_db`` (the
    emotion's vocal effort), at most MAX_OUTPUT_DBFS unless ``x`` is already louder."""
    level = active_rms_dbfs(x, sr)
    return min(level + change_db, max(level, MAX_OUTPUT_DBFS))


def with_level_change(y: np.ndarray, x: np.ndarray, sr: int, change_db: float) -> np.ndarray:
    """``y`` at :func:`output_level`; peaks above full scale are soft-limited below
    PEAK_LIMIT, not clipped."""
    level = output_level(x, sr, change_db)
    return soft_limit(normalize_loudness(y, sr, level, peak_limit=np.inf), ceiling=PEAK_LIMIT)


class Spool:
    """Append-only float32 samples with random read access: in memory, or in a temporary
    file under ``directory`` (deleted by :meth:`close`) so a long output costs no memory."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self._blocks: list[np.ndarray] = []
        self._file = None
        if directory is not None:
            self._file = tempfile.TemporaryFile(dir=Path(directory), suffix=".f32")
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=np.float32)
        if self._file is not None:
            self._file.seek(0, os.SEEK_END)
            self._file.write(block.tobytes())
        else:
            self._blocks.append(block)
        self._n += block.shape[0]

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` (clipped to the length) as a new float32 array."""
        start, stop = max(start, 0), min(stop, self._n)
        if stop <= start:
            return np.zeros(0, np.float32)
        if self._file is not None:
            self._file.seek(4 * start)
            return np.frombuffer(self._file.read(4 * (stop - start)), np.float32).copy()
        if len(self._blocks) > 1:  # in memory: one array, read by slicing
            self._blocks = [np.concatenate(self._blocks)]
        return self._blocks[0][start:stop].copy()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._blocks = []


class FramePowers:
    """:func:`~emovc.audio.processing.frame_power` of a signal fed in blocks (same values)."""

    def __init__(self, frame: int):
        self.frame = frame
        self._carry = np.zeros(0, np.float32)
        self._parts: list[np.ndarray] = []

    def feed(self, block: np.ndarray) -> None:
        buf = np.concatenate([self._carry, block]) if self._carry.size else block
        whole = (buf.shape[0] // self.frame) * self.frame
        self._parts.append(frame_power(buf[:whole], self.frame))
        self._carry = np.array(buf[whole:], np.float32)

    def result(self) -> np.ndarray:
        return np.concatenate(self._parts) if self._parts else np.zeros(0)


class StreamFinisher:
    """:func:`limit_bursts` → :func:`keep_edge_pauses` → :func:`with_level_change` for a
    conversion fed in blocks, with the same output as the three on whole arrays.

    :meth:`append` the converted blocks (kept in ``spool``), then iterate :meth:`blocks` for
    the finished output. The level and the limiter need the whole output's statistics, so the
    spooled conversion is read twice; besides ``x``, only blocks are held in memory.

    Args:
        x: the input ``(n,)`` at ``sr`` Hz.
        change_db: the level change of the output relative to ``x`` (:func:`output_level`).
        spool: where the converted samples wait (:class:`Spool`; a temporary file for long
            inputs).
    """

    def __init__(self, x: np.ndarray, sr: int, change_db: float, spool: Spool):
        self.x, self.sr, self.change_db, self.spool = x, sr, change_db, spool
        self._frame = max(1, int(round(sr * BURST_FRAME_MS / 1000.0)))
        self._bursts = FramePowers(self._frame)

    def append(self, block: np.ndarray) -> None:
        """Add the next converted samples (float32 ``(k,)``, at ``x``'s level)."""
        block = np.asarray(block, np.float32)
        self.spool.append(block)
        self._bursts.feed(block)

    def blocks(self, size: int = BLOCK) -> Iterator[np.ndarray]:
        """The finished output in float32 blocks of about ``size`` samples."""
        curve = burst_gain(self.x, self._bursts.result(), len(self.spool), self._frame)
        cuts = edge_cuts(self.x, len(self.spool))
        hop = level_hop(self.sr)
        levels, peak, n = FramePowers(hop), 0.0, 0
        for b in self._shaped(curve, cuts, size):
            if b.size:
                levels.feed(b)
                peak = max(peak, float(np.abs(b).max()))
                n += b.shape[0]
        if n // hop < 2:
            level = rms_dbfs(np.concatenate(list(self._shaped(curve, cuts, size))
                                            or [np.zeros(0)]))
        else:
            level = active_level_of(levels.result())
        gain = loudness_gain(level, output_level(self.x, self.sr, self.change_db))
        # |float32(y * gain)| peaks at float32(peak * gain): rounding is monotone
        out_peak = peak if gain is None else float(np.float32(peak * gain))
        for b in self._shaped(curve, cuts, size):
            out = b.copy() if gain is None else (b.astype(np.float64) * gain).astype(np.float32)
            yield soft_compress(out, PEAK_LIMIT) if out_peak > PEAK_LIMIT else out

    def _shaped(self, curve, cuts, size: int) -> Iterator[np.ndarray]:
        """The burst-limited conversion with the input's edge pauses (``cuts``:
        :func:`edge_cuts`), in blocks."""
        m = len(self.spool)

        def limited(a: int, b: int) -> np.ndarray:
            return apply_gain_curve(self.spool.read(a, b), a, curve)

        start, end, ys, ye = cuts if cuts is not None else (0, 0, 0, m)
        if cuts is not None:
            yield fit_pause(limited(0, ys), start, at_start=True)
        for a in range(ys, ye, size):
            yield limited(a, min(a + size, ye))
        if cuts is not None:
            yield fit_pause(limited(ye, m), len(self.x) - end, at_start=False)
