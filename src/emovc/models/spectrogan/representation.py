"""Spectrogram "images" for SpectroGAN: float log-magnitude, normalised per bin to [-1, 1].

The published SpectroGAN quantised |STFT| to 8-bit greyscale PNGs, which throws away most of
the dynamic range. Here the natural-log magnitude ``L = log(max(|X|, floor))`` stays float; each
frequency bin is standardised with statistics of the training data (both emotions pooled) and
divided by ``clip_sigma`` before clipping to ``[-1, 1]`` (the generator's tanh range)::

    x = clip((L - mean_f) / (clip_sigma * std_f), -1, 1)

The network sees ``freq_size`` rows: fewer than the STFT bins (e.g. 256 of 257) means the top
bins are passed through unchanged; more (e.g. 260 for 257) means padding with silence (-1), as
the published 260×260 images did.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import scipy.fft

from emovc.config import PlainConfig
from emovc.errors import ConfigError
from emovc.features.spectral import STFTConfig
from emovc.features.stats import FeatureStats


@dataclass(frozen=True)
class SpecConfig(PlainConfig):
    """STFT and image settings.

    Attributes:
        sample_rate: audio rate in Hz.
        n_fft: FFT size (``n_fft // 2 + 1`` bins).
        hop_length: hop in samples (256 at 16 kHz = 16 ms in the published system).
        freq_size: image rows fed to the networks (multiple of 4).
        clip_sigma: standard deviations mapped to ±1.
        floor: magnitude floor before the log.
    """

    sample_rate: int = 16000
    n_fft: int = 512
    hop_length: int = 128
    freq_size: int = 256
    clip_sigma: float = 3.0
    floor: float = 1e-5

    def __post_init__(self) -> None:
        if self.freq_size % 4 or self.freq_size < 4:
            raise ConfigError(f"freq_size must be a positive multiple of 4, got {self.freq_size}")
        self.stft  # noqa: B018 - validates the STFT settings

    @property
    def stft(self) -> STFTConfig:
        """The matching :class:`emovc.features.spectral.STFTConfig`."""
        return STFTConfig(self.sample_rate, self.n_fft, self.hop_length)

    @property
    def n_bins(self) -> int:
        """STFT frequency bins."""
        return self.n_fft // 2 + 1


def analyze(wav: np.ndarray, cfg: SpecConfig) -> tuple[np.ndarray, np.ndarray]:
    """Log-magnitude and phase of ``wav``.

    Uses ``librosa.stft`` with the framing of :func:`emovc.features.spectral.stft_magnitude`
    (centred, reflect padding, periodic Hann), which exposes no phase.

    Returns:
        ``(log_mag, phase)``, both ``(n_bins, 1 + n // hop)`` float32; natural log, radians.
    """
    spec = librosa.stft(np.asarray(wav, dtype=np.float32), n_fft=cfg.n_fft,
                        hop_length=cfg.hop_length, center=True, pad_mode="reflect")
    log_mag = np.log(np.maximum(np.abs(spec), cfg.floor)).astype(np.float32)
    return log_mag, np.angle(spec).astype(np.float32)


def activity(log_mag: np.ndarray, range_db: float = 35.0, ramp_db: float = 10.0) -> np.ndarray:
    """Speech-activity weight of each frame of a ``(n_bins, T)`` natural-log magnitude.

    ``(T,)`` in [0, 1]: 1 for frames whose energy is within ``range_db`` of the loudest frame,
    0 below ``range_db + ramp_db``, linear in between (silences and the noise floor get 0).
    """
    lm = np.asarray(log_mag, np.float64)
    peak = lm.max(0)
    energy = 10.0 * np.log10(np.exp(2.0 * (lm - peak)).mean(0) + 1e-30) + 20.0 * peak / np.log(10)
    return np.clip((energy - (energy.max() - range_db - ramp_db)) / ramp_db, 0.0, 1.0)


def active_mean(log_mag: np.ndarray) -> np.ndarray:
    """``(n_bins,)`` activity-weighted mean of a ``(n_bins, T)`` log-magnitude (see
    :func:`activity`): the utterance's average spectrum over speech."""
    w = activity(log_mag)
    return (np.asarray(log_mag, np.float64) * w).sum(1) / max(float(w.sum()), 1e-9)


def lifter(log_spectrum: np.ndarray, n_coefs: int) -> np.ndarray:
    """Smooth ``(..., n_bins)`` log-spectra along frequency by keeping their first ``n_coefs``
    cosine (cepstral) coefficients (orthonormal DCT-II, even extension at both ends);
    ``n_coefs <= 0`` returns the input unchanged."""
    x = np.asarray(log_spectrum, np.float64)
    if n_coefs <= 0 or n_coefs >= x.shape[-1]:
        return x
    c = scipy.fft.dct(x, axis=-1, norm="ortho")
    c[..., n_coefs:] = 0.0
    return scipy.fft.idct(c, axis=-1, norm="ortho")


class Normalizer:
    """Per-bin log-magnitude standardisation ↔ ``[-1, 1]`` network images."""

    def __init__(self, cfg: SpecConfig, stats: FeatureStats) -> None:
        if stats.dim != cfg.n_bins:
            raise ConfigError(f"statistics have {stats.dim} bins, STFT has {cfg.n_bins}")
        self.cfg = cfg
        self.stats = stats

    def to_image(self, log_mag: np.ndarray) -> np.ndarray:
        """``(n_bins, T)`` log-magnitude -> ``(freq_size, T)`` float32 image in [-1, 1]."""
        z = self.stats.normalize(log_mag.T).T / self.cfg.clip_sigma
        z = np.clip(z, -1.0, 1.0).astype(np.float32)
        rows = self.cfg.freq_size
        if rows <= z.shape[0]:
            return np.ascontiguousarray(z[:rows])
        pad = np.full((rows - z.shape[0], z.shape[1]), -1.0, dtype=np.float32)
        return np.concatenate([z, pad], axis=0)

    def from_image(self, image: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """``(freq_size, T)`` image -> ``(n_bins, T)`` log-magnitude.

        Bins the network does not see are copied from ``reference`` (the input image
        before cropping, ``(n_bins, T)`` in normalised units).
        """
        n = self.cfg.n_bins
        z = image[:n] if image.shape[0] >= n else np.concatenate(
            [image, reference[image.shape[0]:]], axis=0)
        return self.stats.denormalize((z * self.cfg.clip_sigma).T).T.astype(np.float32)

    def image_offset(self, log_offset: np.ndarray) -> np.ndarray:
        """``(n_bins,)`` natural-log magnitude offset -> ``(freq_size,)`` offset in image units
        (rows beyond ``n_bins`` get 0): ``to_image(L + d) == to_image(L) + image_offset(d)``
        wherever neither side is clipped."""
        d = np.asarray(log_offset, np.float64) / (self.stats.std * self.cfg.clip_sigma)
        rows = self.cfg.freq_size
        out = np.zeros(rows, np.float32)
        out[:min(rows, d.shape[0])] = d[:rows]
        return out

    def image_activity(self, image: np.ndarray) -> np.ndarray:
        """:func:`activity` of a ``(freq_size, T)`` image (its first ``n_bins`` rows
        denormalised): ``(T,)`` speech weights in [0, 1]."""
        n = min(self.cfg.n_bins, image.shape[0])
        st = self.stats
        lm = np.asarray(image[:n], np.float64) * (self.cfg.clip_sigma * st.std[:n, None])
        return activity(lm + st.mean[:n, None])

    def clipped(self, log_mag: np.ndarray) -> np.ndarray:
        """Normalised, clipped ``(n_bins, T)`` version of ``log_mag`` (no row change)."""
        z = self.stats.normalize(log_mag.T).T / self.cfg.clip_sigma
        return np.clip(z, -1.0, 1.0).astype(np.float32)
