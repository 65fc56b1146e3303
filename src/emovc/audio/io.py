"""Read and write audio files.

``load_audio`` decodes wav/flac/ogg/aiff (libsndfile via soundfile) and mp3 (libsndfile ≥ 1.1,
else librosa/audioread as a fallback), mixes to mono and resamples with soxr (high quality).
``save_audio`` writes atomically (temporary file in the same folder, then rename), refuses to
overwrite unless ``force=True`` and can embed a provenance comment.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from emovc.audio.channels import ChannelEnvelopes, different_channels_note
from emovc.audio.processing import as_mono, check_sample_rate
from emovc.errors import AudioError, EmovcWarning, output_exists
from emovc.fileio import atomic_output

DEFAULT_SR = 16000
SUPPORTED_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".aifc")
WRITE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


@dataclass(frozen=True)
class AudioInfo:
    """Container-level facts about a file (no decoding of samples)."""

    path: str
    sample_rate: int
    channels: int
    duration: float  # seconds
    format: str


def _check_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise AudioError(f"file not found: {p}")
    if p.is_dir():
        raise AudioError(f"expected an audio file, got a folder: {p}")
    if p.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise AudioError(
            f"unsupported audio format {p.suffix or '(none)'!r} for {p}; "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if p.stat().st_size == 0:
        raise AudioError(f"empty file: {p}")
    return p


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Read the header of ``path``; raises :class:`AudioError` if it is not audio. The
    duration is the header's, also for a file cut short (a WAV's data chunk declares more
    than is there: :func:`declared_frames`; a FLAC's stream info)."""
    p = _check_path(path)
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
    p = _check_path(path)
    data, file_sr = _decode(p)
    if data.size == 0:
        raise AudioError(f"audio file has no samples: {p}")
    return data, file_sr


def to_mono(data: np.ndarray) -> np.ndarray:
    """The mono mix ``(n_samples,)`` float32 of ``(n_samples, n_channels)`` audio."""
    wav = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return np.ascontiguousarray(wav, dtype=np.float32)


# a mean beyond this (-40 dBFS) is a recording's DC offset, and is removed (8 of the 251
# LibriSpeech train-clean-100 clips of the development data have one, up to 0.26; RAVDESS and
# VCTK none)
DC_LIMIT = 0.01
CANCEL_DB = 20.0  # a mono mix this far below its channels means they cancel


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
    p = _check_path(path)
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


