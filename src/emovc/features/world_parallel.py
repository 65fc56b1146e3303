"""WORLD analysis and synthesis on two threads (pyworld releases the GIL): DIO + StoneMask
on two overlapping halves of a signal, and synthesis in two pieces split at an unvoiced
stretch. The conversion pipelines use these; :mod:`emovc.features.world` holds the one-piece
calls they split.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyworld

from emovc.features.world import WorldConfig, synthesize, track_f0

# pyworld releases the GIL, so its C routines run in parallel threads (measured 1.9x on 2
# cores); one pool per process serves analysis and split synthesis.
_POOL: ThreadPoolExecutor | None = None
_POOL_PID = -1


def world_pool() -> ThreadPoolExecutor:
    """This process's 2-thread pool for concurrent pyworld calls (created lazily and again
    after a fork: a forked child inherits the pool object but not its threads)."""
    global _POOL, _POOL_PID
    if _POOL is None or _POOL_PID != os.getpid():
        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="emovc-world")
        _POOL_PID = os.getpid()
    return _POOL


def f0_parallel(x: np.ndarray, cfg: WorldConfig, margin_s: float = 0.3, dio_speed: int = 1,
                ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`analyze_f0` on two threads: DIO on two halves of the signal that overlap by
    ``margin_s`` on each side of the cut (DIO's estimate depends mostly on nearby samples: the
    joined track differed from the one-piece track in 22 of 22,211 frames of 30 RAVDESS
    takes), StoneMask on the two frame halves (frame-wise). Harvest or short inputs: one
    piece. ``dio_speed`` is DIO's internal decimation (1 = full rate; see
    :data:`emovc.models.conversion.features.CONVERSION_DIO_SPEED`). Returns
    ``(f0 (T,), times (T,))`` like :func:`analyze_f0`.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    fs, fp = cfg.sample_rate, cfg.frame_period
    hop = fs * fp / 1000.0
    n_frames = cfg.n_frames(x.shape[0])
    margin = int(round(margin_s * fs / hop))
    if cfg.f0_method != "dio" or n_frames < 4 * margin or hop != int(hop):
        return track_f0(x, cfg, dio_speed)
    h, hop = n_frames // 2, int(hop)
    lo = (h - margin) * hop

    def dio(seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return pyworld.dio(np.ascontiguousarray(seg), fs, f0_floor=cfg.f0_floor,
                           f0_ceil=cfg.f0_ceil, frame_period=fp, speed=dio_speed)

    (fa, _), (fb, _) = world_pool().map(dio, [x[:(h + margin) * hop], x[lo:]])
    raw = np.concatenate([fa[:h], fb[margin:margin + n_frames - h]])
    t = np.arange(n_frames) * fp / 1000.0
    halves = [(0, h), (h, n_frames)]
    f0 = np.concatenate(list(world_pool().map(
        lambda r: pyworld.stonemask(x, np.ascontiguousarray(raw[r[0]:r[1]]),
                                    np.ascontiguousarray(t[r[0]:r[1]]), fs), halves)))
    return f0, t


def _unvoiced_split(f0: np.ndarray, overlap: int) -> int | None:
    """Centre of the longest unvoiced run (≥ ``2 * overlap`` frames) in the middle half of
    ``f0``, or ``None``: splitting there keeps the cross-fade free of excitation pulses."""
    t = f0.shape[0]
    lo, hi = t // 4, 3 * t // 4
    best, start = (0, None), None
    for k in range(lo, hi + 1):
        unvoiced = k < hi and f0[k] <= 0
        if unvoiced and start is None:
            start = k
        elif not unvoiced and start is not None:
            if k - start > best[0]:
                best = (k - start, (start + k) // 2)
            start = None
    return best[1] if best[0] >= 2 * overlap else None


def synthesize_parallel(f0: np.ndarray, sp: np.ndarray, ap: np.ndarray,
                        cfg: WorldConfig = WorldConfig(), overlap: int = 5) -> np.ndarray:
    """:func:`synthesize` in two pieces on two threads.

    The split point is an unvoiced stretch near the middle (WORLD places excitation pulses by
    the F0 phase accumulated from the start, so two pieces joined inside voiced speech would
    have misaligned pulses); the pieces share ``2 * overlap`` frames there and are cross-faded
    linearly over the middle ``overlap`` of them. Without such a stretch the input is
    synthesised in one piece. Returns ``(n,)`` float32, the length :func:`synthesize` gives.
    """
    f0 = np.asarray(f0, dtype=np.float64).reshape(-1)
    mid = _unvoiced_split(f0, overlap)
    if mid is None:
        return synthesize(f0, sp, ap, cfg)
    t = f0.shape[0]
    a_end, b_start = mid + overlap, mid - overlap
    parts = list(world_pool().map(
        lambda r: synthesize(f0[r[0]:r[1]], sp[r[0]:r[1]], ap[r[0]:r[1]], cfg),
        [(0, a_end), (b_start, t)]))
    hop = cfg.sample_rate * cfg.frame_period / 1000.0
    b0 = int(round(b_start * hop))
    out = np.empty(b0 + parts[1].shape[0], np.float32)
    x0, x1 = int(round((mid - overlap // 2) * hop)), int(round((mid + overlap // 2) * hop))
    fade = np.linspace(1.0, 0.0, x1 - x0, dtype=np.float32)
    out[:x0] = parts[0][:x0]
    out[x0:x1] = parts[0][x0:x1] * fade + parts[1][x0 - b0:x1 - b0] * (1.0 - fade)
    out[x1:] = parts[1][x1 - b0:]
    return out
