"""Read and write audio files.

``load_audio`` decodes wav/flac/ogg/aiff (libsndfile via soundfile) and mp3 (libsndfile ≥ 1.1,
else librosa/audioread as a fallback), mixes to mono and resamples with soxr (high quality).
``save_audio`` writes atomically (temporary file in the same folder, then rename), refuses to
overwrite unless ``force=True`` and can embed a provenance comment.

This module reads (headers, decoding, damaged files' decodable start, resampling); the formats
and default rate are in :mod:`emovc.audio.formats`, the mono mix (DC offset, cancelling
channels) in :mod:`emovc.audio.mixdown`, a WAV header's declared length in
:mod:`emovc.audio.wav_header`, and writing (:func:`save_audio`, :func:`audio_writer`) in
:mod:`emovc.audio.writing`; their names are importable from here as before.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from emovc.audio.formats import (  # noqa: F401 — re-exported: imported from emovc.audio.io
    DEFAULT_SR,
    SUPPORTED_EXTENSIONS,
    WRITE_FORMATS,
    check_audio_path,
)
from emovc.audio.mixdown import (  # noqa: F401 — re-exported: imported from emovc.audio.io
    CANCEL_DB,
    DC_LIMIT,
    MixStats,
    mono_mix,
    to_mono,
)
from emovc.audio.processing import check_sample_rate
from emovc.audio.wav_header import (  # noqa: F401 — re-exported: imported from emovc.audio.io
    ABSURD_DATA_SIZE,
    MAX_CHUNKS,
    UNKNOWN_DATA_SIZES,
    cut_tolerance,
    declared_frames,
)
from emovc.audio.writing import (  # noqa: F401 — re-exported: imported from emovc.audio.io
    WRITE_BLOCK,
    audio_writer,
    save_audio,
)
from emovc.errors import AudioError, EmovcWarning


@dataclass(frozen=True)
class AudioInfo:
    """Container-level facts about a file (no decoding of samples)."""

    path: str
    sample_rate: int
    channels: int
    duration: float  # seconds
    format: str


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Read the header of ``path``; raises :class:`AudioError` if it is not audio. The
    duration is the header's, also for a file cut short (a WAV's data chunk declares more
    than is there: :func:`declared_frames`; a FLAC's stream info)."""
    p = check_audio_path(path)
    try:
        info = sf.info(str(p))
    except Exception as exc:  # soundfile raises LibsndfileError/RuntimeError
        raise AudioError(f"not a readable audio file: {p} ({_short(exc)})") from None
    frames = declared_frames(p, int(info.frames), int(info.samplerate))  # a WAV cut short
    duration = frames / info.samplerate if frames > info.frames else float(info.duration)
    return AudioInfo(str(p), int(info.samplerate), int(info.channels), duration, info.format)


TAIL_FRAMES = 1024  # frames read at the end of a file to check that it is all there


