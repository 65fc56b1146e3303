"""Per-utterance acoustic analysis shared by the objective metrics (computed once per file).

Every objective metric of the suite uses one fixed front end so numbers stay comparable
across runs and models: WORLD (DIO + StoneMask F0, CheapTrick envelope) on 5 ms frames at
16 kHz, the envelope coded to 25 coefficients with ``pyworld.code_spectral_envelope`` and the
energy term c0 dropped (24 dims).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pyworld

from emovc.audio.processing import trim_bounds
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
    """

    sample_rate: int = 16000
    frame_period: float = 5.0
    f0_floor: float = 71.0
    f0_ceil: float = 800.0
    f0_method: str = "dio"
    mcep_dim: int = 25
    dtw_radius: int = 1
    trim_db: float | None = None
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
    """

    f0: np.ndarray
    mcep: np.ndarray
    duration: float
    start_s: float = 0.0


def analyze_utterance(wav: np.ndarray, cfg: MetricConfig = MetricConfig()) -> UtteranceFeatures:
    """WORLD F0 + coded envelope (c1..c24) of a ``(n,)`` float waveform at ``cfg.sample_rate``.

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
    return UtteranceFeatures(f0=f0, mcep=np.ascontiguousarray(mcep),
                             duration=len(wav) / cfg.sample_rate,
                             start_s=start / cfg.sample_rate)
