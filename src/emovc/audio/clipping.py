"""Clipped recordings: samples stuck at full scale (``emovc info`` reports it, ``convert`` warns).

A clipped recording holds runs of consecutive samples at full scale (flat tops); speech that
merely peaks near full scale does not (a file peak-normalised to 0 dBFS has one such
sample). None of the 1491 clips of RAVDESS, VCTK and LibriSpeech in ``shared/data`` has a
single sample in such a run; speech amplified 4 times and hard-clipped has 7.9 % of its
samples in them (audit s38 L2). Only clear cases count: at least
:data:`MIN_CLIPPED_SHARE` of the samples, at full scale itself (clipping followed by a gain
change is not detected).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import soundfile as sf

from emovc.errors import EmovcWarning

FULL_SCALE = 0.999  # |sample| at or above this is at full scale (int16's largest: 0.99997)
MIN_CLIPPED_SHARE = 1e-3  # share of samples in full-scale runs that makes a file "clipped"
BLOCK = 1 << 18  # frames per decoded block


def full_scale_run_samples(x: np.ndarray) -> int:
    """How many samples of mono ``(n,)`` ``x`` lie in runs of two or more consecutive
    samples at full scale of the same sign (flat tops). Samples beyond full scale (a float
    file's, which may exceed ±1) are not at it: such a recording was not clipped there (a
    float WAV 3 dB over full scale measured 0.1 % "clipped" when they counted)."""
    x = np.asarray(x)
    mag = np.abs(x)
    top = (mag >= FULL_SCALE) & (mag <= 1.0)
    pair = top[1:] & top[:-1] & (np.sign(x[1:]) == np.sign(x[:-1]))
    in_run = np.zeros(x.shape[0], bool)
    in_run[1:] |= pair
    in_run[:-1] |= pair
    return int(in_run.sum())


def clipped_share(data: np.ndarray) -> float:
    """Share (0..1) of the samples of ``(n, channels)`` float audio in full-scale runs,
    channel by channel (:func:`full_scale_run_samples`)."""
    data = np.asarray(data)
    if data.size == 0:
        return 0.0
    return sum(full_scale_run_samples(c) for c in data.T) / data.size


def file_clipped_share(path: str | os.PathLike) -> float:
    """:func:`clipped_share` of an audio file at its own rate, decoded in blocks (runs across
    a block boundary are counted in part); 0 for a file soundfile cannot read."""
    count = total = 0
    try:
        with sf.SoundFile(str(path)) as f:
            for block in f.blocks(BLOCK, dtype="float32", always_2d=True):
                count += sum(full_scale_run_samples(c) for c in block.T)
                total += block.size
    except (RuntimeError, sf.LibsndfileError):  # its loader decodes (or refuses) it
        return 0.0
    return count / total if total else 0.0


def clipping_note(path: str | os.PathLike, share: float) -> str:
    """One line saying that ``path`` is clipped when ``share`` (:func:`clipped_share`) is at
    least :data:`MIN_CLIPPED_SHARE`; else ``""``."""
    if share < MIN_CLIPPED_SHARE:
        return ""
    return (f"{path} is clipped: {100 * share:.1f} % of its samples sit at full scale; the "
            "distortion is kept in what is made of it (record at a lower gain if you can)")


def warn_if_clipped(path: str | os.PathLike) -> None:
    """One :class:`~emovc.errors.EmovcWarning` line when the file ``path`` is clipped
    (:func:`clipping_note`)."""
    note = clipping_note(path, file_clipped_share(path))
    if note:
        warnings.warn(note, EmovcWarning, stacklevel=3)