def whole_audio_info(path: str | os.PathLike) -> AudioInfo:
    """:func:`audio_info` of a file that must be complete (an output to be reused), checked
    without decoding it whole: the header reads, it declares at least one frame, a WAV holds
    the data its header declares (:func:`declared_frames`: libsndfile would read a WAV cut
    short as a shorter, intact file), and its last :data:`TAIL_FRAMES` frames decode (a cut
    FLAC's header still declares its whole length).

    Raises:
        AudioError: missing, empty, unreadable, without frames, or cut short (one line
            naming the file and, for a cut, how much of it is there).
    """
    info = audio_info(path)  # a WAV cut short: the header's duration
    p = Path(path)
    try:
        with sf.SoundFile(str(p)) as f:
            frames, sr = int(f.frames), int(f.samplerate)
            if frames <= 0:
                raise AudioError(f"audio file has no samples: {p}")
            total = declared_frames(p, frames, sr)
            if total > frames:
                raise AudioError(f"damaged or truncated audio file: {p} (only "
                                 f"{frames / sr:.2f} s of its {total / sr:.2f} s are there)")
            f.seek(max(0, frames - TAIL_FRAMES))
            tail = f.read(frames - f.tell(), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise AudioError(f"damaged or truncated audio file: {p} (its end does not decode: "
                         f"{_short(exc)})") from None
    if len(tail) < min(frames, TAIL_FRAMES):
        raise AudioError(f"damaged or truncated audio file: {p} (its last frames are "
                         "missing)")
    return info


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__


def _decode(p: Path) -> tuple[np.ndarray, int]:
    """All frames of ``p`` as float32 ``(n, channels)`` and its rate; a damaged or truncated
    file's decodable start, with a warning (:func:`_salvage`, :func:`declared_frames`)."""
    try:
        data, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except Exception as exc:
        if p.suffix.lower() != ".mp3":
            salvaged = _salvage(p)  # a truncated or damaged file: its decodable start
            if salvaged is not None:
                return salvaged
            raise AudioError(f"not a readable audio file: {p} ({_short(exc)})") from None
    else:
        total = declared_frames(p, len(data), int(sr))
        if total > len(data):  # a WAV cut short: libsndfile reads what is there
            _cut_short(p, len(data), total, int(sr), None, stacklevel=4)
        return data, int(sr)
    try:  # old libsndfile without mp3: fall back to librosa's decoders
        import librosa

        y, sr = librosa.load(str(p), sr=None, mono=False)
    except Exception as exc:
        raise AudioError(f"not a readable audio file: {p} ({_short(exc)})") from None
    return np.atleast_2d(y).T.astype(np.float32), int(sr)


def resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono waveform with soxr (VHQ); returns float32."""
    if orig_sr == target_sr:
        return wav.astype(np.float32, copy=False)
    return soxr.resample(wav, orig_sr, target_sr, quality="VHQ").astype(np.float32)


def load_audio(path: str | os.PathLike, sr: int | None = DEFAULT_SR) -> np.ndarray:
    """Load ``path`` as mono float32 at ``sr`` Hz (``None`` keeps the file's rate, without
    returning it: :func:`load_audio_with_rate` returns it).

    Channels are averaged (refused if they cancel); a DC offset (a mean beyond
    :data:`DC_LIMIT`, 0.01, i.e. -40 dBFS) is removed; the audio is resampled with soxr.

    Returns:
        waveform of shape ``(n_samples,)``.

    Raises:
        AudioError: missing file, unsupported extension, undecodable or empty content, NaN
            or Inf samples (a float file; checked before the DC offset is removed), or an
            ``sr`` that is not a positive whole number of Hz.
    """
    if sr is not None:
        sr = check_sample_rate(sr, "sr")
    return _load_mono(path, sr)[0]


def load_channels(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Load ``path`` with its channels at its own rate; returns float32 ``(n_samples,
    n_channels)`` and the sample rate."""
    p = check_audio_path(path)
    data, file_sr = _decode(p)
    if data.size == 0:
        raise AudioError(f"audio file has no samples: {p}")
    return data, file_sr



def load_audio_with_rate(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Load ``path`` as mono float32 at its own rate, as :func:`load_audio` with ``sr=None``
    but returning the rate too.

    A DC offset (mean beyond :data:`DC_LIMIT`) is removed: it shifts level meters, silence
    detection, speaker embeddings and emotion features. Channels that cancel when mixed
    (one phase-inverted) are an :class:`AudioError` rather than a "silent" file.

    Returns:
        ``(wav, sample_rate)``: the waveform ``(n_samples,)`` and the file's rate in Hz.

    Raises:
        AudioError: as :func:`load_audio` (missing file, unsupported extension,
            undecodable or empty content, NaN or Inf samples).
    """
    return _load_mono(path, None)


def _load_mono(path: str | os.PathLike, sr: int | None) -> tuple[np.ndarray, int]:
    """Mono float32 of ``path`` at ``sr`` (``None``: its own rate) and that rate.

    Decoded in blocks, twice: once for the mix's statistics, once to mix, remove the DC
    offset and resample as a stream, so a long file costs its mono result and blocks rather
    than all its channels at its own rate (740 MB for ten minutes of 44.1 kHz stereo).
    Files soundfile cannot open (mp3 with an old libsndfile) are decoded whole."""
    p = check_audio_path(path)
    try:
        f = sf.SoundFile(str(p))
    except Exception:  # not for libsndfile: _decode's fallback (or its error)
        data, file_sr = load_channels(p)
        wav = mono_mix(data, p)
        return (wav, file_sr) if sr is None else (resample(wav, file_sr, sr), sr)
    try:
        with f:
            stats = MixStats(f.channels)
            frames = _scan(f, p, stats.feed)  # -1: all of them
            stats.check(p)
        with sf.SoundFile(str(p)) as f:  # reopened: a decoding error leaves f unusable
            out_sr = f.samplerate if sr is None else sr
            stream = (soxr.ResampleStream(f.samplerate, out_sr, 1, dtype="float32",
                                          quality="VHQ") if out_sr != f.samplerate else None)
            parts = []
            for block in f.blocks(READ_BLOCK, dtype="float32", always_2d=True, frames=frames):
                mix = stats.without_dc(to_mono(block))
                parts.append(stream.resample_chunk(mix) if stream is not None else mix)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise AudioError(f"not a readable audio file: {p} ({_short(exc)})") from None
    if stream is not None:
        parts.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    return np.concatenate(parts).astype(np.float32, copy=False), out_sr


def _salvage(p: Path) -> tuple[np.ndarray, int] | None:
    """The decodable start of a file libsndfile opens but cannot read whole, with a warning
    (see :func:`_scan`); ``None`` if it does not open or nothing decodes."""
    try:
        f = sf.SoundFile(str(p))
    except Exception:
        return None
    with f:
        blocks: list[np.ndarray] = []
        _scan(f, p, blocks.append)
        return (np.concatenate(blocks), int(f.samplerate)) if blocks else None


def _scan(f: sf.SoundFile, p: Path, feed: Callable[[np.ndarray], None]) -> int:
    """Pass every decodable block of ``f`` to ``feed``; returns -1 when the whole file
    decodes, else how many frames do (a truncated or damaged file, or a WAV whose data chunk
    declares more than is there (:func:`declared_frames`): its decodable start is used, with
    a warning, when it holds at least 0.1 s).

    Raises:
        AudioError: the file fails to decode, or ends, before 0.1 s.
    """
    good, error = 0, None
    try:
        for block in f.blocks(READ_BLOCK, dtype="float32", always_2d=True):
            feed(block)
            good += len(block)
    except (RuntimeError, sf.LibsndfileError) as exc:
        error = exc
        good = _salvage_rest(p, good, feed)
    total = declared_frames(p, f.frames, f.samplerate)
    if good >= total:  # whole, or it decodes in small pieces after all
        return -1
    _cut_short(p, good, total, f.samplerate, error, stacklevel=5)
    return good


def _salvage_rest(p: Path, good: int, feed: Callable[[np.ndarray], None]) -> int:
    """Feed the frames of ``p`` from ``good`` on in small pieces, up to where decoding stops
    (the block that failed, again); returns how many frames decode in all."""
    try:
        with sf.SoundFile(str(p)) as g:
            g.seek(good)
            for block in g.blocks(SALVAGE_BLOCK, dtype="float32", always_2d=True):
                feed(block)
                good += len(block)
    except (RuntimeError, sf.LibsndfileError):
        pass
    return good


def _cut_short(p: Path, good: int, total: int, sr: int, error: Exception | None,
               stacklevel: int) -> None:
    """Warn that only ``good`` of the ``total`` frames of ``p`` (at ``sr`` Hz) decode
    (``error``: the decoder's, ``None`` for a WAV cut short); ``stacklevel`` as for
    :func:`warnings.warn`, counted from the caller.

    Raises:
        AudioError: less than 0.1 s decodes.
    """
    if good < sr // 10:
        why = (f"decoding fails after {good / sr:.2f} s: {_short(error)}" if error is not None
               else f"only {good / sr:.2f} s of its {total / sr:.2f} s are there")
        raise AudioError(f"damaged or truncated audio file: {p} ({why})")
    warnings.warn(f"{p} is damaged or truncated: only its first {good / sr:.2f} s "
                  f"of {total / sr:.2f} s decode; using those", EmovcWarning,
                  stacklevel=stacklevel)


READ_BLOCK = 1 << 18  # frames per decoded block
SALVAGE_BLOCK = 1 << 12  # frames per block when finding where a damaged file stops decoding


def read_comment(path: str | os.PathLike) -> str:
    """Return the metadata comment of an audio file ('' when absent)."""
    with sf.SoundFile(str(check_audio_path(path))) as f:
        return f.comment or ""
