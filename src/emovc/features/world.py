"""WORLD vocoder analysis/synthesis and compact (coded) WORLD parameters.

Thin, validated wrappers around `pyworld` (the official WORLD bindings): F0 by DIO + StoneMask
(fast, default) or Harvest (more robust, ~8x slower), spectral envelope by CheapTrick and
aperiodicity by D4C, all on a fixed frame grid of ``frame_period`` ms.

The spectral envelope can be coded to ``mcep_dim`` coefficients ("mel-cepstrum") either with
WORLD's own ``code_spectral_envelope`` (mel-warped log spectrum + DCT, default: ~40x faster than
SPTK and of similar fidelity, see ``docs/features.md``) or with SPTK's all-pass mel-cepstrum
(``pysptk.sp2mc`` / ``mc2sp``, frequency warping ``mcep_alpha``, 0.41 at 16 kHz).

>>> import numpy as np
>>> from emovc.data.synthetic import synthesize as speech
>>> feats = analyze(speech(duration=1.0), WorldConfig())
>>> feats.f0.shape, feats.sp.shape
((201,), (201, 513))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pysptk
import pyworld

from emovc.config import PlainConfig
from emovc.errors import AudioError, ConfigError, choice_error

F0_METHODS = ("dio", "harvest")
ENVELOPE_CODINGS = ("pyworld", "pysptk")
MIN_FRAMES = 5  # fewer analysis frames than this is not speech we can analyse


@dataclass(frozen=True)
class WorldConfig(PlainConfig):
    """Settings of WORLD analysis/synthesis (stored with every model that uses WORLD features).

    Attributes:
        sample_rate: audio sample rate in Hz the features belong to.
        frame_period: hop between analysis frames in ms.
        f0_floor: lowest F0 searched, Hz.
        f0_ceil: highest F0 searched, Hz.
        f0_method: ``"dio"`` (DIO + StoneMask refinement) or ``"harvest"``.
        mcep_dim: coded spectral-envelope dimensions, including the energy term c0.
        fft_size: CheapTrick/D4C FFT size; envelopes have ``fft_size // 2 + 1`` bins.
        envelope_coding: ``"pyworld"`` (``code_spectral_envelope``) or ``"pysptk"`` (``sp2mc``).
        mcep_alpha: all-pass constant for ``"pysptk"`` coding; ``None`` = SPTK's recommended
            value for ``sample_rate`` (0.41 at 16 kHz).
    """

    sample_rate: int = 16000
    frame_period: float = 5.0
    f0_floor: float = 71.0
    f0_ceil: float = 800.0
    f0_method: str = "dio"
    mcep_dim: int = 36
    fft_size: int = 1024
    envelope_coding: str = "pyworld"
    mcep_alpha: float | None = None

    @property
    def hop_samples(self) -> int:
        """Frame hop in samples (``frame_period`` ms at ``sample_rate``, rounded): frame ``k``
        is centred on sample ``k * hop_samples``."""
        return int(round(self.sample_rate * self.frame_period / 1000))

    def __post_init__(self) -> None:
        if self.f0_method not in F0_METHODS:
            raise choice_error("F0 method", self.f0_method, F0_METHODS)
        if self.envelope_coding not in ENVELOPE_CODINGS:
            raise choice_error("envelope coding", self.envelope_coding, ENVELOPE_CODINGS)
        if self.sample_rate < 4000:
            raise ConfigError(f"sample_rate must be >= 4000 Hz, got {self.sample_rate}")
        if not 0.0 < self.frame_period <= 50.0:
            raise ConfigError(f"frame_period must be in (0, 50] ms, got {self.frame_period}")
        if not 0.0 < self.f0_floor < self.f0_ceil < self.sample_rate / 2:
            raise ConfigError(
                f"need 0 < f0_floor < f0_ceil < sample_rate/2, got {self.f0_floor}, {self.f0_ceil}"
            )
        if self.fft_size & (self.fft_size - 1) or self.fft_size < 64:
            raise ConfigError(f"fft_size must be a power of two >= 64, got {self.fft_size}")
        need = pyworld.get_cheaptrick_fft_size(self.sample_rate, self.f0_floor)
        if self.fft_size < need:
            raise ConfigError(
                f"fft_size {self.fft_size} too small for f0_floor {self.f0_floor} Hz at "
                f"{self.sample_rate} Hz; use fft_size >= {need}"
            )
        if not 2 <= self.mcep_dim <= self.fft_size // 2:
            raise ConfigError(f"mcep_dim must be in [2, {self.fft_size // 2}], got {self.mcep_dim}")

    @property
    def n_bins(self) -> int:
        """Number of envelope/aperiodicity bins, ``fft_size // 2 + 1``."""
        return self.fft_size // 2 + 1

    @property
    def alpha(self) -> float:
        """All-pass constant used by ``"pysptk"`` envelope coding."""
        if self.mcep_alpha is not None:
            return float(self.mcep_alpha)
        return float(pysptk.util.mcepalpha(self.sample_rate))

    def n_frames(self, n_samples: int) -> int:
        """Frames WORLD produces for ``n_samples`` of audio."""
        return int(1000.0 * n_samples / self.sample_rate / self.frame_period) + 1


