"""Write audio files: :func:`save_audio` (one array) and :func:`audio_writer` (block by block,
for streamed outputs) write mono audio atomically (a temporary file in the same folder, then a
rename), as 16-bit PCM (.wav, .flac), Vorbis (.ogg) or 32-bit float (.wav), refuse to overwrite
unless ``force=True``, refuse NaN/Inf samples, warn of samples clipped at full scale and can
embed a provenance comment."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf

from emovc.audio.formats import DEFAULT_SR, WRITE_FORMATS, check_write_target
from emovc.audio.processing import as_mono, check_sample_rate
from emovc.errors import AudioError, EmovcWarning
from emovc.fileio import atomic_output

WRITE_BLOCK = 1 << 18  # frames per call to libsndfile when writing


def save_audio(
    path: str | os.PathLike,
    wav: np.ndarray,
    sr: int = DEFAULT_SR,
    *,
    force: bool = False,
    comment: str | None = None,
    float_samples: bool = False,
) -> Path:
    """Write ``wav`` (mono, float in [-1, 1]) at ``sr`` Hz to ``path`` atomically.

    The format follows the extension (.wav → 16-bit PCM, .flac, .ogg). Parent folders are
    created. ``comment`` is stored in the file's metadata (e.g. a provenance tag). ``sr`` is
    checked as :func:`~emovc.audio.io.load_audio` checks it (a whole number of Hz;
    ``16000.0`` is 16000).
    ``float_samples`` (.wav only) stores 32-bit float samples instead of 16-bit PCM: the
    samples are kept as given, without the quantisation noise that 16-bit PCM adds at about
    -101 dBFS (a measurement of quiet audio, e.g. a vocoder baseline of a take at -60 dBFS).

    Raises:
        OutputExistsError: the target exists and ``force`` is false.
        AudioError: the extension is unsupported (or not .wav with ``float_samples``); the
            samples are not finite mono floats
            (``(n,)``, ``(n, 1)`` or ``(1, n)``) or there are none; ``sr`` is not a positive
            whole number of Hz of at least 1000.
    """
    shape = np.shape(wav)
    check_write_target(Path(path), force)
    if len(shape) == 2 and 1 not in shape:  # as_mono would mix it down: writing is explicit
        raise AudioError(f"save_audio writes mono audio of shape (n,), got shape {shape} "
                         "(mix the channels down first, e.g. wav.mean(axis=1))")
    wav = as_mono(wav, "audio to save")  # float samples only; (n, 1) and (1, n) squeezed
    if wav.size == 0:  # load_audio refuses the file it would make
        raise AudioError(f"refusing to save audio with no samples: {path}")
    with audio_writer(path, sr, force=force, comment=comment, float_samples=float_samples,
                      _stacklevel=4) as write:
        write(wav)  # refuses NaN/Inf before anything is kept
    return Path(path)


@contextmanager
def audio_writer(path: str | os.PathLike, sr: int = DEFAULT_SR, *, force: bool = False,
                 comment: str | None = None, float_samples: bool = False,
                 _stacklevel: int = 3) -> Iterator[Callable[[np.ndarray], None]]:
    """:func:`save_audio` block by block: yields ``write(block)`` for consecutive mono float32
    ``(k,)`` blocks; the file appears at ``path`` only when the block exits without an
    exception (same format, checks and clipping as :func:`save_audio`; no block, or only
    empty ones, is an :class:`AudioError`)."""
    p = Path(path)
    sr = check_sample_rate(sr, "sr")
    ext = check_write_target(p, force)
    if float_samples and ext != ".wav":
        raise AudioError(f"float samples are written to .wav files only, not {ext!r}: {p}")
    subtype = "FLOAT" if float_samples else "PCM_16" if ext in (".wav", ".flac") else None
    clipped = [0, 0.0, 0]  # samples beyond full scale, their peak; samples written
    with atomic_output(p, suffix=ext) as tmp, sf.SoundFile(
            tmp, "w", samplerate=sr, channels=1, format=WRITE_FORMATS[ext],
            subtype=subtype) as f:
        if comment:
            f.comment = comment

        def write(block: np.ndarray) -> None:
            block = np.asarray(block, np.float32)
            if not np.all(np.isfinite(block)):
                raise AudioError("refusing to save audio containing NaN or Inf samples")
            clipped[2] += block.size
            over = np.abs(block) > 1.0
            if over.any():
                clipped[0] += int(over.sum())
                clipped[1] = max(clipped[1], float(np.abs(block).max()))
            # at most WRITE_BLOCK frames per call: libsndfile 1.2.2's Vorbis encoder crashes
            # (SIGSEGV) on one write of 2**21 samples or more
            for s in range(0, block.shape[0], WRITE_BLOCK):
                f.write(np.clip(block[s:s + WRITE_BLOCK], -1.0, 1.0))

        yield write
        if not clipped[2]:  # load_audio refuses the file it would make
            raise AudioError(f"refusing to save audio with no samples: {p}")
    if clipped[0]:  # written, but say so: the file is distorted
        warnings.warn(f"{p}: {clipped[0]} sample(s) beyond full scale were clipped (peak "
                      f"{clipped[1]:.3g}); scale the audio into [-1, 1] to avoid distortion",
                      EmovcWarning, stacklevel=_stacklevel)  # the line that wrote it