def declared_frames(path: str | os.PathLike, frames: int, sr: int) -> int:
    """The frames the header of a WAV file (RIFF, RIFX, RF64 or Sony Wave64) declares, when
    at least :func:`cut_tolerance` more than the ``frames`` present (at ``sr`` Hz); else
    ``frames`` (any other file, or one that is whole or short by a sliver only).

    Our own code, because libsndfile hides the damage: it clips a WAV's frame count to the
    bytes present, so a WAV cut short (an interrupted recording or download) would read as a
    shorter, intact file, while a cut FLAC fails to decode and is warned about. The data
    chunk's declared size is compared with the bytes after its start. A header that
    overstates its data by less (a sloppy writer's extra frame or pad byte) is not a cut,
    nor is a size a streaming writer leaves when it cannot seek back
    (:data:`UNKNOWN_DATA_SIZES`, or one of 2**62 bytes or more).
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            sizes = _wav_data_sizes(fh, p.stat().st_size)
    except (OSError, struct.error):
        return frames
    if sizes is None or frames <= 0 or sizes[0] <= sizes[1]:
        return frames
    declared, present = sizes
    total = round(frames * declared / present)  # bytes per frame: those present's
    return total if total - frames >= cut_tolerance(sr) else frames


def cut_tolerance(sr: int) -> int:
    """Frames a WAV's data may fall short of its header's size without being called cut:
    10 ms of them, and at least one frame."""
    return max(1, sr // 100)


#: data sizes a WAV writer that cannot seek back (a pipe, a live stream) leaves in the
#: header: 0, 0xFFFFFFFF (e.g. ffmpeg to a pipe), 0x7FFFFFFF (arecord) and 0x7FFFF000 (SoX);
#: an RF64 or Wave64 size of 2**64-1, or any other of :data:`ABSURD_DATA_SIZE` or more, too
UNKNOWN_DATA_SIZES = frozenset({0, 0xFFFFFFFF, 0x7FFFFFFF, 0x7FFFF000})
ABSURD_DATA_SIZE = 1 << 62  # bytes: no real file holds this much
_W64_RIFF = b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\x00\x00"
MAX_CHUNKS = 1000  # chunks walked before the data chunk at most (a real file has a few)


def _wav_data_sizes(fh, file_size: int) -> tuple[int, int] | None:
    """``(declared, present)`` bytes of the data chunk of the WAV file open in ``fh``;
    ``None``: not a WAV, no data chunk, or a size of :data:`UNKNOWN_DATA_SIZES` (or from
    :data:`ABSURD_DATA_SIZE` on)."""
    head = fh.read(40)
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        # 4-byte ids and sizes (RIFX: big-endian) after the chunk id, chunks 2-aligned
        w64, order, pos = False, ">" if head[:4] == b"RIFX" else "<", 12
    elif head[:16] == _W64_RIFF and head[24:28] == b"wave":
        # Wave64: 16-byte GUIDs, 8-byte sizes that count the 24-byte chunk header, 8-aligned
        w64, order, pos = True, "<", 40
    else:
        return None
    head_len, size_fmt, align = (24, "Q", 8) if w64 else (8, "I", 2)
    ds64 = None  # RF64: the data size, in the ds64 chunk
    for _ in range(MAX_CHUNKS):
        fh.seek(pos)
        chunk = fh.read(head_len + 16)
        if len(chunk) < head_len:
            return None
        (size,) = struct.unpack(order + size_fmt, chunk[head_len - struct.calcsize(size_fmt):
                                                        head_len])
        body = size - head_len if w64 else size  # bytes after the chunk header
        if chunk[:4] == b"ds64" and not w64 and len(chunk) >= 24:
            ds64 = struct.unpack("<Q", chunk[16:24])[0]  # after the RIFF size
        if chunk[:4] == b"data":
            if size == 0xFFFFFFFF and ds64 is not None:
                size = body = ds64
            if size in UNKNOWN_DATA_SIZES or size >= ABSURD_DATA_SIZE or body < 0:
                return None
            return body, file_size - pos - head_len
        if body < 0:
            return None
        pos += head_len + body + (-body % align)
    return None


READ_BLOCK = 1 << 18  # frames per decoded block
SALVAGE_BLOCK = 1 << 12  # frames per block when finding where a damaged file stops decoding
WRITE_BLOCK = 1 << 18  # frames per call to libsndfile when writing


class MixStats:
    """Running statistics of ``(n, channels)`` float32 audio fed in blocks: its mono mix's
    mean (the DC offset), whether its channels cancel when mixed and whether any sample is
    NaN or Inf (such blocks are counted but not summed: one Inf made the offset, and so
    every sample after its removal, non-finite)."""

    def __init__(self, channels: int):
        self.channels = channels
        self.n = 0
        self.finite = True
        self._sum = np.zeros(channels)
        self._sq = np.zeros(channels)
        self._mix_sum = self._mix_sq = 0.0
        self._envelopes = ChannelEnvelopes(channels) if channels > 1 else None

    def feed(self, block: np.ndarray) -> None:
        self.n += block.shape[0]
        if not self.finite or not np.isfinite(block).all():
            self.finite = False
            return
        mix = to_mono(block).astype(np.float64)
        self._mix_sum += float(mix.sum())
        self._mix_sq += float(np.dot(mix, mix))
        if self.channels > 1:
            b = block.astype(np.float64)
            self._sum += b.sum(axis=0)
            self._sq += np.einsum("ij,ij->j", b, b)
            self._envelopes.feed(b)

    @property
    def mean(self) -> float:
        """Mean of the mono mix."""
        return self._mix_sum / self.n if self.n else 0.0

    def without_dc(self, mix: np.ndarray) -> np.ndarray:
        """A block of the mono mix less the DC offset when it is beyond :data:`DC_LIMIT`."""
        return mix - np.float32(self.mean) if abs(self.mean) > DC_LIMIT else mix

    def check(self, path: str | os.PathLike) -> None:
        """Raise if the file is empty, has NaN or Inf samples, or if the mono mix is
        :data:`CANCEL_DB` below its channels' mean power while they are not silent (one
        channel phase-inverted); warn (:class:`~emovc.errors.EmovcWarning`) if the channels
        hold different sounds (:mod:`emovc.audio.channels`)."""
        if self.n == 0:
            raise AudioError(f"audio file has no samples: {path}")
        if not self.finite:
            raise AudioError(f"{path} contains NaN or Inf samples")
        if self.channels < 2:
            return
        chan = float(np.mean(self._sq / self.n - (self._sum / self.n) ** 2))
        mixed = self._mix_sq / self.n - self.mean**2
        if chan > 1e-8 and mixed < chan * 10 ** (-CANCEL_DB / 10):
            drop = 10 * np.log10(chan / max(mixed, 1e-30))
            how = (f"the mix is {drop:.0f} dB below them" if drop < 120
                   else "the mix is silent")
            raise AudioError(f"{path}: its {self.channels} channels cancel when mixed to mono "
                             f"({how}; is one phase-inverted?); save one channel and use that")
        powers = self._sq / self.n - (self._sum / self.n) ** 2
        note = different_channels_note(path, self.channels,
                                       self._envelopes.least_correlation(powers))
        if note:
            warnings.warn(note, EmovcWarning, stacklevel=4)


def mono_mix(data: np.ndarray, path: str | os.PathLike) -> np.ndarray:
    """The mono float32 ``(n,)`` every command reads from decoded ``(n, channels)`` audio of
    ``path``: channels mixed (refused if they cancel, or if any sample is NaN or Inf) and a
    DC offset beyond :data:`DC_LIMIT` removed (as :func:`load_audio` does while decoding)."""
    stats = MixStats(data.shape[1])
    stats.feed(data)
    stats.check(path)
    return stats.without_dc(to_mono(data))


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
    checked as :func:`load_audio` checks it (a whole number of Hz; ``16000.0`` is 16000).
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
    _check_target(Path(path), force)
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


def _check_target(p: Path, force: bool) -> str:
    ext = p.suffix.lower()
    if ext not in WRITE_FORMATS:
        raise AudioError(
            f"cannot write {ext or '(no extension)'!r}: {p}; use one of {', '.join(WRITE_FORMATS)}"
        )
    if p.exists() and not force:
        raise output_exists(p)
    return ext


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
    ext = _check_target(p, force)
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


def read_comment(path: str | os.PathLike) -> str:
    """Return the metadata comment of an audio file ('' when absent)."""
    with sf.SoundFile(str(_check_path(path))) as f:
        return f.comment or ""
