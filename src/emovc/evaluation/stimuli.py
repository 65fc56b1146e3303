"""The listening test's audio, served alike: one container, one sample rate, one loudness.

Listeners should tell the systems apart only by how they sound. Three other cues are removed
here. The container: FLAC sources next to WAV conversions gave the system away in the MIME
type and size. The sample rate. And the level: conversions follow the target emotion's level,
while RAVDESS takes are quiet, so the stimuli of one test were up to 19 dB apart, and "which
sounds more angry?" and naturalness partly measured level.

Every stimulus is served as mono 16-bit PCM WAV at the lowest sample rate among the test's
files. By default it is also scaled to one integrated loudness (ITU-R BS.1770 / EBU R128,
measured with ``pyloudnorm``), :data:`DEFAULT_LUFS`: the -26 dB customary in ITU-T
speech-quality tests (there as P.56 active speech level, within about 1 dB of it on speech).
The scaling is only a gain, with no compression. A clip whose peak would then pass
:data:`PEAK_LIMIT_DBFS` is scaled to that peak instead, so it is served a little quieter, and
a warning names it.
"""

from __future__ import annotations

import io
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from emovc.audio.io import audio_info, load_audio, load_audio_with_rate
from emovc.audio.processing import BS1770_BLOCK_S, active_rms_dbfs, integrated_loudness
from emovc.errors import AudioError, ConfigError, warn_every_time

DEFAULT_LUFS = -26.0
LUFS_RANGE = (-60.0, -10.0)  # quieter is noise-floor territory, louder clips speech peaks
PEAK_LIMIT_DBFS = -1.0
CACHE = 32  # rendered stimuli kept (a replay is served from memory)


@dataclass(frozen=True)
class Stimulus:
    """How one file is served."""

    path: str
    loudness: float  # LUFS at the serving rate (dBFS active level under 0.4 s; -inf silent)
    gain_db: float  # applied; 0 with loudness matching off or for a silent file
    limited: bool  # the gain was lowered to keep the peak at PEAK_LIMIT_DBFS


def check_loudness(lufs: float | None) -> float | None:
    """``lufs`` as a loudness target (``None``: no matching).

    Raises:
        ConfigError: not a number of LUFS within :data:`LUFS_RANGE`.
    """
    if lufs is None:
        return None
    try:
        value = float(lufs)
    except (TypeError, ValueError):
        value = math.nan
    if not LUFS_RANGE[0] <= value <= LUFS_RANGE[1]:
        raise ConfigError(f"--loudness must be {LUFS_RANGE[0]:g} to {LUFS_RANGE[1]:g} LUFS, "
                          f"got {lufs!r}")
    return value


def measure_loudness(wav: np.ndarray, sr: int) -> float:
    """Integrated BS.1770 loudness (LUFS) of mono ``wav`` ``(n,)`` at ``sr`` Hz; a clip
    shorter than one 400 ms gating block gets its active speech level (dBFS,
    :func:`~emovc.audio.processing.active_rms_dbfs`; within about 1 dB of LUFS on RAVDESS
    speech), digital silence ``-inf``."""
    if len(wav) < int(BS1770_BLOCK_S * sr):
        level = active_rms_dbfs(wav, sr)
        return level if level > -190 else -math.inf
    return integrated_loudness(wav, sr)


def native_rate(path: str) -> int:
    """The sample rate of ``path`` in Hz: its header's, or, where libsndfile cannot read
    the header (an mp3 with a libsndfile without MPEG), the rate the fallback decoder
    gives (:func:`~emovc.audio.io.load_audio_with_rate`, which decodes it).

    Raises:
        AudioError: a file neither reads.
    """
    try:
        return audio_info(path).sample_rate
    except AudioError:
        return load_audio_with_rate(path)[1]


class StimulusSet:
    """The files of one test, measured once, each rendered on request as WAV bytes.

    Args:
        paths: every audio file the test plays.
        loudness: target integrated loudness in LUFS; ``None`` serves each file at its
            stored level (still as WAV at the common rate).

    Raises:
        AudioError: a file that cannot be decoded (before anything is served).
        ConfigError: a ``loudness`` outside :data:`LUFS_RANGE`.
    """

    def __init__(self, paths: list[str | os.PathLike], loudness: float | None = DEFAULT_LUFS):
        self.target = check_loudness(loudness)
        files = list(dict.fromkeys(str(p) for p in paths))
        self.rate = min((native_rate(p) for p in files), default=16000)
        self.stimuli = {p: self._measure(p) for p in files}
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        limited = [s for s in self.stimuli.values() if s.limited]
        if limited:
            worst = min(limited, key=lambda s: s.loudness + s.gain_db)
            short = self.target - (worst.loudness + worst.gain_db)
            warn_every_time(f"{len(limited)} of {len(files)} stimuli would peak above "
                            f"{PEAK_LIMIT_DBFS:g} dBFS at {self.target:g} LUFS and are served "
                            f"up to {short:.1f} dB quieter ({worst.path}); a lower --loudness "
                            "keeps them all at one level")

    @property
    def label(self) -> str:
        """What the ratings file records: ``"-26.0 LUFS"`` or ``"off"``."""
        return "off" if self.target is None else f"{self.target:.1f} LUFS"

    def _measure(self, path: str) -> Stimulus:
        wav = load_audio(path, self.rate)
        level = measure_loudness(wav, self.rate)
        if self.target is None or not math.isfinite(level):
            return Stimulus(path, level, 0.0, False)
        gain = self.target - level
        peak = 20 * math.log10(max(float(np.max(np.abs(wav))), 1e-10))
        if peak + gain > PEAK_LIMIT_DBFS:
            return Stimulus(path, level, PEAK_LIMIT_DBFS - peak, True)
        return Stimulus(path, level, gain, False)

    def wav_bytes(self, path: str) -> bytes:
        """``path`` as served: mono 16-bit PCM WAV at :attr:`rate`, with its gain.

        Raises:
            KeyError: a file that is not a stimulus of this test.
        """
        stimulus = self.stimuli[str(path)]
        with self._lock:
            if stimulus.path in self._cache:
                self._cache.move_to_end(stimulus.path)
                return self._cache[stimulus.path]
        wav = load_audio(stimulus.path, self.rate).astype(np.float64)
        wav *= 10.0 ** (stimulus.gain_db / 20.0)
        buf = io.BytesIO()
        sf.write(buf, np.clip(wav, -1.0, 32767 / 32768), self.rate, format="WAV",
                 subtype="PCM_16")
        data = buf.getvalue()
        with self._lock:
            self._cache[stimulus.path] = data
            while len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        return data