@dataclass
class WorldFeatures:
    """WORLD parameters of one utterance on a ``frame_period`` grid.

    Attributes:
        f0: ``(T,)`` float64 F0 in Hz, 0 on unvoiced frames.
        sp: ``(T, fft_size // 2 + 1)`` float64 power spectral envelope (linear).
        ap: ``(T, fft_size // 2 + 1)`` float64 aperiodicity in [0, 1].
    """

    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.f0.shape[0])


def _check_wav(wav: np.ndarray, cfg: WorldConfig, sr: int | None) -> np.ndarray:
    if sr is not None and int(sr) != cfg.sample_rate:
        raise ConfigError(
            f"audio sample rate {sr} Hz does not match WorldConfig.sample_rate "
            f"{cfg.sample_rate} Hz; resample first"
        )
    x = np.asarray(wav)
    if x.ndim != 1:
        raise AudioError(f"expected mono audio of shape (n,), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise AudioError(f"expected float audio in [-1, 1], got dtype {x.dtype}")
    if cfg.n_frames(x.shape[0]) < MIN_FRAMES:
        ms = 1000.0 * x.shape[0] / cfg.sample_rate
        raise AudioError(
            f"audio too short for WORLD analysis: {ms:.1f} ms gives fewer than {MIN_FRAMES} frames"
        )
    if not np.all(np.isfinite(x)):
        raise AudioError("audio contains NaN or infinite samples")
    return np.ascontiguousarray(x, dtype=np.float64)


def analyze_f0(wav: np.ndarray, cfg: WorldConfig = WorldConfig(), sr: int | None = None,
               ) -> tuple[np.ndarray, np.ndarray]:
    """F0 only (no envelope/aperiodicity).

    Args:
        wav: ``(n,)`` float waveform at ``cfg.sample_rate``.
        cfg: analysis settings.
        sr: sample rate of ``wav`` if known; checked against ``cfg.sample_rate``.

    Returns:
        ``(f0, times)``: ``(T,)`` F0 in Hz (0 = unvoiced) and frame centres in seconds.
    """
    x = _check_wav(wav, cfg, sr)
    return track_f0(x, cfg)


def track_f0(x: np.ndarray, cfg: WorldConfig, dio_speed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """F0 track of float64 samples ``x`` at ``cfg.sample_rate``: Harvest, or DIO (internal
    decimation ``dio_speed``) refined by StoneMask; ``(f0 (T,) Hz, 0 = unvoiced, times (T,) s)``."""
    fs, fp = cfg.sample_rate, cfg.frame_period
    if cfg.f0_method == "harvest":
        return pyworld.harvest(x, fs, f0_floor=cfg.f0_floor, f0_ceil=cfg.f0_ceil, frame_period=fp)
    f0, t = pyworld.dio(x, fs, f0_floor=cfg.f0_floor, f0_ceil=cfg.f0_ceil, frame_period=fp,
                        speed=dio_speed)
    return pyworld.stonemask(x, f0, t, fs), t


def analyze(wav: np.ndarray, cfg: WorldConfig = WorldConfig(), sr: int | None = None,
            ) -> WorldFeatures:
    """WORLD analysis: F0, spectral envelope and aperiodicity.

    Args:
        wav: ``(n,)`` float waveform at ``cfg.sample_rate`` Hz, roughly in [-1, 1].
        cfg: analysis settings.
        sr: sample rate of ``wav`` if known; a mismatch with ``cfg`` raises ``ConfigError``.

    Returns:
        :class:`WorldFeatures` with ``T = n_frames(n)`` frames of ``cfg.frame_period`` ms.

    Raises:
        AudioError: not mono float audio, non-finite samples, or fewer than 5 frames.
        ConfigError: ``sr`` differs from ``cfg.sample_rate``.
    """
    x = _check_wav(wav, cfg, sr)
    f0, t = track_f0(x, cfg)
    fs = cfg.sample_rate
    sp = pyworld.cheaptrick(x, f0, t, fs, fft_size=cfg.fft_size)
    ap = pyworld.d4c(x, f0, t, fs, fft_size=cfg.fft_size)
    return WorldFeatures(f0=f0, sp=sp, ap=ap)


def _check_frames(name: str, arr: np.ndarray, n_bins: int | None = None) -> np.ndarray:
    a = np.ascontiguousarray(arr, dtype=np.float64)
    if n_bins is not None and (a.ndim != 2 or a.shape[1] != n_bins):
        raise ConfigError(f"{name} must have shape (T, {n_bins}), got {a.shape}")
    return a


def synthesize(f0: np.ndarray, sp: np.ndarray, ap: np.ndarray,
               cfg: WorldConfig = WorldConfig()) -> np.ndarray:
    """WORLD synthesis.

    Args:
        f0: ``(T,)`` F0 in Hz, 0 = unvoiced.
        sp: ``(T, fft_size // 2 + 1)`` power spectral envelope.
        ap: ``(T, fft_size // 2 + 1)`` aperiodicity in [0, 1].
        cfg: settings used at analysis time (sample rate, frame period, FFT size).

    Returns:
        ``(n,)`` float32 waveform at ``cfg.sample_rate`` Hz (``n ≈ (T-1) * hop``).
    """
    sp = _check_frames("sp", sp, cfg.n_bins)
    ap = _check_frames("ap", ap, cfg.n_bins)
    f0 = np.ascontiguousarray(f0, dtype=np.float64).reshape(-1)
    if not f0.shape[0] == sp.shape[0] == ap.shape[0]:
        raise ConfigError(f"frame counts differ: f0 {f0.shape[0]}, sp {sp.shape[0]}, "
                          f"ap {ap.shape[0]}")
    ap = np.clip(ap, 0.0, 1.0)
    y = pyworld.synthesize(f0, sp, ap, cfg.sample_rate, cfg.frame_period)
    return y.astype(np.float32)


def encode_envelope(sp: np.ndarray, cfg: WorldConfig = WorldConfig(), dim: int | None = None,
                    ) -> np.ndarray:
    """Code a power spectral envelope into ``dim`` mel-cepstrum-like coefficients.

    Args:
        sp: ``(T, fft_size // 2 + 1)`` power spectral envelope.
        cfg: ``envelope_coding`` picks WORLD's coder or SPTK's ``sp2mc`` (``cfg.alpha``).
        dim: number of coefficients (default ``cfg.mcep_dim``), including c0.

    Returns:
        ``(T, dim)`` float64 coded envelope.

    Raises:
        ConfigError: ``sp`` not ``(T, fft_size // 2 + 1)``, or ``dim`` outside
            ``1..fft_size // 2``.
    """
    sp = _check_frames("sp", sp, cfg.n_bins)
    dim = cfg.mcep_dim if dim is None else int(dim)
    _check_coefficients(dim, cfg)
    if cfg.envelope_coding == "pysptk":
        return pysptk.sp2mc(sp, dim - 1, cfg.alpha)
    return pyworld.code_spectral_envelope(sp, cfg.sample_rate, dim)


def decode_envelope(mcep: np.ndarray, cfg: WorldConfig = WorldConfig()) -> np.ndarray:
    """Inverse of :func:`encode_envelope`.

    Args:
        mcep: ``(T, D)`` coded envelope, ``1 <= D <= fft_size // 2`` (the ``dim`` it was
            coded with; need not equal ``cfg.mcep_dim``).
        cfg: the config used for encoding.

    Returns:
        ``(T, fft_size // 2 + 1)`` float64 power spectral envelope.

    Raises:
        ConfigError: another shape, e.g. an envelope ``(T, fft_size // 2 + 1)`` itself, which
            crashed the interpreter in pyworld's decoder.
    """
    mc = _check_frames("mcep", mcep)
    if mc.ndim != 2:
        raise ConfigError(f"mcep must have shape (T, D), got {mc.shape}")
    _check_coefficients(mc.shape[1], cfg, mc.shape)
    if cfg.envelope_coding == "pysptk":
        return pysptk.mc2sp(mc, cfg.alpha, cfg.fft_size)
    return pyworld.decode_spectral_envelope(mc, cfg.sample_rate, cfg.fft_size)


def _check_coefficients(dim: int, cfg: WorldConfig, shape: tuple | None = None) -> None:
    """Refuse a number of envelope coefficients outside ``1..fft_size // 2``."""
    top = cfg.fft_size // 2
    if not 1 <= dim <= top:
        got = f"mcep of shape {shape}" if shape is not None else f"dim {dim}"
        raise ConfigError(f"coded envelopes have 1 to {top} coefficients (mcep_dim "
                          f"{cfg.mcep_dim}; fft_size {cfg.fft_size}), got {got}")


def encode_aperiodicity(ap: np.ndarray, cfg: WorldConfig = WorldConfig()) -> np.ndarray:
    """Band aperiodicity (dB) from a full aperiodicity, ``(T, bins) -> (T, k)``.

    ``k = pyworld.get_num_aperiodicities(sample_rate)`` (1 band at 16 kHz, 5 at 44.1 kHz).
    """
    ap = _check_frames("ap", ap, cfg.n_bins)
    return pyworld.code_aperiodicity(ap, cfg.sample_rate)


def decode_aperiodicity(coded_ap: np.ndarray, cfg: WorldConfig = WorldConfig()) -> np.ndarray:
    """Inverse of :func:`encode_aperiodicity`, ``(T, k) -> (T, fft_size // 2 + 1)`` in [0, 1]."""
    k = pyworld.get_num_aperiodicities(cfg.sample_rate)
    cap = _check_frames("coded_ap", coded_ap, k)
    return pyworld.decode_aperiodicity(cap, cfg.sample_rate, cfg.fft_size)


def resynthesize(wav: np.ndarray, cfg: WorldConfig = WorldConfig(), sr: int | None = None,
                 ) -> np.ndarray:
    """Analysis + synthesis round trip, ``(n,) -> (n,)`` float32 at ``cfg.sample_rate``."""
    x = np.asarray(wav)
    feats = analyze(x, cfg, sr=sr)
    y = synthesize(feats.f0, feats.sp, feats.ap, cfg)
    return _fit_length(y, x.shape[0])


def _fit_length(y: np.ndarray, n: int) -> np.ndarray:
    if y.shape[0] >= n:
        return y[:n]
    return np.pad(y, (0, n - y.shape[0]))
