"""F0 features: continuous log-F0, log-Gaussian F0 conversion, CWT prosody decomposition.

The continuous wavelet transform (CWT) of the normalised, continuous log-F0 splits the
intonation into ``n_scales`` octave-spaced temporal scales (micro-prosody ... phrase), as in
Suni et al. (2013) and Ming et al. (2016, "Exemplar-based sparse representation of timbre and
prosody for voice conversion"/ "Deep BLSTM ... CWT F0"): Mexican-hat wavelet, scales
``tau0 * 2**i`` for ``i = 1..n_scales`` with ``tau0`` = one frame (5 ms). The transform itself
is `pycwt`'s (FFT-based, Torrence & Compo 1998 normalisation); see ``docs/features.md`` for the
measured reconstruction accuracy of the two inverses offered here.

All F0 arrays are per frame (WORLD grid, ``frame_period`` ms), in Hz, 0 = unvoiced.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pycwt

from emovc.errors import AudioError, ConfigError, choice_error

RECONSTRUCTIONS = ("icwt", "weighted")
_MEXICAN_HAT = pycwt.MexicanHat()


def voiced_span_seconds(voiced: np.ndarray, frame_period_ms: float) -> float:
    """Span from the first to the last voiced frame in seconds, at least one frame (a
    speaking-rate proxy); ``voiced``: ``(T,)`` bool, or F0 in Hz with 0 = unvoiced."""
    idx = np.flatnonzero(voiced)
    return max(float(idx[-1] - idx[0] + 1) if idx.size else 1.0, 1.0) * frame_period_ms / 1000.0


def continuous_log_f0(f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-F0 linearly interpolated through unvoiced frames.

    Args:
        f0: ``(T,)`` F0 in Hz, 0 (or negative) = unvoiced.

    Returns:
        ``(lf0, vuv)``: ``(T,)`` float64 natural-log F0 (edges held at the first/last voiced
        value) and ``(T,)`` bool voicing mask.

    Raises:
        AudioError: no voiced frame at all.
    """
    f0 = np.asarray(f0, dtype=np.float64).reshape(-1)
    vuv = f0 > 0
    if not vuv.any():
        raise AudioError("no voiced frames: cannot build a log-F0 contour (silence or noise?)")
    idx = np.arange(f0.shape[0])
    lf0 = np.interp(idx, idx[vuv], np.log(f0[vuv]))
    return lf0, vuv


@dataclass
class LogF0Stats:
    """Mean and standard deviation of natural-log F0 over voiced frames.

    Attributes:
        mean: mean of ``log(f0 / Hz)``.
        std: standard deviation of ``log(f0 / Hz)`` (> 0).
    """

    mean: float
    std: float

    @property
    def mean_hz(self) -> float:
        """Geometric-mean F0 in Hz, ``exp(mean)``."""
        return float(np.exp(self.mean))

    def to_dict(self) -> dict:
        """Plain-data copy."""
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> LogF0Stats:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(mean=float(d["mean"]), std=float(d["std"]))
        except (KeyError, TypeError) as e:
            raise ConfigError(f"bad LogF0Stats data {d!r}: need float 'mean' and 'std'") from e


def logf0_stats(f0s: Sequence[np.ndarray], min_std: float = 1e-3) -> LogF0Stats:
    """Log-F0 statistics pooled over the voiced frames of several utterances.

    Args:
        f0s: list of ``(T_i,)`` F0 arrays in Hz (0 = unvoiced), or a single array.
        min_std: floor for the standard deviation (a monotone voice has std ~ 0).

    Raises:
        AudioError: no voiced frame in any utterance.
    """
    if isinstance(f0s, np.ndarray) and f0s.ndim == 1:
        f0s = [f0s]
    voiced = [np.log(f[f > 0]) for f in (np.asarray(x, dtype=np.float64).ravel() for x in f0s)]
    lf0 = np.concatenate(voiced) if voiced else np.zeros(0)
    if lf0.size == 0:
        raise AudioError("no voiced frames: cannot compute log-F0 statistics")
    return LogF0Stats(mean=float(lf0.mean()), std=float(max(lf0.std(), min_std)))


def logf0_group_stats(f0s: Sequence[np.ndarray], keys: Sequence[Hashable],
                      ) -> dict[Hashable, LogF0Stats]:
    """Per-group (e.g. speaker, or ``(speaker, emotion)``) log-F0 statistics.

    Args:
        f0s: ``(T_i,)`` F0 arrays in Hz.
        keys: group key of each array, same length as ``f0s``.

    Returns:
        ``{key: LogF0Stats}`` over the voiced frames of each group.
    """
    if len(f0s) != len(keys):
        raise ConfigError(f"got {len(f0s)} F0 arrays but {len(keys)} group keys")
    groups: dict[Hashable, list[np.ndarray]] = {}
    for f0, key in zip(f0s, keys, strict=True):
        groups.setdefault(key, []).append(f0)
    return {key: logf0_stats(items) for key, items in groups.items()}


