"""Per-utterance acoustic analysis shared by the objective metrics (computed once per file).

Every objective metric of the suite uses one fixed front end so numbers stay comparable
across runs and models: WORLD (DIO + StoneMask F0, CheapTrick envelope) on 5 ms frames at
16 kHz, the envelope coded to 25 coefficients with ``pyworld.code_spectral_envelope`` and the
energy term c0 dropped (24 dims). Each frame is also marked speech or not (:func:`speech_frames`)
for the MCD over speech frames.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pyworld

from emovc.audio.processing import SILENCE_DBFS, active_rms_dbfs, trim_bounds
from emovc.errors import ConfigError
from emovc.features.world import WorldConfig, analyze_f0, encode_envelope


@dataclass(frozen=True)
class MetricConfig:
    """Settings of the objective metrics (part of every metrics.json).

    Attributes:
        sample_rate: analysis rate in Hz; audio is resampled to it on load.
        frame_period: WORLD hop in ms.
        f0_floor: lowest F0 searched (Hz).
        f0_ceil: highest F0 searched (Hz).
        f0_method: ``"dio"`` (fast, default) or ``"harvest"``.
        mcep_dim: coded envelope size including c0 (c0 is dropped for MCD).
        dtw_radius: FastDTW radius in frames.
        trim_db: if set, trim leading/trailing audio quieter than this many dB below the
            peak before analysis (default ``None``: whole files, silences included).
        speech_db: a frame is speech (for the MCD over speech frames) when the 25 ms of
            audio around it are within this many dB of the file's active speech level
            (:func:`speech_frames`).
    """

    sample_rate: int = 16000
    frame_period: float = 5.0
    f0_floor: float = 71.0
    f0_ceil: float = 800.0
    f0_method: str = "dio"
    mcep_dim: int = 25
    dtw_radius: int = 1
    trim_db: float | None = None
    speech_db: float = 30.0
    world: WorldConfig = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.dtw_radius, bool) or not isinstance(self.dtw_radius,
                                                                (int, np.integer)) \
                or self.dtw_radius < 1:
            raise ConfigError(f"dtw_radius must be a whole number of frames, 1 or more, got "
                              f"{self.dtw_radius!r}")
        if self.trim_db is not None and not 0 < self.trim_db <= 120:
            raise ConfigError(f"trim_db must be in (0, 120] dB below the peak, got "
                              f"{self.trim_db:g} (e.g. 35; leave it unset to keep whole files)")
        if not 0 < self.speech_db <= 120:
            raise ConfigError(f"speech_db must be in (0, 120] dB below the active speech level, "
                              f"got {self.speech_db:g} (default 30)")
        world = WorldConfig(sample_rate=self.sample_rate, frame_period=self.frame_period,
                            f0_floor=self.f0_floor, f0_ceil=self.f0_ceil,
                            f0_method=self.f0_method, mcep_dim=self.mcep_dim)
        object.__setattr__(self, "world", world)

    def to_dict(self) -> dict:
        """Plain-data copy (without the derived WORLD config)."""
        d = asdict(self)
        d.pop("world", None)
        return d


@dataclass
class UtteranceFeatures:
    """What the metrics need from one utterance.

    Attributes:
        f0: ``(T,)`` F0 in Hz on the ``frame_period`` grid, 0 = unvoiced.
        mcep: ``(T, mcep_dim - 1)`` coded envelope without c0.
        duration: length of the audio in seconds.
        start_s: where the analysed audio starts in the file, in seconds (> 0 when
            ``trim_db`` trimmed leading silence; frame ``t`` is at ``start_s + t * hop``).
        speech: ``(T,)`` bool, frames that are speech (:func:`speech_frames`); ``None``
            when not computed (features made elsewhere).
    """

    f0: np.ndarray
    mcep: np.ndarray
    duration: float
    start_s: float = 0.0
    speech: np.ndarray | None = None


SPEECH_WINDOW_MS = 25.0  # audio around a frame whose power decides whether it is speech


def speech_frames(wav: np.ndarray, sr: int, n_frames: int, frame_period: float,
                  within_db: float = 30.0) -> np.ndarray:
    """Which analysis frames of ``wav`` are speech, ``(n_frames,)`` bool.

    Frame ``t`` (centred on sample ``t * frame_period * sr / 1000``, as WORLD's are) is speech
    when the mean power of the :data:`SPEECH_WINDOW_MS` of audio centred on it is within
    ``within_db`` dB of the file's active speech level
    (:func:`~emovc.audio.processing.active_rms_dbfs`: the loudest half of its 20 ms frames, so
    pauses and silences barely move it). The criterion is relative, so the same take scores
    the same at any gain; a file whose active level is below
    :data:`~emovc.audio.processing.SILENCE_DBFS` (silent) has no speech frame. On RAVDESS
    takes, 30 dB puts the edges of the speech where a threshold 40 dB below the loudest
    frame does (MCD over speech frames within 0.01 dB of it on 12 items).
    """
    x = np.asarray(wav, dtype=np.float64)
    level = active_rms_dbfs(np.asarray(wav, dtype=np.float32), sr)
    if level < SILENCE_DBFS or x.size == 0:
        return np.zeros(n_frames, dtype=bool)
    energy = np.concatenate([[0.0], np.cumsum(x * x)])
    half = max(1, int(round(sr * SPEECH_WINDOW_MS / 2000.0)))
    centres = np.round(np.arange(n_frames) * frame_period * sr / 1000.0).astype(np.int64)
    lo = np.clip(centres - half, 0, x.size)
    hi = np.clip(centres + half, 0, x.size)
    power = (energy[hi] - energy[lo]) / np.maximum(hi - lo, 1)
    return 10.0 * np.log10(np.maximum(power, 1e-20)) >= level - within_db


def analyze_utterance(wav: np.ndarray, cfg: MetricConfig = MetricConfig()) -> UtteranceFeatures:
    """WORLD F0 + coded envelope (c1..c24) of a ``(n,)`` float waveform at ``cfg.sample_rate``,
    and its speech frames (:func:`speech_frames`, ``cfg.speech_db``).

    Aperiodicity (D4C) is skipped: no metric uses it. ``duration`` is measured after the
    optional edge-silence trimming (``cfg.trim_db``).
    """
    start = 0
    if cfg.trim_db is not None:
        begin, end = trim_bounds(wav, cfg.sample_rate, top_db=cfg.trim_db, pad_ms=50.0)
        if end - begin >= cfg.sample_rate // 10:  # else too little is left: the whole file
            wav, start = wav[begin:end], begin
    f0, times = analyze_f0(wav, cfg.world)
    x = np.ascontiguousarray(wav, dtype=np.float64)
    sp = pyworld.cheaptrick(x, f0, times, cfg.sample_rate, fft_size=cfg.world.fft_size)
    mcep = encode_envelope(sp, cfg.world, dim=cfg.mcep_dim)[:, 1:]
    speech = speech_frames(wav, cfg.sample_rate, len(f0), cfg.frame_period, cfg.speech_db)
    return UtteranceFeatures(f0=f0, mcep=np.ascontiguousarray(mcep),
                             duration=len(wav) / cfg.sample_rate,
                             start_s=start / cfg.sample_rate, speech=speech)