def convert_f0_gaussian(f0: np.ndarray, src: LogF0Stats, tgt: LogF0Stats) -> np.ndarray:
    """Log-Gaussian normalised F0 transform (mean/variance of log-F0 mapped src -> tgt).

    Args:
        f0: ``(T,)`` F0 in Hz, 0 = unvoiced.
        src: statistics of the source voice/emotion.
        tgt: statistics of the target.

    Returns:
        ``(T,)`` float64 F0 in Hz; unvoiced frames stay 0.
    """
    f0 = np.asarray(f0, dtype=np.float64)
    out = np.zeros_like(f0)
    v = f0 > 0
    out[v] = np.exp((np.log(f0[v]) - src.mean) / src.std * tgt.std + tgt.mean)
    return out


def cwt_scales(n_scales: int = 10, frame_period_ms: float = 5.0) -> np.ndarray:
    """Wavelet scales in seconds, ``tau0 * 2**i`` for ``i = 1..n_scales``, ``tau0`` = one frame."""
    return frame_period_ms / 1000.0 * 2.0 ** np.arange(1, n_scales + 1)


def cwt_decompose(lf0_norm: np.ndarray, n_scales: int = 10, frame_period_ms: float = 5.0,
                  ) -> np.ndarray:
    """Mexican-hat CWT of a normalised continuous log-F0 at octave scales.

    The input should be zero-mean, unit-variance continuous log-F0 (see
    :func:`continuous_log_f0`, :class:`LogF0Stats`); its mean is removed before the transform
    (a wavelet transform carries no DC).

    Args:
        lf0_norm: ``(T,)`` normalised log-F0, one value per frame (``(T, 1)`` and ``(1, T)``
            are flattened).
        n_scales: number of octave scales (10 -> 10 ms ... 5.12 s at 5 ms frames).
        frame_period_ms: frame hop in ms.

    Returns:
        ``(T, n_scales)`` float64 real CWT coefficients, finest scale first.

    Raises:
        ConfigError: another shape (a ``(T, k)`` array was flattened, interleaving its columns).
        AudioError: fewer than 2 frames or no scale.
    """
    x = np.asarray(lf0_norm, dtype=np.float64)
    if x.ndim != 1 and not (x.ndim == 2 and 1 in x.shape):
        raise ConfigError(f"log-F0 for the CWT must have shape (T,), got {x.shape}")
    x = x.reshape(-1)
    if x.shape[0] < 2 or n_scales < 1:
        raise AudioError(f"need >= 2 frames and >= 1 scale, got {x.shape[0]} and {n_scales}")
    dt = frame_period_ms / 1000.0
    # pycwt zero-pads to the next power of two; mean removal keeps that padding seamless
    w, _, _, _, _, _ = pycwt.cwt(x - x.mean(), dt, 1.0, 2.0 * dt, n_scales - 1, _MEXICAN_HAT)
    return np.ascontiguousarray(np.real(w).T)


def cwt_reconstruct(coeffs: np.ndarray, frame_period_ms: float = 5.0,
                    method: str = "icwt") -> np.ndarray:
    """Inverse of :func:`cwt_decompose` (up to the removed mean).

    Args:
        coeffs: ``(T, n_scales)`` CWT coefficients, finest scale first.
        frame_period_ms: frame hop in ms used for the decomposition.
        method: ``"icwt"`` (Torrence & Compo delta-function inverse, ``pycwt.icwt``: sum of
            coefficients weighted by ``1/sqrt(scale)``, default, amplitude-calibrated) or
            ``"weighted"`` (Suni/Ming weighting ``(i + 2.5) ** -2.5``, scaled so its weights
            sum to the ``"icwt"`` weights' sum).

    Returns:
        ``(T,)`` reconstructed zero-mean normalised log-F0.
    """
    if method not in RECONSTRUCTIONS:
        raise choice_error("CWT reconstruction", method, RECONSTRUCTIONS)
    c = np.asarray(coeffs, dtype=np.float64)
    if c.ndim != 2:
        raise ConfigError(f"CWT coefficients must have shape (T, n_scales), got {c.shape}")
    n_scales = c.shape[1]
    dt = frame_period_ms / 1000.0
    weights = _icwt_weights(n_scales, dt)
    if method == "weighted":
        ming = (np.arange(1, n_scales + 1) + 2.5) ** -2.5
        weights = ming * (weights.sum() / ming.sum())
    return c @ weights


def _icwt_weights(n_scales: int, dt: float) -> np.ndarray:
    """Per-scale weights of ``pycwt.icwt`` (Torrence & Compo eq. 11) with ``dj = 1``."""
    scales = 2.0 * dt * 2.0 ** np.arange(n_scales)
    return np.sqrt(dt) / (_MEXICAN_HAT.cdelta * _MEXICAN_HAT.psi(0)) / np.sqrt(scales)
